//! Temporary disarms: "disarmed from now until a chosen time".
//!
//! The unit enforces the end itself, on its own clock: when `until` passes,
//! arming resumes by schedule whether or not the hub is reachable.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest temporary disarm a person may set.
pub const MAX_TEMPORARY_DISARM: SignedDuration = SignedDuration::from_hours(7 * 24);
/// The longest text naming who disarmed.
pub const MAX_DISARMED_BY_LEN: usize = 120;

/// A disarm from `from` until `until`, set by a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TemporaryDisarmSpec")]
pub struct TemporaryDisarm {
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    from: Timestamp,
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    until: Timestamp,
    by: String,
}

/// Why a temporary disarm was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisarmError {
    /// The end is not after the start.
    #[error("a temporary disarm must end after it starts (from {from}, until {until})")]
    EndsBeforeStart {
        /// Start.
        from: Timestamp,
        /// End.
        until: Timestamp,
    },
    /// The disarm is longer than allowed.
    #[error(
        "a temporary disarm may last at most 7 days; {requested_hours} hours were asked for \
         (change the schedule or the security level for longer periods)"
    )]
    TooLong {
        /// Requested length, rounded down to hours.
        requested_hours: i64,
    },
    /// The text naming who disarmed is empty or too long.
    #[error("who disarmed must be named in 1–{MAX_DISARMED_BY_LEN} characters")]
    BadActor,
}

impl TemporaryDisarm {
    /// A disarm from `from` until `until` by `by` (a person's name and role,
    /// e.g. "Anna Holm (keyholder)").
    pub fn new(
        from: Timestamp,
        until: Timestamp,
        by: impl Into<String>,
    ) -> Result<TemporaryDisarm, DisarmError> {
        let by = by.into();
        if until <= from {
            return Err(DisarmError::EndsBeforeStart { from, until });
        }
        let length = until.duration_since(from);
        if length > MAX_TEMPORARY_DISARM {
            return Err(DisarmError::TooLong {
                requested_hours: length.as_hours(),
            });
        }
        if by.trim().is_empty() || by.chars().count() > MAX_DISARMED_BY_LEN {
            return Err(DisarmError::BadActor);
        }
        Ok(TemporaryDisarm { from, until, by })
    }

    /// When it starts.
    pub fn from(&self) -> Timestamp {
        self.from
    }

    /// When it ends and arming resumes by schedule.
    pub fn until(&self) -> Timestamp {
        self.until
    }

    /// Who set it.
    pub fn by(&self) -> &str {
        &self.by
    }

    /// Whether it holds at `at` (`from` inclusive, `until` exclusive).
    pub fn is_active(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.until
    }
}

#[derive(Deserialize)]
struct TemporaryDisarmSpec {
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    from: Timestamp,
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    until: Timestamp,
    by: String,
}

impl TryFrom<TemporaryDisarmSpec> for TemporaryDisarm {
    type Error = DisarmError;

    fn try_from(spec: TemporaryDisarmSpec) -> Result<TemporaryDisarm, DisarmError> {
        TemporaryDisarm::new(spec.from, spec.until, spec.by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn holds_from_start_until_just_before_end() {
        let d =
            TemporaryDisarm::new(ts("2026-11-22T18:00Z"), ts("2026-11-22T21:30Z"), "Anna").unwrap();
        assert!(!d.is_active(ts("2026-11-22T17:59:59Z")));
        assert!(d.is_active(ts("2026-11-22T18:00Z")));
        assert!(d.is_active(ts("2026-11-22T21:29:59.999Z")));
        assert!(!d.is_active(ts("2026-11-22T21:30Z")));
    }

    #[test]
    fn refuses_backwards_overlong_and_anonymous_disarms() {
        let start = ts("2026-11-22T18:00Z");
        assert!(matches!(
            TemporaryDisarm::new(start, start, "Anna"),
            Err(DisarmError::EndsBeforeStart { .. })
        ));
        let err = TemporaryDisarm::new(start, ts("2026-11-29T18:00:01Z"), "Anna").unwrap_err();
        assert!(err.to_string().contains("at most 7 days"), "{err}");
        assert!(TemporaryDisarm::new(start, ts("2026-11-29T18:00Z"), "Anna").is_ok());
        assert_eq!(
            TemporaryDisarm::new(start, ts("2026-11-22T19:00Z"), "  "),
            Err(DisarmError::BadActor)
        );
    }

    #[test]
    fn deserializing_validates() {
        let json = r#"{"from":1700000000000,"until":1690000000000,"by":"Anna"}"#;
        let err = serde_json::from_str::<TemporaryDisarm>(json).unwrap_err();
        assert!(
            err.to_string().contains("must end after it starts"),
            "{err}"
        );
    }
}
