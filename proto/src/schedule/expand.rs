//! Turning a schedule into armed periods on the time line.
//!
//! Each date contributes its windows (the weekday's, or its exception's) as
//! instants; windows are visited in start order and joined while they touch
//! or overlap. The state at an instant is read off the joined periods.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use super::local_time::resolve;
use super::{DayException, ScheduleState, WeeklySchedule, window::ArmedWindow};

/// How far past the last date that can differ from the weekly pattern we
/// look for a change: a full week plus the night that spills over.
const PATTERN_DAYS: i64 = 9;
/// Never look further ahead than this.
const MAX_SCAN_DAYS: i64 = 800;

pub(super) fn state_at(schedule: &WeeklySchedule, at: Timestamp) -> ScheduleState {
    let zone = schedule.time_zone();
    let today = zone.to_datetime(at).date();
    // A window from yesterday may still be running; none reaches further back.
    let first = today.yesterday().unwrap_or(today);
    let last_special = schedule
        .spec()
        .exceptions
        .keys()
        .next_back()
        .copied()
        .filter(|d| *d > today);
    let horizon_days = match last_special {
        Some(d) => (d - today).get_days() as i64 + PATTERN_DAYS,
        None => PATTERN_DAYS,
    }
    .min(MAX_SCAN_DAYS);

    let mut run: Option<(Timestamp, Timestamp)> = None;
    let mut date = first;
    for _ in 0..=horizon_days + 1 {
        let mut verdict = None;
        for_each_interval(schedule, date, |start, end| {
            if verdict.is_some() || start >= end {
                return;
            }
            match run {
                Some((run_start, run_end)) if start <= run_end => {
                    run = Some((run_start, run_end.max(end)));
                }
                Some(closed) => {
                    verdict = judge(closed, at);
                    run = Some((start, end));
                }
                None => run = Some((start, end)),
            }
        });
        if let Some(state) = verdict {
            return state;
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    // Horizon reached: the last period may go on beyond it.
    match run {
        Some((start, end)) if start <= at && at < end => ScheduleState {
            armed: true,
            until: None,
        },
        Some((start, _)) if start > at => ScheduleState {
            armed: false,
            until: Some(start),
        },
        _ => ScheduleState {
            armed: false,
            until: None,
        },
    }
}

/// The verdict from a closed armed period, if it decides the state at `at`.
fn judge((start, end): (Timestamp, Timestamp), at: Timestamp) -> Option<ScheduleState> {
    if end <= at {
        None
    } else if start <= at {
        Some(ScheduleState {
            armed: true,
            until: Some(end),
        })
    } else {
        Some(ScheduleState {
            armed: false,
            until: Some(start),
        })
    }
}

/// Calls `f(start, end)` for each window that starts on `date`, in order.
fn for_each_interval(
    schedule: &WeeklySchedule,
    date: Date,
    mut f: impl FnMut(Timestamp, Timestamp),
) {
    let spec = schedule.spec();
    let zone = schedule.time_zone();
    const ALL_DAY: &[ArmedWindow] = &[ArmedWindow::all_day()];
    let windows: &[ArmedWindow] = match spec.exceptions.get(&date) {
        Some(DayException::ArmedAllDay) => ALL_DAY,
        Some(DayException::DisarmedAllDay) => &[],
        Some(DayException::Windows(windows)) => windows,
        None => spec.week.day(date.weekday()),
    };
    if windows.is_empty() {
        return;
    }
    let Ok(next) = date.tomorrow() else { return };
    // An exception owns its whole date: nothing from today runs into it.
    let cutoff = if spec.exceptions.contains_key(&next) {
        resolve(zone, next.to_datetime(jiff::civil::Time::midnight()))
    } else {
        None
    };
    for window in windows {
        let (start, end) = window.span_minutes();
        let local = |minutes: u16| {
            let midnight = date.to_datetime(jiff::civil::Time::midnight());
            midnight.checked_add(i64::from(minutes).minutes()).ok()
        };
        let (Some(start), Some(end)) = (
            local(start).and_then(|dt| resolve(zone, dt)),
            local(end).and_then(|dt| resolve(zone, dt)),
        ) else {
            continue;
        };
        let end = match cutoff {
            Some(cut) => end.min(cut),
            None => end,
        };
        f(start, end);
    }
}
