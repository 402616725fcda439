//! Debouncing of offline and tamper items: a condition raises a queue item
//! only when it has lasted `debounce`, so a unit that reboots or a door
//! that rattles the enclosure switch for a moment does not page anyone.
//!
//! The owner notes when the condition started, sleeps until
//! [`next_offline_check`], then asks [`offline_item_due`] and raises the
//! item if so. When the condition clears first (the unit is back, the
//! enclosure is closed) the owner simply forgets the start instant and stops
//! checking: nothing is raised and nothing needs undoing. Tamper uses the
//! same two functions with the instant the enclosure opened as
//! `offline_since`.

use jiff::{SignedDuration, Timestamp};

/// Whether a condition that started at `offline_since` has lasted long
/// enough at `now` to raise an item: `now - offline_since >= debounce`.
/// A `now` before `offline_since` (a clock step back) is never due.
pub fn offline_item_due(
    offline_since: Timestamp,
    now: Timestamp,
    debounce: SignedDuration,
) -> bool {
    now.duration_since(offline_since) >= debounce
}

/// The instant from which [`offline_item_due`] is true, for the owner's
/// timer: `offline_since + debounce`, saturating at the ends of the
/// representable range.
pub fn next_offline_check(offline_since: Timestamp, debounce: SignedDuration) -> Timestamp {
    offline_since
        .checked_add(debounce)
        .unwrap_or(if debounce.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + second).unwrap()
    }

    const DEBOUNCE: SignedDuration = SignedDuration::from_secs(60);

    #[test]
    fn offline_item_due_only_from_the_debounce_boundary() {
        let since = at(0);
        let cases = [
            (at(0), false),
            (at(59), false),
            (at(60) - SignedDuration::from_nanos(1), false),
            (at(60), true),
            (at(61), true),
            (at(3_600), true),
        ];
        for (now, due) in cases {
            assert_eq!(offline_item_due(since, now, DEBOUNCE), due, "now {now}");
        }
    }

    #[test]
    fn a_clock_step_back_is_not_due() {
        assert!(!offline_item_due(at(100), at(10), DEBOUNCE));
    }

    #[test]
    fn zero_debounce_is_due_at_once() {
        assert!(offline_item_due(at(5), at(5), SignedDuration::ZERO));
    }

    #[test]
    fn next_offline_check_is_where_it_becomes_due() {
        let since = at(17);
        let check = next_offline_check(since, DEBOUNCE);
        assert_eq!(check, at(77));
        assert!(offline_item_due(since, check, DEBOUNCE));
        assert!(!offline_item_due(
            since,
            check - SignedDuration::from_nanos(1),
            DEBOUNCE
        ));
    }

    #[test]
    fn next_offline_check_saturates_instead_of_panicking() {
        assert_eq!(next_offline_check(Timestamp::MAX, DEBOUNCE), Timestamp::MAX);
        assert_eq!(
            next_offline_check(Timestamp::MIN, -DEBOUNCE),
            Timestamp::MIN
        );
    }
}
