//! When reports go out, in each site's own time zone. Pure: the instant is
//! an argument. Local days are computed with jiff, so a daily report goes
//! out at the same wall-clock time across DST changes and a summary covers
//! a 23- or 25-hour day when the clocks change.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// The local day `[start, end)` of `date` in `tz`, as instants (a DST day
/// is 23 or 25 hours long).
pub fn local_day(date: Date, tz: &TimeZone) -> Option<(Timestamp, Timestamp)> {
    let start = date.to_zoned(tz.clone()).ok()?.timestamp();
    let end = date.tomorrow().ok()?.to_zoned(tz.clone()).ok()?.timestamp();
    Some((start, end))
}

/// Which local day's summary is due at `now`, if any: once the site's
/// clock has passed `send_at` on a day, the summary of the day before is
/// due, unless it was already sent (`last_sent` covers it or later).
pub fn daily_due(
    now: Timestamp,
    tz: &TimeZone,
    send_at: Time,
    last_sent: Option<Date>,
) -> Option<Date> {
    let local: Zoned = now.to_zoned(tz.clone());
    let today = local.date();
    // At a DST gap the wall-clock time may not exist that day: it is then
    // due from the first instant after the gap (jiff's "compatible" rule).
    let due_from = today
        .to_datetime(send_at)
        .to_zoned(tz.clone())
        .ok()?
        .timestamp();
    if now < due_from {
        return None;
    }
    let covers = today.yesterday().ok()?;
    match last_sent {
        Some(done) if done >= covers => None,
        _ => Some(covers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cph() -> TimeZone {
        TimeZone::get("Europe/Copenhagen").unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn seven() -> Time {
        Time::constant(7, 0, 0, 0)
    }

    #[test]
    fn the_summary_of_yesterday_is_due_from_the_local_send_time_once() {
        // 06:59 local (UTC+1 in November) is 05:59 UTC.
        assert_eq!(
            daily_due(at("2026-11-23T05:59:59Z"), &cph(), seven(), None),
            None
        );
        let due = daily_due(at("2026-11-23T06:00:00Z"), &cph(), seven(), None);
        assert_eq!(due, Some(jiff::civil::date(2026, 11, 22)));
        assert_eq!(
            daily_due(at("2026-11-23T12:00:00Z"), &cph(), seven(), due),
            None,
            "sent already"
        );
        // A hub that was down all morning sends it when it is back.
        assert_eq!(
            daily_due(
                at("2026-11-23T22:00:00Z"),
                &cph(),
                seven(),
                Some(jiff::civil::date(2026, 11, 21))
            ),
            Some(jiff::civil::date(2026, 11, 22))
        );
    }

    #[test]
    fn across_the_spring_change_it_still_goes_out_at_seven_local() {
        // 29 March 2026: Copenhagen moves from UTC+1 to UTC+2 at 02:00.
        // 07:00 local is then 05:00 UTC, an hour earlier than the day before.
        let before = Some(jiff::civil::date(2026, 3, 26));
        assert_eq!(
            daily_due(at("2026-03-28T05:59:00Z"), &cph(), seven(), before),
            None
        );
        assert_eq!(
            daily_due(at("2026-03-28T06:00:00Z"), &cph(), seven(), before),
            Some(jiff::civil::date(2026, 3, 27)),
            "07:00 CET"
        );
        let sent = Some(jiff::civil::date(2026, 3, 27));
        assert_eq!(
            daily_due(at("2026-03-29T04:59:00Z"), &cph(), seven(), sent),
            None
        );
        assert_eq!(
            daily_due(at("2026-03-29T05:00:00Z"), &cph(), seven(), sent),
            Some(jiff::civil::date(2026, 3, 28)),
            "07:00 CEST"
        );
        // The day of the change is 23 hours long.
        let (start, end) = local_day(jiff::civil::date(2026, 3, 29), &cph()).unwrap();
        assert_eq!(
            end.duration_since(start),
            jiff::SignedDuration::from_hours(23)
        );
        let (start, end) = local_day(jiff::civil::date(2026, 10, 25), &cph()).unwrap();
        assert_eq!(
            end.duration_since(start),
            jiff::SignedDuration::from_hours(25),
            "autumn"
        );
    }

    #[test]
    fn a_send_time_inside_the_spring_gap_goes_out_just_after_it() {
        let half_past_two = Time::constant(2, 30, 0, 0);
        let sent = Some(jiff::civil::date(2026, 3, 27));
        // 02:30 does not exist on 29 March; 03:30 CEST = 01:30 UTC.
        assert_eq!(
            daily_due(at("2026-03-29T00:59:00Z"), &cph(), half_past_two, sent),
            None
        );
        assert_eq!(
            daily_due(at("2026-03-29T01:30:00Z"), &cph(), half_past_two, sent),
            Some(jiff::civil::date(2026, 3, 28))
        );
    }
}
