//! Draining the outbox: which events to send now, as a pure core.
//!
//! Events leave in sequence order, at most `max_in_flight` unacknowledged at
//! a time. An event sent and not acknowledged within `resend_after` is sent
//! again (the hub stores it once and acknowledges it again). A new
//! connection starts over from the oldest event in the outbox, because
//! anything in flight on the old connection may be lost.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

/// What the drain needs from the store.
pub trait OutboxRows {
    /// Sequence numbers above `after`, in order, at most `limit`.
    fn seqs_after(&self, after: u64, limit: usize) -> Vec<u64>;
}

/// The drain's state.
#[derive(Debug)]
pub struct Drain {
    max_in_flight: usize,
    resend_after: SignedDuration,
    connected: bool,
    /// Sent and not acknowledged: seq → when sent.
    in_flight: BTreeMap<u64, Timestamp>,
    /// The highest seq sent on this connection.
    sent_up_to: u64,
}

impl Drain {
    /// A disconnected drain.
    pub fn new(max_in_flight: usize, resend_after: SignedDuration) -> Drain {
        Drain {
            max_in_flight: max_in_flight.max(1),
            resend_after,
            connected: false,
            in_flight: BTreeMap::new(),
            sent_up_to: 0,
        }
    }

    /// A (new) connection is up: start over.
    pub fn connected(&mut self) {
        self.connected = true;
        self.in_flight.clear();
        self.sent_up_to = 0;
    }

    /// The connection is down: send nothing until the next one.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.in_flight.clear();
    }

    /// The sequence numbers to send at `now` (resends first), marked as sent.
    pub fn due(&mut self, now: Timestamp, rows: &impl OutboxRows) -> Vec<u64> {
        if !self.connected {
            return Vec::new();
        }
        let mut out: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, sent)| **sent + self.resend_after <= now)
            .map(|(seq, _)| *seq)
            .collect();
        let room = self.max_in_flight.saturating_sub(self.in_flight.len());
        if room > 0 {
            let fresh = rows.seqs_after(self.sent_up_to, room);
            if let Some(last) = fresh.last() {
                self.sent_up_to = *last;
            }
            out.extend(fresh);
        }
        for seq in &out {
            self.in_flight.insert(*seq, now);
        }
        out
    }

    /// The hub acknowledged these (already deleted from the store).
    pub fn acknowledged(&mut self, seqs: &[u64]) {
        for seq in seqs {
            self.in_flight.remove(seq);
        }
    }

    /// When [`Drain::due`] next has something to resend, if anything is in flight.
    pub fn next_resend(&self) -> Option<Timestamp> {
        self.in_flight
            .values()
            .min()
            .map(|sent| *sent + self.resend_after)
    }

    /// Events sent and not acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// The store's outbox, as a sorted list of seqs.
    struct Fake(RefCell<Vec<u64>>);

    impl OutboxRows for Fake {
        fn seqs_after(&self, after: u64, limit: usize) -> Vec<u64> {
            self.0
                .borrow()
                .iter()
                .copied()
                .filter(|s| *s > after)
                .take(limit)
                .collect()
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap()
    }

    fn drain() -> Drain {
        Drain::new(3, SignedDuration::from_secs(10))
    }

    #[test]
    fn nothing_is_sent_while_disconnected() {
        let rows = Fake(RefCell::new(vec![1, 2]));
        let mut d = drain();
        assert!(d.due(t(0), &rows).is_empty());
    }

    #[test]
    fn events_leave_in_order_within_the_window_and_acks_make_room() {
        let rows = Fake(RefCell::new((1..=5).collect()));
        let mut d = drain();
        d.connected();
        assert_eq!(d.due(t(0), &rows), [1, 2, 3]);
        assert_eq!(d.due(t(1), &rows), Vec::<u64>::new(), "window full");
        rows.0.borrow_mut().retain(|s| *s != 1 && *s != 2);
        d.acknowledged(&[1, 2]);
        assert_eq!(d.due(t(2), &rows), [4, 5]);
        assert_eq!(d.in_flight(), 3);
    }

    #[test]
    fn an_unacknowledged_event_is_resent_after_the_timeout() {
        let rows = Fake(RefCell::new(vec![1]));
        let mut d = drain();
        d.connected();
        assert_eq!(d.due(t(0), &rows), [1]);
        assert_eq!(d.next_resend(), Some(t(10)));
        assert!(d.due(t(9), &rows).is_empty());
        assert_eq!(d.due(t(10), &rows), [1]);
        assert_eq!(d.next_resend(), Some(t(20)));
    }

    #[test]
    fn a_new_connection_starts_over_from_the_oldest_event() {
        let rows = Fake(RefCell::new(vec![1, 2]));
        let mut d = drain();
        d.connected();
        assert_eq!(d.due(t(0), &rows), [1, 2]);
        d.disconnected();
        assert!(d.due(t(1), &rows).is_empty());
        d.connected();
        assert_eq!(d.due(t(2), &rows), [1, 2], "both may have been lost");
    }
}
