//! The text of report e-mails. Pure: times are shown in the site's time
//! zone, links point at the hub's public address.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use picket_proto::ids::{EventId, UnitId};
use picket_proto::level::SensorKind;

use crate::centre::queue::Outcome;

/// An alarm for an instant e-mail.
#[derive(Debug, Clone)]
pub struct AlarmNotice {
    /// The site's name.
    pub site: String,
    /// The alarm.
    pub id: EventId,
    /// From.
    pub unit: UnitId,
    /// Which sensor.
    pub sensor: String,
    /// What kind of sensor.
    pub sensor_kind: SensorKind,
    /// When it fired.
    pub at: Timestamp,
}

fn local(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

fn kind(kind: SensorKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_else(|| "sensor".into())
}

/// Subject and text of an instant alarm e-mail.
pub fn instant(alarm: &AlarmNotice, tz: &TimeZone, public_url: &str) -> (String, String) {
    let when = local(alarm.at, tz);
    let subject = format!(
        "Alarm at {}: {} ({})",
        alarm.site,
        alarm.sensor,
        kind(alarm.sensor_kind)
    );
    let text = format!(
        "An alarm was raised at {site}.\n\n\
         Sensor: {sensor} ({kind})\n\
         Unit:   {unit}\n\
         Time:   {when}\n\n\
         The monitoring centre has it in its queue. Details and handling:\n\
         {url}/alarms/{id}\n\n\
         You receive this because you are a report recipient of {site}.\n",
        site = alarm.site,
        sensor = alarm.sensor,
        kind = kind(alarm.sensor_kind),
        unit = alarm.unit,
        url = public_url,
        id = alarm.id,
    );
    (subject, text)
}

/// A site's day, for the daily summary.
#[derive(Debug, Clone, Default)]
pub struct DaySummary {
    /// The site's name.
    pub site: String,
    /// Alarms raised that day.
    pub alarms: usize,
    /// Of those, handled by the centre, by outcome.
    pub handled: Vec<(Outcome, usize)>,
    /// Of those, still open in the centre's queue.
    pub open: usize,
    /// Of those, handled with the report awaiting the centre's review.
    pub awaiting_review: usize,
    /// Units on the site, and how many are offline now.
    pub units: usize,
    /// Units offline now.
    pub offline: usize,
}

/// Subject and text of a daily summary.
pub fn daily(day: &DaySummary, date: Date, public_url: &str) -> (String, String) {
    let subject = format!(
        "Daily report for {}: {} ({} alarm{})",
        day.site,
        date,
        day.alarms,
        if day.alarms == 1 { "" } else { "s" }
    );
    let mut text = format!(
        "{site}, {date} (local time)\n\n\
         Alarms: {alarms}\n",
        site = day.site,
        alarms = day.alarms,
    );
    for (outcome, n) in &day.handled {
        text.push_str(&format!(
            "  handled as {}: {n}\n",
            outcome.label().to_lowercase()
        ));
    }
    if day.awaiting_review > 0 {
        text.push_str(&format!(
            "  handled, report after the centre's review: {}\n",
            day.awaiting_review
        ));
    }
    if day.open > 0 {
        text.push_str(&format!(
            "  still open in the centre's queue: {}\n",
            day.open
        ));
    }
    text.push_str(&format!(
        "\nUnits: {} ({} offline now)\n\nThe portal: {public_url}/\n",
        day.units, day.offline
    ));
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_mail_names_the_site_sensor_and_local_time() {
        let tz = TimeZone::get("Europe/Copenhagen").unwrap();
        let alarm = AlarmNotice {
            site: "Quay".into(),
            id: EventId::from_uuid(uuid::Uuid::from_bytes([1; 16])),
            unit: UnitId::from_uuid(uuid::Uuid::from_bytes([2; 16])),
            sensor: "door-1".into(),
            sensor_kind: SensorKind::Door,
            at: "2026-07-01T20:15:00Z".parse().unwrap(),
        };
        let (subject, text) = instant(&alarm, &tz, "https://hub.example");
        assert_eq!(subject, "Alarm at Quay: door-1 (door)");
        assert!(text.contains("2026-07-01 22:15:00 CEST"), "{text}");
        assert!(
            text.contains("https://hub.example/alarms/01010101010101010101010101010101"),
            "{text}"
        );
    }

    #[test]
    fn a_daily_summary_counts_alarms_by_outcome() {
        let day = DaySummary {
            site: "Quay".into(),
            alarms: 4,
            handled: vec![(Outcome::FalseAlarm, 2)],
            open: 1,
            awaiting_review: 1,
            units: 4,
            offline: 1,
        };
        let (subject, text) = daily(&day, jiff::civil::date(2026, 3, 29), "https://hub.example");
        assert_eq!(subject, "Daily report for Quay: 2026-03-29 (4 alarms)");
        assert!(text.contains("handled as false alarm: 2"), "{text}");
        assert!(
            text.contains("handled, report after the centre's review: 1"),
            "{text}"
        );
        assert!(
            text.contains("still open in the centre's queue: 1"),
            "{text}"
        );
        assert!(text.contains("Units: 4 (1 offline now)"), "{text}");
    }
}
