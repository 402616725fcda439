//! Online/offline supervision, as a pure core: fed with what units send and
//! with the time, it says which units just went silent.
//!
//! A unit is online from its first message (or its retained `online`
//! status) and offline when it says so (clean shutdown, or the last
//! will when its connection drops) or when nothing has come from it for
//! `offline_after`. The owner sleeps until [`Supervisor::next_deadline`].

use std::collections::{BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::UnitId;

/// Tracks when each unit was last heard from.
#[derive(Debug)]
pub struct Supervisor {
    offline_after: SignedDuration,
    last_heard: HashMap<UnitId, Timestamp>,
    // (deadline, unit), so the earliest deadline is first.
    deadlines: BTreeSet<(Timestamp, UnitId)>,
}

impl Supervisor {
    /// A supervisor that declares a unit offline after `offline_after` of
    /// silence.
    pub fn new(offline_after: SignedDuration) -> Supervisor {
        Supervisor {
            offline_after,
            last_heard: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Something came from `unit` at `at`. Returns true when the unit was
    /// not being watched (it is back: the caller marks it online).
    pub fn heard(&mut self, unit: UnitId, at: Timestamp) -> bool {
        let previous = self.last_heard.insert(unit, at);
        if let Some(previous) = previous {
            self.deadlines
                .remove(&(previous + self.offline_after, unit));
        }
        self.deadlines.insert((at + self.offline_after, unit));
        previous.is_none()
    }

    /// `unit` said it is offline (or its last will did): stop watching it.
    pub fn gone(&mut self, unit: UnitId) {
        if let Some(previous) = self.last_heard.remove(&unit) {
            self.deadlines
                .remove(&(previous + self.offline_after, unit));
        }
    }

    /// The units that have been silent too long at `now`, each with the
    /// instant it became offline (last heard + `offline_after`). They are
    /// no longer watched until heard from again.
    pub fn expire(&mut self, now: Timestamp) -> Vec<(UnitId, Timestamp)> {
        let mut out = Vec::new();
        while let Some(&(deadline, unit)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            self.last_heard.remove(&unit);
            out.push((unit, deadline));
        }
        out
    }

    /// When the next unit would go offline if it stays silent.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    /// How many units are watched (believed online).
    pub fn watched(&self) -> usize {
        self.last_heard.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(n: u8) -> UnitId {
        UnitId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap()
    }

    #[test]
    fn a_silent_unit_goes_offline_after_the_interval_and_a_talking_one_does_not() {
        let mut s = Supervisor::new(SignedDuration::from_secs(12));
        s.heard(unit(1), t(0));
        s.heard(unit(2), t(0));
        for second in (5..=20).step_by(5) {
            s.heard(unit(2), t(second));
        }
        assert_eq!(s.expire(t(11)), vec![]);
        assert_eq!(s.next_deadline(), Some(t(12)));
        assert_eq!(s.expire(t(20)), vec![(unit(1), t(12))]);
        assert_eq!(s.watched(), 1);
        assert_eq!(s.expire(t(32)), vec![(unit(2), t(32))]);
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn heard_says_when_a_unit_comes_back() {
        let mut s = Supervisor::new(SignedDuration::from_secs(12));
        assert!(s.heard(unit(1), t(0)), "first message");
        assert!(!s.heard(unit(1), t(5)));
        assert_eq!(s.expire(t(30)), vec![(unit(1), t(17))]);
        assert!(s.heard(unit(1), t(31)), "back after going silent");
    }

    #[test]
    fn a_unit_that_says_goodbye_is_not_expired_again() {
        let mut s = Supervisor::new(SignedDuration::from_secs(12));
        s.heard(unit(1), t(0));
        s.gone(unit(1));
        assert_eq!(s.expire(t(100)), vec![]);
    }
}
