//! Weekly arming schedules in a site's own time zone.
//!
//! A [`ScheduleSpec`] is the editable form: an IANA zone, armed windows per
//! weekday and dated exceptions. [`WeeklySchedule`] is a spec that passed
//! validation, with its zone resolved; only that can be evaluated, so an
//! invalid schedule can never arm or disarm anything. Deserializing a
//! `WeeklySchedule` validates it.
//!
//! **Exceptions own their date.** An exception decides the state of its date
//! from 00:00 to 24:00: a window from the day before that runs past midnight
//! is cut at the exception date's midnight. The exception's own windows may
//! run past its midnight into an ordinary day, where they are joined with
//! that day's windows.
//!
//! Touching windows (`08:00–12:00` and `12:00–18:00`) are one armed period;
//! overlapping windows in the weekly pattern are refused.
//!
//! Wall-clock times become instants by the rule in [`local_time`].

mod expand;
pub mod local_time;
mod validate;
mod window;
pub mod zone;

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

pub use window::{ArmedWindow, MINUTES_PER_DAY, TimeOfDay, TimeOfDayError, WindowProblem};

/// At most this many armed windows per day.
pub const MAX_WINDOWS_PER_DAY: usize = 24;
/// At most this many dated exceptions per schedule.
pub const MAX_EXCEPTIONS: usize = 400;
/// Exceptions must fall within these years.
pub const EXCEPTION_YEARS: std::ops::RangeInclusive<i16> = 2000..=2200;

/// One value per weekday, Monday first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Week<T> {
    /// Monday.
    pub monday: T,
    /// Tuesday.
    pub tuesday: T,
    /// Wednesday.
    pub wednesday: T,
    /// Thursday.
    pub thursday: T,
    /// Friday.
    pub friday: T,
    /// Saturday.
    pub saturday: T,
    /// Sunday.
    pub sunday: T,
}

/// Weekdays, Monday first.
pub const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

impl<T> Week<T> {
    /// The same value on every day.
    pub fn every_day(value: T) -> Week<T>
    where
        T: Clone,
    {
        Week {
            monday: value.clone(),
            tuesday: value.clone(),
            wednesday: value.clone(),
            thursday: value.clone(),
            friday: value.clone(),
            saturday: value.clone(),
            sunday: value,
        }
    }

    /// The value for `day`.
    pub fn day(&self, day: Weekday) -> &T {
        match day {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }

    /// The value for `day`, mutably.
    pub fn day_mut(&mut self, day: Weekday) -> &mut T {
        match day {
            Weekday::Monday => &mut self.monday,
            Weekday::Tuesday => &mut self.tuesday,
            Weekday::Wednesday => &mut self.wednesday,
            Weekday::Thursday => &mut self.thursday,
            Weekday::Friday => &mut self.friday,
            Weekday::Saturday => &mut self.saturday,
            Weekday::Sunday => &mut self.sunday,
        }
    }
}

/// What a dated exception does to its date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayException {
    /// Armed all day, 00:00–24:00.
    ArmedAllDay,
    /// Disarmed all day, 00:00–24:00.
    DisarmedAllDay,
    /// These windows instead of the weekday's.
    Windows(Vec<ArmedWindow>),
}

/// The editable form of a schedule. Validate it with [`WeeklySchedule::new`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// The site's IANA time zone, e.g. `Europe/Copenhagen`.
    pub time_zone: String,
    /// Armed windows per weekday, in the site's wall-clock time.
    pub week: Week<Vec<ArmedWindow>>,
    /// Dated exceptions, which replace the weekday's windows on their date.
    #[serde(default)]
    pub exceptions: BTreeMap<Date, DayException>,
}

impl ScheduleSpec {
    /// A schedule that never arms, in `time_zone`.
    pub fn empty(time_zone: impl Into<String>) -> ScheduleSpec {
        ScheduleSpec {
            time_zone: time_zone.into(),
            week: Week::default(),
            exceptions: BTreeMap::new(),
        }
    }

    /// Sets the windows of one weekday.
    pub fn set_day(&mut self, day: Weekday, windows: Vec<ArmedWindow>) -> &mut Self {
        *self.week.day_mut(day) = windows;
        self
    }

