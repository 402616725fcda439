//! The one rule that turns a site's wall-clock time into an instant.
//!
//! Daylight saving time makes some wall-clock times happen never (the
//! spring-forward gap) and some twice (the fall-back fold). Customers write
//! schedules in wall-clock time and expect:
//!
//! - **Gap**: a time that the clocks skip happens *at the moment they skip
//!   it*. On the night Copenhagen goes from 02:00 to 03:00, "arm at 02:30"
//!   arms at 03:00 CEST — the first instant after 02:29 that exists. A window
//!   that lies wholly inside the gap (02:10–02:40) collapses to nothing that
//!   night.
//! - **Fold**: a time that happens twice means its *first* occurrence. On the
//!   night New York goes from 02:00 EDT back to 01:00 EST, "disarm at 01:30"
//!   disarms at 01:30 EDT, and a window 01:00–01:30 lasts 30 minutes.
//!
//! The mapping is monotone (a later wall-clock time never gives an earlier
//! instant), so a window never turns inside out.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

/// The instant at which the wall-clock time `local` happens in `tz`, by the
/// rule above. `None` only outside jiff's supported range (years ±9999).
pub fn resolve(tz: &TimeZone, local: DateTime) -> Option<Timestamp> {
    match tz.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local).ok(),
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local).ok(),
        AmbiguousOffset::Gap { before, after } => {
            // Read with the later offset, the time lies before the
            // transition; the first transition after it is the jump itself.
            let early = after.to_timestamp(local).ok()?;
            match tz.following(early).next() {
                Some(transition) => Some(transition.timestamp()),
                None => before.to_timestamp(local).ok(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::zone::lookup;
    use jiff::civil::date;

    fn at(tz: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> String {
        let tz = lookup(tz).unwrap();
        let ts = resolve(&tz, date(y, mo, d).at(h, mi, 0, 0)).unwrap();
        ts.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string()
    }

    #[test]
    fn gap_time_happens_at_the_jump_copenhagen() {
        // 2026-03-29: 02:00 CET -> 03:00 CEST.
        assert_eq!(
            at("Europe/Copenhagen", 2026, 3, 29, 2, 30),
            "2026-03-29 03:00 CEST"
        );
        assert_eq!(
            at("Europe/Copenhagen", 2026, 3, 29, 2, 0),
            "2026-03-29 03:00 CEST"
        );
        assert_eq!(
            at("Europe/Copenhagen", 2026, 3, 29, 1, 59),
            "2026-03-29 01:59 CET"
        );
        assert_eq!(
            at("Europe/Copenhagen", 2026, 3, 29, 3, 0),
            "2026-03-29 03:00 CEST"
        );
    }

    #[test]
    fn gap_time_happens_at_the_jump_new_york() {
        // 2026-03-08: 02:00 EST -> 03:00 EDT.
        assert_eq!(
            at("America/New_York", 2026, 3, 8, 2, 30),
            "2026-03-08 03:00 EDT"
        );
    }

    #[test]
    fn fold_time_means_first_occurrence() {
        // New York 2026-11-01: 02:00 EDT -> 01:00 EST; 01:30 happens twice.
        assert_eq!(
            at("America/New_York", 2026, 11, 1, 1, 30),
            "2026-11-01 01:30 EDT"
        );
        // Copenhagen 2026-10-25: 03:00 CEST -> 02:00 CET.
        assert_eq!(
            at("Europe/Copenhagen", 2026, 10, 25, 2, 30),
            "2026-10-25 02:30 CEST"
        );
    }

    #[test]
    fn mapping_is_monotone_across_transition_nights() {
        for (tz, d) in [
            ("Europe/Copenhagen", date(2026, 3, 29)),
            ("Europe/Copenhagen", date(2026, 10, 25)),
            ("America/New_York", date(2026, 3, 8)),
            ("America/New_York", date(2026, 11, 1)),
        ] {
            let zone = lookup(tz).unwrap();
            let mut last = None;
            for minute in 0..(24 * 60) {
                let local = d.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
                let ts = resolve(&zone, local).unwrap();
                if let Some(prev) = last {
                    assert!(ts >= prev, "{tz} {local}: {ts} < {prev}");
                }
                last = Some(ts);
            }
        }
    }
}
