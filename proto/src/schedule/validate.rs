//! Schedule validation: one pass that either accepts a spec (normalised:
//! windows sorted) or names the first problem found.

use jiff::tz::TimeZone;

use super::window::WindowProblem;
use super::{
    ArmedWindow, DayException, DayRef, EXCEPTION_YEARS, MAX_EXCEPTIONS, MAX_WINDOWS_PER_DAY,
    MINUTES_PER_DAY, ScheduleError, ScheduleSpec, WEEKDAYS, zone,
};

const MINUTES_PER_WEEK: u32 = 7 * MINUTES_PER_DAY as u32;

/// A window placed on a line of minutes, with where it came from.
struct Placed {
    start: u32,
    end: u32,
    day: DayRef,
    window: ArmedWindow,
}

pub(super) fn validate(spec: &mut ScheduleSpec) -> Result<TimeZone, ScheduleError> {
    let zone = zone::lookup(&spec.time_zone)
        .ok_or_else(|| ScheduleError::UnknownTimeZone(spec.time_zone.clone()))?;

    let mut week = Vec::new();
    for (index, day) in WEEKDAYS.into_iter().enumerate() {
        let windows = spec.week.day_mut(day);
        check_windows(DayRef::Weekday(day), windows)?;
        let offset = index as u32 * u32::from(MINUTES_PER_DAY);
        for window in windows.iter() {
            let (start, end) = window.span_minutes();
            let placed = Placed {
                start: offset + u32::from(start),
                end: offset + u32::from(end),
                day: DayRef::Weekday(day),
                window: *window,
            };
            // Sunday night runs into Monday morning: check it there too.
            if placed.end > MINUTES_PER_WEEK {
                week.push(Placed {
                    start: 0,
                    end: placed.end - MINUTES_PER_WEEK,
                    ..placed
                });
            }
            week.push(placed);
        }
    }
    check_overlaps(week)?;

    if spec.exceptions.len() > MAX_EXCEPTIONS {
        return Err(ScheduleError::TooManyExceptions(spec.exceptions.len()));
    }
    for (date, exception) in spec.exceptions.iter_mut() {
        if !EXCEPTION_YEARS.contains(&date.year()) {
            return Err(ScheduleError::ExceptionOutOfRange(*date));
        }
        if let DayException::Windows(windows) = exception {
            let day = DayRef::Date(*date);
            check_windows(day, windows)?;
            check_overlaps(
                windows
                    .iter()
                    .map(|w| {
                        let (start, end) = w.span_minutes();
                        Placed {
                            start: start.into(),
                            end: end.into(),
                            day,
                            window: *w,
                        }
                    })
                    .collect(),
            )?;
        }
    }
    Ok(zone)
}

/// Checks each window of one day on its own, and sorts them.
fn check_windows(day: DayRef, windows: &mut [ArmedWindow]) -> Result<(), ScheduleError> {
    if windows.len() > MAX_WINDOWS_PER_DAY {
        return Err(ScheduleError::TooManyWindows {
            day,
            count: windows.len(),
        });
    }
    for window in windows.iter() {
        match window.check() {
            Ok(()) => {}
            Err(WindowProblem::ZeroLength) => {
                return Err(ScheduleError::ZeroLength {
                    day,
                    window: *window,
                });
            }
            Err(WindowProblem::StartsAtEndOfDay) => {
                return Err(ScheduleError::StartsAtEndOfDay {
                    day,
                    window: *window,
                });
            }
        }
    }
    windows.sort();
    Ok(())
}

/// Refuses any two placed windows that share a minute (touching is fine).
fn check_overlaps(mut placed: Vec<Placed>) -> Result<(), ScheduleError> {
    placed.sort_by_key(|p| (p.start, p.end));
    let mut reach: Option<&Placed> = None;
    for p in &placed {
        if let Some(prev) = reach
            && p.start < prev.end
        {
            return Err(ScheduleError::Overlap {
                first_day: prev.day,
                first: prev.window,
                second_day: p.day,
                second: p.window,
            });
        }
        if reach.is_none_or(|prev| p.end > prev.end) {
            reach = Some(p);
        }
    }
    Ok(())
}
