//! A site's arming settings as a TOML file: schedule, security level,
//! temporary disarm and relocation state — the arming part of a desired
//! config, in the form an installer writes by hand.
//!
//! ```toml
//! relocation = "active"                  # active | relocating | activation_requested
//!
//! [schedule]
//! time_zone = "Europe/Copenhagen"        # IANA zone of the site
//! [schedule.week]                        # armed windows per weekday, "HH:MM-HH:MM"
//! monday = ["00:00-07:00", "18:00-07:00"]  # a window ending before it starts runs past midnight
//! # ... tuesday to sunday; a missing day is never armed
//! [schedule.exceptions]                  # optional dated exceptions
//! 2026-12-24 = "disarmed_all_day"        # or "armed_all_day", or { windows = [...] }
//!
//! [level]                                # optional; default "Standard", follows the schedule
//! name = "Standard"
//! arming = "by_schedule"                 # by_schedule | always_armed | never_armed
//!
//! [disarm]                               # optional temporary disarm (at most 7 days)
//! from = "2026-11-23T17:00:00Z"
//! until = "2026-11-23T20:30:00Z"
//! by = "Anna Holm (keyholder)"
//! ```

use jiff::Timestamp;
use picket_proto::disarm::{DisarmError, TemporaryDisarm};
use picket_proto::level::{LevelArming, SecurityLevel};
use picket_proto::relocation::RelocationState;
use picket_proto::schedule::{
    ArmedWindow, DayException, ScheduleError, ScheduleSpec, Week, WeeklySchedule,
};
use serde::Deserialize;

/// The arming file the demo and `plan` use when none is given.
pub const DEMO: &str = include_str!("demo_site.toml");

/// Validated arming settings.
#[derive(Debug, Clone)]
pub struct ArmingSettings {
    /// The schedule.
    pub schedule: WeeklySchedule,
    /// The security level.
    pub level: SecurityLevel,
    /// A temporary disarm, if set.
    pub disarm: Option<TemporaryDisarm>,
    /// Relocation state.
    pub relocation: RelocationState,
}

/// Why an arming file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArmingFileError {
    /// Not valid TOML, or fields unknown or mistyped.
    #[error("arming file is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    /// The schedule is invalid.
    #[error("arming file: invalid schedule: {0}")]
    Schedule(#[from] ScheduleError),
    /// The disarm is invalid.
    #[error("arming file: invalid disarm: {0}")]
    Disarm(#[from] DisarmError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schedule: ScheduleFile,
    #[serde(default)]
    level: Option<LevelFile>,
    #[serde(default)]
    disarm: Option<DisarmFile>,
    #[serde(default)]
    relocation: RelocationState,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    time_zone: String,
    #[serde(default)]
    week: WeekFile,
    #[serde(default)]
    exceptions: std::collections::BTreeMap<jiff::civil::Date, DayException>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WeekFile {
    #[serde(default)]
    monday: Vec<ArmedWindow>,
    #[serde(default)]
    tuesday: Vec<ArmedWindow>,
    #[serde(default)]
    wednesday: Vec<ArmedWindow>,
    #[serde(default)]
    thursday: Vec<ArmedWindow>,
    #[serde(default)]
    friday: Vec<ArmedWindow>,
    #[serde(default)]
    saturday: Vec<ArmedWindow>,
    #[serde(default)]
    sunday: Vec<ArmedWindow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelFile {
    name: String,
    arming: LevelArming,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisarmFile {
    from: Timestamp,
    until: Timestamp,
    by: String,
}

/// Parses and validates an arming file.
pub fn parse(text: &str) -> Result<ArmingSettings, ArmingFileError> {
    let file: File = toml::from_str(text)?;
    let w = file.schedule.week;
    let spec = ScheduleSpec {
        time_zone: file.schedule.time_zone,
        week: Week {
            monday: w.monday,
            tuesday: w.tuesday,
            wednesday: w.wednesday,
            thursday: w.thursday,
            friday: w.friday,
            saturday: w.saturday,
            sunday: w.sunday,
        },
        exceptions: file.schedule.exceptions,
    };
    let level = match file.level {
        Some(l) => SecurityLevel {
            name: l.name,
            arming: l.arming,
            ..SecurityLevel::standard()
        },
        None => SecurityLevel::standard(),
    };
    let disarm = file
        .disarm
        .map(|d| TemporaryDisarm::new(d.from, d.until, d.by))
        .transpose()?;
    Ok(ArmingSettings {
        schedule: WeeklySchedule::new(spec)?,
        level,
        disarm,
        relocation: file.relocation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_file_is_valid() {
        let s = parse(DEMO).unwrap();
        assert_eq!(s.schedule.spec().time_zone, "Europe/Copenhagen");
        assert!(s.disarm.is_some());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = parse("[schedule]\ntime_zone = \"UTC\"\ntimezone = \"UTC\"\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `timezone`"),
            "{err}"
        );
    }

    #[test]
    fn invalid_schedules_name_the_problem() {
        let text = "[schedule]\ntime_zone = \"Europe/Copenhagen\"\n[schedule.week]\nmonday = [\"08:00-12:00\", \"11:00-13:00\"]\n";
        let err = parse(text).unwrap_err();
        assert!(
            err.to_string()
                .contains("Monday 08:00–12:00 overlaps Monday 11:00–13:00"),
            "{err}"
        );
    }

    #[test]
    fn overlong_disarms_are_refused() {
        let text = "[schedule]\ntime_zone = \"UTC\"\n[disarm]\nfrom = \"2026-11-01T00:00:00Z\"\nuntil = \"2026-11-09T00:00:00Z\"\nby = \"Anna\"\n";
        let err = parse(text).unwrap_err();
        assert!(err.to_string().contains("at most 7 days"), "{err}");
    }
}