    /// "Copy day to entire week": every weekday gets `day`'s windows.
    pub fn copy_day_to_week(&mut self, day: Weekday) -> &mut Self {
        self.week = Week::every_day(self.week.day(day).clone());
        self
    }

    /// Sets (or replaces) the exception for `date`.
    pub fn set_exception(&mut self, date: Date, exception: DayException) -> &mut Self {
        self.exceptions.insert(date, exception);
        self
    }
}

/// Which day a schedule problem is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayRef {
    /// A weekday of the weekly pattern.
    Weekday(Weekday),
    /// A dated exception.
    Date(Date),
}

impl fmt::Display for DayRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayRef::Weekday(day) => f.write_str(weekday_name(*day)),
            DayRef::Date(date) => write!(f, "{date}"),
        }
    }
}

/// The English name of a weekday.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// Why a schedule was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The zone is not in the tz database.
    #[error("unknown time zone {0:?}: use an IANA zone name such as \"Europe/Copenhagen\"")]
    UnknownTimeZone(String),
    /// A window starts and ends at the same time.
    #[error("{day} {window}: a window must have a length (start and end are the same)")]
    ZeroLength {
        /// The day it is on.
        day: DayRef,
        /// The window.
        window: ArmedWindow,
    },
    /// A window starts at 24:00.
    #[error("{day} {window}: a window cannot start at 24:00; start it at 00:00 the next day")]
    StartsAtEndOfDay {
        /// The day it is on.
        day: DayRef,
        /// The window.
        window: ArmedWindow,
    },
    /// Two windows overlap.
    #[error(
        "{first_day} {first} overlaps {second_day} {second}: merge them or shorten one \
         (windows that only touch are fine)"
    )]
    Overlap {
        /// Day of the earlier window.
        first_day: DayRef,
        /// The earlier window.
        first: ArmedWindow,
        /// Day of the later window.
        second_day: DayRef,
        /// The later window.
        second: ArmedWindow,
    },
    /// Too many windows on one day.
    #[error("{day} has {count} windows; at most {MAX_WINDOWS_PER_DAY} are allowed")]
    TooManyWindows {
        /// The day.
        day: DayRef,
        /// How many it has.
        count: usize,
    },
    /// Too many exceptions.
    #[error("the schedule has {0} dated exceptions; at most {MAX_EXCEPTIONS} are allowed")]
    TooManyExceptions(usize),
    /// An exception date is outside the supported years.
    #[error("exception date {0} is outside the years 2000–2200")]
    ExceptionOutOfRange(Date),
}

/// A validated schedule with its zone resolved: the only form that is evaluated.
#[derive(Clone, Debug)]
pub struct WeeklySchedule {
    spec: ScheduleSpec,
    zone: TimeZone,
}

impl WeeklySchedule {
    /// Validates `spec`. Windows are kept sorted by start time.
    pub fn new(mut spec: ScheduleSpec) -> Result<WeeklySchedule, ScheduleError> {
        let zone = validate::validate(&mut spec)?;
        Ok(WeeklySchedule { spec, zone })
    }

    /// The schedule as written.
    pub fn spec(&self) -> &ScheduleSpec {
        &self.spec
    }

    /// The site's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Whether the schedule arms at `at`, and the next instant at which that
    /// changes (`None`: it never changes, as far as the schedule goes).
    pub fn state_at(&self, at: Timestamp) -> ScheduleState {
        expand::state_at(self, at)
    }
}

impl PartialEq for WeeklySchedule {
    fn eq(&self, other: &WeeklySchedule) -> bool {
        self.spec == other.spec
    }
}

impl Eq for WeeklySchedule {}

impl TryFrom<ScheduleSpec> for WeeklySchedule {
    type Error = ScheduleError;

    fn try_from(spec: ScheduleSpec) -> Result<WeeklySchedule, ScheduleError> {
        WeeklySchedule::new(spec)
    }
}

impl Serialize for WeeklySchedule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for WeeklySchedule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spec = ScheduleSpec::deserialize(deserializer)?;
        WeeklySchedule::new(spec).map_err(serde::de::Error::custom)
    }
}

/// The schedule's own verdict at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleState {
    /// Whether the schedule arms.
    pub armed: bool,
    /// When that next changes; `None` if it never does.
    pub until: Option<Timestamp>,
}
