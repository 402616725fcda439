//! The arm-state engine: precedence, reasons in words, and the properties
//! the issue names (state constant up to the next change and different at
//! it; a temporary disarm always ends at its chosen time).

mod support;

use jiff::{SignedDuration, Timestamp};
use picket_proto::arming::{ArmState, ArmingInputs, Reason, evaluate, next_change};
use picket_proto::disarm::TemporaryDisarm;
use picket_proto::level::{LevelArming, SecurityLevel};
use picket_proto::relocation::RelocationState;
use picket_proto::schedule::*;
use proptest::prelude::*;
use support::{site_schedule, ts};

fn inputs<'a>(
    schedule: &'a WeeklySchedule,
    level: &'a SecurityLevel,
    disarm: Option<&'a TemporaryDisarm>,
    relocation: RelocationState,
) -> ArmingInputs<'a> {
    ArmingInputs {
        schedule,
        level,
        disarm,
        relocation,
    }
}

fn level(arming: LevelArming) -> SecurityLevel {
    SecurityLevel {
        name: "Construction 24/7".into(),
        arming,
        ..SecurityLevel::standard()
    }
}

#[test]
fn armed_by_schedule_until_seven() {
    let s = site_schedule();
    let l = SecurityLevel::standard();
    // Monday 2026-11-23 22:00 CET.
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::Active),
        ts("2026-11-23T21:00Z"),
    );
    assert_eq!(e.state, ArmState::Armed);
    assert_eq!(e.to_string(), "armed by schedule until Tue 07:00");
    assert_eq!(e.changes_at, Some(ts("2026-11-24T06:00Z")));
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::Active),
        ts("2026-11-24T05:00Z"),
    );
    assert_eq!(e.to_string(), "armed by schedule until 07:00");
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::Active),
        ts("2026-11-24T09:00Z"),
    );
    assert_eq!(e.to_string(), "disarmed by schedule until 18:00");
}

#[test]
fn the_weekend_joins_friday_night_to_monday_morning() {
    let s = site_schedule();
    let l = SecurityLevel::standard();
    // Friday 2026-11-27 19:00 CET.
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::Active),
        ts("2026-11-27T18:00Z"),
    );
    assert_eq!(e.to_string(), "armed by schedule until Mon 07:00");
}

#[test]
fn disarmed_by_a_keyholder_until_half_past_nine() {
    let s = site_schedule();
    let l = SecurityLevel::standard();
    let d = TemporaryDisarm::new(
        ts("2026-11-23T17:00Z"),
        ts("2026-11-23T20:30Z"),
        "Anna Holm (keyholder)",
    )
    .unwrap();
    let i = inputs(&s, &l, Some(&d), RelocationState::Active);
    let e = evaluate(&i, ts("2026-11-23T19:00Z"));
    assert_eq!(e.state, ArmState::Disarmed);
    assert_eq!(
        e.to_string(),
        "disarmed by Anna Holm (keyholder) until 21:30"
    );
    // Schedule is armed at 21:30 local, so that is when the state changes.
    assert_eq!(e.changes_at, Some(d.until()));
    let after = evaluate(&i, d.until());
    assert_eq!(after.state, ArmState::Armed);
    assert_eq!(after.to_string(), "armed by schedule until Tue 07:00");
}

#[test]
fn a_disarm_ending_in_disarmed_time_changes_nothing_at_its_end() {
    let s = site_schedule();
    let l = SecurityLevel::standard();
    // Tuesday 2026-11-24 08:00–12:00 CET: schedule is disarmed all that time.
    let d = TemporaryDisarm::new(
        ts("2026-11-24T07:00Z"),
        ts("2026-11-24T11:00Z"),
        "Bo (site manager)",
    )
    .unwrap();
    let i = inputs(&s, &l, Some(&d), RelocationState::Active);
    let e = evaluate(&i, ts("2026-11-24T08:00Z"));
    assert!(matches!(e.reason, Reason::TemporaryDisarm { .. }));
    assert_eq!(
        e.changes_at,
        Some(ts("2026-11-24T17:00Z")),
        "18:00 CET, when the schedule arms"
    );
    assert_eq!(next_change(&i, ts("2026-11-24T08:00Z")), e.changes_at);
}

#[test]
fn a_disarm_beats_an_always_armed_level() {
    let s = site_schedule();
    let l = level(LevelArming::AlwaysArmed);
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::Active),
        ts("2026-11-24T09:00Z"),
    );
    assert_eq!(
        e.to_string(),
        "armed at all times by security level \"Construction 24/7\""
    );
    assert_eq!(e.changes_at, None);
    let d = TemporaryDisarm::new(ts("2026-11-24T09:00Z"), ts("2026-11-24T10:00Z"), "Anna").unwrap();
    let e = evaluate(
        &inputs(&s, &l, Some(&d), RelocationState::Active),
        ts("2026-11-24T09:30Z"),
    );
    assert_eq!(e.state, ArmState::Disarmed);
    assert_eq!(e.changes_at, Some(d.until()));
}

