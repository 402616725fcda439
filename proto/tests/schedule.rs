//! Weekly schedules: validation, exceptions, and the DST rule on real
//! transition nights in Copenhagen and New York.

mod support;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use picket_proto::schedule::*;
use proptest::prelude::*;
use support::{ts, windows};

fn schedule(zone: &str, days: &[(Weekday, &[&str])]) -> Result<WeeklySchedule, ScheduleError> {
    let mut spec = ScheduleSpec::empty(zone);
    for (day, list) in days {
        spec.set_day(*day, windows(list));
    }
    WeeklySchedule::new(spec)
}

fn every_day(zone: &str, list: &[&str]) -> WeeklySchedule {
    let mut spec = ScheduleSpec::empty(zone);
    spec.set_day(Weekday::Monday, windows(list))
        .copy_day_to_week(Weekday::Monday);
    WeeklySchedule::new(spec).unwrap()
}

/// "2026-03-29 03:00 CEST"-style local rendering of an instant.
fn local(s: &WeeklySchedule, at: Timestamp) -> String {
    at.to_zoned(s.time_zone().clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The instant of a local wall-clock reading that exists once.
fn at_local(s: &WeeklySchedule, text: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = text.parse().unwrap();
    dt.to_zoned(s.time_zone().clone()).unwrap().timestamp()
}

// ---- validation ----------------------------------------------------------

#[test]
fn overlapping_windows_on_one_day_are_refused() {
    let err = schedule(
        "Europe/Copenhagen",
        &[(Weekday::Monday, &["08:00-12:00", "11:00-13:00"])],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Monday 08:00–12:00 overlaps Monday 11:00–13:00: merge them or shorten one (windows that only touch are fine)"
    );
}

#[test]
fn a_night_window_overlapping_the_next_morning_is_refused() {
    let err = schedule(
        "Europe/Copenhagen",
        &[
            (Weekday::Monday, &["22:00-06:00"]),
            (Weekday::Tuesday, &["05:00-09:00"]),
        ],
    )
    .unwrap_err();
    assert!(matches!(err, ScheduleError::Overlap { .. }));
    assert!(
        err.to_string()
            .starts_with("Monday 22:00–06:00 overlaps Tuesday 05:00–09:00"),
        "{err}"
    );
}

#[test]
fn sunday_night_running_into_monday_is_checked() {
    let err = schedule(
        "Europe/Copenhagen",
        &[
            (Weekday::Sunday, &["20:00-08:00"]),
            (Weekday::Monday, &["07:00-09:00"]),
        ],
    )
    .unwrap_err();
    assert!(err.to_string().contains("Sunday 20:00–08:00"), "{err}");
    assert!(err.to_string().contains("Monday 07:00–09:00"), "{err}");
}

#[test]
fn touching_windows_are_accepted_and_join() {
    let s = schedule(
        "Europe/Copenhagen",
        &[
            (Weekday::Monday, &["12:00-18:00", "08:00-12:00"]),
            (Weekday::Tuesday, &["00:00-02:00"]),
        ],
    )
    .unwrap();
    assert_eq!(
        s.spec().week.monday,
        windows(&["08:00-12:00", "12:00-18:00"]),
        "sorted"
    );
    // Monday 2026-11-23 11:59 local: armed until 18:00, not 12:00.
    let state = s.state_at(at_local(&s, "2026-11-23T11:59"));
    assert!(state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-11-23 18:00 CET");
}

#[test]
fn zero_length_windows_and_unknown_zones_are_refused() {
    let err = schedule("Europe/Copenhagen", &[(Weekday::Friday, &["09:00-09:00"])]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Friday 09:00–09:00: a window must have a length (start and end are the same)"
    );
    let err = schedule("Europe/Kobenhavn", &[]).unwrap_err();
    assert_eq!(
        err,
        ScheduleError::UnknownTimeZone("Europe/Kobenhavn".into())
    );
    assert!(err.to_string().contains("IANA zone name"), "{err}");
    let err = schedule("Europe/Copenhagen", &[(Weekday::Friday, &["24:00-01:00"])]).unwrap_err();
    assert!(
        matches!(err, ScheduleError::StartsAtEndOfDay { .. }),
        "{err}"
    );
}

#[test]
fn limits_are_enforced() {
    let many: Vec<String> = (0..25)
        .map(|h| format!("{:02}:00-{:02}:30", h % 24, h % 24))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = schedule("Europe/Copenhagen", &[(Weekday::Monday, &refs)]).unwrap_err();
    assert!(
        matches!(err, ScheduleError::TooManyWindows { count: 25, .. }),
        "{err}"
    );
    let mut spec = ScheduleSpec::empty("Europe/Copenhagen");
    spec.set_exception(Date::constant(1999, 12, 31), DayException::ArmedAllDay);
    assert!(matches!(
        WeeklySchedule::new(spec),
        Err(ScheduleError::ExceptionOutOfRange(_))
    ));
}

#[test]
fn overlapping_windows_in_an_exception_are_refused() {
    let mut spec = ScheduleSpec::empty("Europe/Copenhagen");
    let date = Date::constant(2026, 12, 31);
    spec.set_exception(
        date,
        DayException::Windows(windows(&["20:00-02:00", "23:00-23:30"])),
    );
    let err = WeeklySchedule::new(spec).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("2026-12-31 20:00–02:00 overlaps 2026-12-31 23:00–23:30"),
        "{err}"
    );
}

#[test]
fn deserializing_validates() {
    let json = r#"{"time_zone":"Europe/Copenhagen","week":{"monday":["08:00-08:00"],
        "tuesday":[],"wednesday":[],"thursday":[],"friday":[],"saturday":[],"sunday":[]}}"#;
    let err = serde_json::from_str::<WeeklySchedule>(json).unwrap_err();
    assert!(err.to_string().contains("must have a length"), "{err}");
}

