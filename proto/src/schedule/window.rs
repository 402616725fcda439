//! Wall-clock times of day and the armed windows built from them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Minutes in a day.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// A wall-clock time of day with minute precision, from `00:00` to `24:00`.
///
/// `24:00` exists only as the end of a window ("armed until midnight").
/// Text form `HH:MM`; that is also its serde form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

/// A text was not an `HH:MM` time of day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time of day {input:?}: expected HH:MM between 00:00 and 24:00")]
pub struct TimeOfDayError {
    /// The rejected input, truncated to 32 characters.
    pub input: String,
}

impl TimeOfDay {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    /// Midnight at the end of the day (`24:00`).
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(MINUTES_PER_DAY);

    /// `hour:minute`, or `None` when out of range (`24:00` is allowed).
    pub const fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        let minutes = hour as u16 * 60 + minute as u16;
        if minute < 60 && minutes <= MINUTES_PER_DAY {
            Some(TimeOfDay(minutes))
        } else {
            None
        }
    }

    /// From minutes since midnight (0 to 1440).
    pub const fn from_minutes(minutes: u16) -> Option<TimeOfDay> {
        if minutes <= MINUTES_PER_DAY {
            Some(TimeOfDay(minutes))
        } else {
            None
        }
    }

    /// Minutes since midnight.
    pub const fn minutes(self) -> u16 {
        self.0
    }

    /// The hour (0–24).
    pub const fn hour(self) -> u8 {
        (self.0 / 60) as u8
    }

    /// The minute within the hour.
    pub const fn minute(self) -> u8 {
        (self.0 % 60) as u8
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl fmt::Debug for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for TimeOfDay {
    type Err = TimeOfDayError;

    fn from_str(s: &str) -> Result<TimeOfDay, TimeOfDayError> {
        let err = || TimeOfDayError {
            input: s.chars().take(32).collect(),
        };
        let (h, m) = s.split_once(':').ok_or_else(err)?;
        let digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) {
            return Err(err());
        }
        let hour: u8 = h.parse().map_err(|_| err())?;
        let minute: u8 = m.parse().map_err(|_| err())?;
        TimeOfDay::new(hour, minute).ok_or_else(err)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One armed window: armed from `start` until `end` on the day it belongs to.
///
/// When `end` is earlier than `start` the window crosses midnight and ends at
/// `end` on the following day (`22:00–06:00`). `end == start` is a
/// zero-length window and is refused by validation; a whole day is
/// `00:00–24:00`.
///
/// Its serde form is the text `"HH:MM-HH:MM"` (`"22:00-06:00"`): short on
/// the wire and readable in config files and JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArmedWindow {
    /// When arming starts (`00:00`–`23:59`).
    pub start: TimeOfDay,
    /// When arming ends (`00:01`–`24:00`; earlier than `start` = next day).
    pub end: TimeOfDay,
}

impl ArmedWindow {
    /// A window from `start` to `end`; not validated (see [`ArmedWindow::check`]).
    pub const fn new(start: TimeOfDay, end: TimeOfDay) -> ArmedWindow {
        ArmedWindow { start, end }
    }

    /// The whole day, `00:00–24:00`.
    pub const fn all_day() -> ArmedWindow {
        ArmedWindow::new(TimeOfDay::MIDNIGHT, TimeOfDay::END_OF_DAY)
    }

    /// Whether the window ends on the following day.
    pub fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    /// Start and end as minutes from the start of the window's own day; the
    /// end is past 1440 when the window crosses midnight.
    pub fn span_minutes(&self) -> (u16, u16) {
        let end = if self.crosses_midnight() {
            self.end.minutes() + MINUTES_PER_DAY
        } else {
            self.end.minutes()
        };
        (self.start.minutes(), end)
    }

    /// Checks the window on its own: not zero-length, not starting at 24:00.
    pub fn check(&self) -> Result<(), WindowProblem> {
        if self.start == TimeOfDay::END_OF_DAY {
            Err(WindowProblem::StartsAtEndOfDay)
        } else if self.start == self.end {
            Err(WindowProblem::ZeroLength)
        } else {
            Ok(())
        }
    }
}

/// What is wrong with a single window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowProblem {
    /// Start equals end.
    ZeroLength,
    /// Start is `24:00`.
    StartsAtEndOfDay,
}

impl fmt::Display for ArmedWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.start, self.end)
    }
}

impl fmt::Debug for ArmedWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for ArmedWindow {
    type Err = TimeOfDayError;

    /// Parses `HH:MM-HH:MM` (an en dash is accepted too).
    fn from_str(s: &str) -> Result<ArmedWindow, TimeOfDayError> {
        let (a, b) = s
            .split_once('-')
            .or_else(|| s.split_once('–'))
            .ok_or_else(|| TimeOfDayError {
                input: s.chars().take(32).collect(),
            })?;
        Ok(ArmedWindow::new(a.trim().parse()?, b.trim().parse()?))
    }
}

impl Serialize for ArmedWindow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{}-{}", self.start, self.end))
    }
}

impl<'de> Deserialize<'de> for ArmedWindow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TimeOfDay {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_hh_mm() {
        assert_eq!(t("07:05").minutes(), 425);
        assert_eq!(t("24:00"), TimeOfDay::END_OF_DAY);
        assert_eq!(t("07:05").to_string(), "07:05");
    }

    #[test]
    fn refuses_out_of_range_and_malformed_times() {
        for bad in [
            "24:01", "25:00", "7:00", "07:60", "0700", "", "ab:cd", "-1:00",
        ] {
            let err = bad.parse::<TimeOfDay>().unwrap_err();
            assert!(err.to_string().contains("HH:MM"), "{bad}: {err}");
        }
    }

    #[test]
    fn window_crossing_midnight_spans_into_next_day() {
        let w: ArmedWindow = "22:00-06:00".parse().unwrap();
        assert!(w.crosses_midnight());
        assert_eq!(w.span_minutes(), (22 * 60, 30 * 60));
        let day: ArmedWindow = "00:00-24:00".parse().unwrap();
        assert!(!day.crosses_midnight());
        assert_eq!(day.span_minutes(), (0, 1440));
    }

    #[test]
    fn serde_form_is_compact_text() {
        let w: ArmedWindow = "22:00-06:00".parse().unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), "\"22:00-06:00\"");
        assert_eq!(
            serde_json::from_str::<ArmedWindow>("\"22:00-06:00\"").unwrap(),
            w
        );
        assert!(serde_json::from_str::<ArmedWindow>("\"22:00\"").is_err());
    }

    #[test]
    fn zero_length_and_start_at_24_are_problems() {
        assert_eq!(
            "08:00-08:00".parse::<ArmedWindow>().unwrap().check(),
            Err(WindowProblem::ZeroLength)
        );
        assert_eq!(
            "24:00-01:00".parse::<ArmedWindow>().unwrap().check(),
            Err(WindowProblem::StartsAtEndOfDay)
        );
        assert!(
            "22:00-00:00"
                .parse::<ArmedWindow>()
                .unwrap()
                .check()
                .is_ok()
        );
    }
}