#[test]
fn a_never_armed_level_says_so() {
    let s = site_schedule();
    let l = SecurityLevel {
        name: "Off".into(),
        ..level(LevelArming::NeverArmed)
    };
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::Active),
        ts("2026-11-23T21:00Z"),
    );
    assert_eq!(e.state, ArmState::Disarmed);
    assert_eq!(e.to_string(), "disarmed: security level \"Off\" never arms");
}

#[test]
fn relocation_pauses_monitoring_over_everything() {
    let s = site_schedule();
    let l = level(LevelArming::AlwaysArmed);
    let d = TemporaryDisarm::new(ts("2026-11-23T17:00Z"), ts("2026-11-23T20:30Z"), "Anna").unwrap();
    let e = evaluate(
        &inputs(&s, &l, Some(&d), RelocationState::Relocating),
        ts("2026-11-23T19:00Z"),
    );
    assert_eq!(e.state, ArmState::Paused);
    assert_eq!(e.to_string(), "relocating: monitoring paused");
    assert_eq!(e.changes_at, None);
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::ActivationRequested),
        ts("2026-11-23T19:00Z"),
    );
    assert!(
        e.to_string()
            .starts_with("activation requested: monitoring paused"),
        "{e}"
    );
}

#[test]
fn far_changes_are_shown_with_their_date() {
    let mut spec = ScheduleSpec::empty("Europe/Copenhagen");
    spec.set_exception("2027-01-15".parse().unwrap(), DayException::ArmedAllDay);
    let s = WeeklySchedule::new(spec).unwrap();
    let l = SecurityLevel::standard();
    let e = evaluate(
        &inputs(&s, &l, None, RelocationState::Active),
        ts("2026-11-23T21:00Z"),
    );
    assert_eq!(e.to_string(), "disarmed by schedule until 2027-01-15 00:00");
}

// ---- properties ----------------------------------------------------------

const ZONES: [&str; 5] = [
    "Europe/Copenhagen",
    "America/New_York",
    "Australia/Lord_Howe", // a 30-minute DST shift
    "Asia/Tokyo",
    "UTC",
];

/// Instants of 2026's DST transitions in Copenhagen and New York.
const TRANSITIONS: [&str; 4] = [
    "2026-03-29T01:00Z",
    "2026-10-25T01:00Z",
    "2026-03-08T07:00Z",
    "2026-11-01T06:00Z",
];

fn arb_window() -> impl Strategy<Value = ArmedWindow> {
    // On a quarter-hour grid, so windows start and end inside DST gaps and folds.
    (0u16..96, 1u16..96).prop_map(|(start, len)| {
        let start = start * 15;
        let end = (start + len * 15) % 1440;
        let end = if end == 0 { 1440 } else { end };
        ArmedWindow::new(
            TimeOfDay::from_minutes(start).unwrap(),
            TimeOfDay::from_minutes(end).unwrap(),
        )
    })
}

fn arb_schedule() -> impl Strategy<Value = WeeklySchedule> {
    let day = proptest::collection::vec(arb_window(), 0..3);
    let exception = prop_oneof![
        Just(DayException::ArmedAllDay),
        Just(DayException::DisarmedAllDay),
        proptest::collection::vec(arb_window(), 0..3).prop_map(DayException::Windows),
    ];
    (
        0..ZONES.len(),
        proptest::collection::vec(day, 7),
        proptest::collection::btree_map(0i64..40, exception, 0..3),
    )
        .prop_filter_map("overlapping windows", |(zone, days, exceptions)| {
            let mut spec = ScheduleSpec::empty(ZONES[zone]);
            for (day, windows) in WEEKDAYS.into_iter().zip(days) {
                spec.set_day(day, windows);
            }
            let base: jiff::civil::Date = "2026-03-01".parse().unwrap();
            for (offset, exception) in exceptions {
                let date = base
                    .checked_add(jiff::Span::new().days(offset * 6))
                    .unwrap();
                spec.set_exception(date, exception);
            }
            WeeklySchedule::new(spec).ok()
        })
}