// ---- evaluation ----------------------------------------------------------

#[test]
fn a_night_window_crosses_midnight() {
    let s = every_day("Europe/Copenhagen", &["22:00-06:00"]);
    let state = s.state_at(at_local(&s, "2026-11-23T23:30"));
    assert!(state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-11-24 06:00 CET");
    let state = s.state_at(at_local(&s, "2026-11-24T06:00"));
    assert!(!state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-11-24 22:00 CET");
}

#[test]
fn always_and_never_have_no_change() {
    let s = every_day("Europe/Copenhagen", &["00:00-24:00"]);
    assert_eq!(
        s.state_at(ts("2026-11-22T12:00Z")),
        ScheduleState {
            armed: true,
            until: None
        }
    );
    let s = every_day("Europe/Copenhagen", &[]);
    assert_eq!(
        s.state_at(ts("2026-11-22T12:00Z")),
        ScheduleState {
            armed: false,
            until: None
        }
    );
}

#[test]
fn a_disarmed_exception_cuts_the_night_before_at_midnight() {
    let s = support::site_schedule(); // weeknights 18–07, Christmas Eve (Thu) disarmed
    let state = s.state_at(at_local(&s, "2026-12-23T20:00"));
    assert!(state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-12-24 00:00 CET");
    let state = s.state_at(at_local(&s, "2026-12-24T03:00"));
    assert!(!state.armed);
    // Christmas Eve is a Thursday: its own 18:00–07:00 night is gone too,
    // so arming resumes with Friday's 18:00.
    assert_eq!(local(&s, state.until.unwrap()), "2026-12-25 18:00 CET");
}

#[test]
fn an_exceptions_own_night_runs_into_an_ordinary_day() {
    let mut spec = ScheduleSpec::empty("Europe/Copenhagen");
    spec.set_day(Weekday::Friday, windows(&["05:00-09:00"]));
    // Thursday 2026-12-31: armed 20:00 until 06:00 on Friday; joins Friday's 05:00–09:00.
    spec.set_exception(
        Date::constant(2026, 12, 31),
        DayException::Windows(windows(&["20:00-06:00"])),
    );
    let s = WeeklySchedule::new(spec).unwrap();
    let state = s.state_at(at_local(&s, "2026-12-31T21:00"));
    assert!(state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2027-01-01 09:00 CET");
}

#[test]
fn an_armed_all_day_exception_far_ahead_is_found() {
    let mut spec = ScheduleSpec::empty("America/New_York");
    spec.set_exception(Date::constant(2027, 7, 4), DayException::ArmedAllDay);
    let s = WeeklySchedule::new(spec).unwrap();
    let state = s.state_at(ts("2026-11-22T12:00Z"));
    assert!(!state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2027-07-04 00:00 EDT");
}

// ---- DST -----------------------------------------------------------------

#[test]
fn copenhagen_spring_forward_an_arm_at_0230_arms_at_the_jump() {
    // 2026-03-29: clocks go 02:00 CET -> 03:00 CEST.
    let s = every_day("Europe/Copenhagen", &["02:30-07:00"]);
    let before = s.state_at(at_local(&s, "2026-03-29T01:00"));
    assert!(!before.armed);
    assert_eq!(local(&s, before.until.unwrap()), "2026-03-29 03:00 CEST");
    let after = s.state_at(before.until.unwrap());
    assert!(after.armed);
    assert_eq!(local(&s, after.until.unwrap()), "2026-03-29 07:00 CEST");
}

#[test]
fn copenhagen_spring_forward_a_night_ending_in_the_gap_ends_at_the_jump() {
    let s = every_day("Europe/Copenhagen", &["22:00-02:30"]);
    let state = s.state_at(at_local(&s, "2026-03-28T23:00"));
    assert!(state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-03-29 03:00 CEST");
    // 5 h of wall-clock window, 4 h of real time that night.
    let start = at_local(&s, "2026-03-28T22:00");
    assert_eq!(state.until.unwrap().duration_since(start).as_hours(), 4);
}

#[test]
fn copenhagen_spring_forward_a_window_inside_the_gap_does_not_happen() {
    let s = every_day("Europe/Copenhagen", &["02:10-02:40"]);
    let state = s.state_at(at_local(&s, "2026-03-29T01:00"));
    assert!(!state.armed);
    assert_eq!(
        local(&s, state.until.unwrap()),
        "2026-03-30 02:10 CEST",
        "skipped that night"
    );
}

#[test]
fn copenhagen_fall_back_a_window_through_the_fold_lasts_its_real_length() {
    // 2026-10-25: clocks go 03:00 CEST -> 02:00 CET; 02:30 happens twice.
    let s = every_day("Europe/Copenhagen", &["02:30-03:30"]);
    let state = s.state_at(at_local(&s, "2026-10-25T01:00"));
    assert_eq!(
        local(&s, state.until.unwrap()),
        "2026-10-25 02:30 CEST",
        "first 02:30"
    );
    let armed = s.state_at(state.until.unwrap());
    assert!(armed.armed);
    assert_eq!(local(&s, armed.until.unwrap()), "2026-10-25 03:30 CET");
    assert_eq!(
        armed
            .until
            .unwrap()
            .duration_since(state.until.unwrap())
            .as_hours(),
        2
    );
}

#[test]
fn new_york_spring_forward_an_arm_at_0230_arms_at_the_jump() {
    // 2026-03-08: clocks go 02:00 EST -> 03:00 EDT.
    let s = every_day("America/New_York", &["02:30-06:00"]);
    let state = s.state_at(at_local(&s, "2026-03-08T00:30"));
    assert!(!state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-03-08 03:00 EDT");
    assert!(s.state_at(state.until.unwrap()).armed);
}

#[test]
fn new_york_fall_back_a_disarm_at_0130_means_the_first_one() {
    // 2026-11-01: clocks go 02:00 EDT -> 01:00 EST; 01:30 happens twice.
    let s = every_day("America/New_York", &["22:00-01:30"]);
    let state = s.state_at(at_local(&s, "2026-10-31T23:00"));
    assert!(state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-11-01 01:30 EDT");
    // A night of 3.5 wall-clock hours is 3.5 real hours.
    let start = at_local(&s, "2026-10-31T22:00");
    assert_eq!(state.until.unwrap().duration_since(start).as_mins(), 210);
    // At the second 01:30 (EST) the window is over.
    let second = state.until.unwrap() + jiff::SignedDuration::from_hours(1);
    assert_eq!(local(&s, second), "2026-11-01 01:30 EST");
    assert!(!s.state_at(second).armed);
}

#[test]
fn new_york_fall_back_a_night_window_is_an_hour_longer_in_real_time() {
    let s = every_day("America/New_York", &["22:00-06:00"]);
    let start = at_local(&s, "2026-10-31T22:00");
    let state = s.state_at(start);
    assert!(state.armed);
    assert_eq!(local(&s, state.until.unwrap()), "2026-11-01 06:00 EST");
    assert_eq!(state.until.unwrap().duration_since(start).as_hours(), 9);
}

// ---- copy day to week ----------------------------------------------------

fn arb_day() -> impl Strategy<Value = Vec<ArmedWindow>> {
    // Up to three windows on a quarter-hour grid, sorted and disjoint.
    proptest::collection::btree_set(0u16..=96, 0..=6).prop_map(|set| {
        let v: Vec<u16> = set.into_iter().collect();
        v.chunks_exact(2)
            .map(|p| {
                ArmedWindow::new(
                    TimeOfDay::from_minutes(p[0] * 15).unwrap(),
                    TimeOfDay::from_minutes(p[1] * 15).unwrap(),
                )
            })
            .filter(|w| w.check().is_ok())
            .collect()
    })
}

proptest! {
    #[test]
    fn copy_day_to_week_gives_seven_equal_days(
        source in 0usize..7,
        days in proptest::collection::vec(arb_day(), 7),
        probe in 0u16..1440,
    ) {
        let mut spec = ScheduleSpec::empty("Asia/Tokyo");
        for (day, w) in WEEKDAYS.into_iter().zip(days.clone()) {
            spec.set_day(day, w);
        }
        spec.copy_day_to_week(WEEKDAYS[source]);
        for day in WEEKDAYS {
            prop_assert_eq!(spec.week.day(day), &days[source]);
        }
        // And it evaluates the same at the same wall-clock time each day.
        let s = WeeklySchedule::new(spec).unwrap();
        let monday = Date::constant(2026, 11, 23);
        let armed: Vec<bool> = (0..7)
            .map(|d| {
                let date = monday.checked_add(jiff::Span::new().days(d)).unwrap();
                let dt = date.at((probe / 60) as i8, (probe % 60) as i8, 0, 0);
                s.state_at(dt.to_zoned(s.time_zone().clone()).unwrap().timestamp()).armed
            })
            .collect();
        prop_assert!(armed.iter().all(|a| *a == armed[0]), "{:?}", armed);
    }
}