fn arb_instant() -> impl Strategy<Value = Timestamp> {
    let near_transition = (0..TRANSITIONS.len(), -36 * 3600i64..36 * 3600)
        .prop_map(|(i, s)| ts(TRANSITIONS[i]) + SignedDuration::from_secs(s));
    let any_time = (ts("2026-02-20T00:00Z").as_second()..ts("2026-12-31T00:00Z").as_second())
        .prop_map(|s| Timestamp::from_second(s).unwrap());
    prop_oneof![near_transition, any_time]
}

fn arb_case() -> impl Strategy<
    Value = (
        WeeklySchedule,
        SecurityLevel,
        Option<TemporaryDisarm>,
        RelocationState,
        Timestamp,
    ),
> {
    let level = prop_oneof![
        6 => Just(LevelArming::BySchedule),
        1 => Just(LevelArming::AlwaysArmed),
        1 => Just(LevelArming::NeverArmed),
    ]
    .prop_map(level);
    let relocation = prop_oneof![
        8 => Just(RelocationState::Active),
        1 => Just(RelocationState::Relocating),
        1 => Just(RelocationState::ActivationRequested),
    ];
    (
        arb_schedule(),
        level,
        relocation,
        arb_instant(),
        proptest::option::of((-48 * 3600i64..48 * 3600, 1i64..7 * 24 * 3600)),
    )
        .prop_map(|(schedule, level, relocation, at, disarm)| {
            let disarm = disarm.map(|(start, len)| {
                let from = at + SignedDuration::from_secs(start);
                TemporaryDisarm::new(from, from + SignedDuration::from_secs(len), "Anna").unwrap()
            });
            (schedule, level, disarm, relocation, at)
        })
}

/// Instants between `from` and `to` where a change could hide: every
/// quarter hour (the schedule's grid) over three days, plus the disarm's
/// edges and the instant just before `to`.
fn probes(from: Timestamp, to: Timestamp, disarm: Option<&TemporaryDisarm>) -> Vec<Timestamp> {
    let mut out: Vec<Timestamp> = (1..=(3 * 96))
        .map(|q| from + SignedDuration::from_mins(15 * q))
        .collect();
    if let Some(d) = disarm {
        for edge in [d.from(), d.until()] {
            out.extend([edge - SignedDuration::from_millis(1), edge]);
        }
    }
    out.push(to - SignedDuration::from_millis(1));
    out.retain(|t| *t > from && *t < to);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn the_state_holds_until_the_next_change_and_differs_at_it(
        (schedule, level, disarm, relocation, at) in arb_case()
    ) {
        let i = inputs(&schedule, &level, disarm.as_ref(), relocation);
        let e = evaluate(&i, at);
        prop_assert_eq!(next_change(&i, at), e.changes_at);
        let end = e.changes_at.unwrap_or(at + SignedDuration::from_hours(9 * 24));
        for t in probes(at, end, disarm.as_ref()) {
            prop_assert_eq!(evaluate(&i, t).state, e.state, "at {} (from {}, change {:?})", t, at, e.changes_at);
        }
        // Nothing changes, not even the reason, before the revisit instant.
        let revisit_end = e.revisit_at.unwrap_or(end);
        prop_assert!(e.revisit_at.is_some() || e.changes_at.is_none());
        if let (Some(revisit), Some(change)) = (e.revisit_at, e.changes_at) {
            prop_assert!(revisit <= change);
        }
        for t in probes(at, revisit_end, disarm.as_ref()) {
            prop_assert_eq!(&evaluate(&i, t).reason, &e.reason, "reason changed at {} before revisit {:?}", t, e.revisit_at);
        }
        if let Some(change) = e.changes_at {
            prop_assert!(change > at);
            prop_assert_ne!(evaluate(&i, change).state, e.state, "no change at {}", change);
        }
    }

    #[test]
    fn a_temporary_disarm_always_ends_at_its_chosen_time(
        (schedule, level, disarm, _relocation, at) in arb_case()
    ) {
        let Some(disarm) = disarm else { return Ok(()) };
        let i = inputs(&schedule, &level, Some(&disarm), RelocationState::Active);
        let during = evaluate(&i, disarm.until() - SignedDuration::from_millis(1));
        prop_assert_eq!(during.state, ArmState::Disarmed);
        let is_disarm = matches!(during.reason, Reason::TemporaryDisarm { until, .. } if until == disarm.until());
        prop_assert!(is_disarm);
        let after = evaluate(&i, disarm.until());
        let still_disarm = matches!(after.reason, Reason::TemporaryDisarm { .. });
        prop_assert!(!still_disarm, "disarm reason after its end: {}", after);
        // And the state after it is exactly what it would be with no disarm.
        let without = evaluate(&inputs(&schedule, &level, None, RelocationState::Active), disarm.until());
        prop_assert_eq!(after.state, without.state);
        let _ = at;
    }
}
