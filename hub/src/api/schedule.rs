//! `/api/v1/sites/{site}/schedule/…`: editing a site's week the way people
//! do — one day at a time, "copy day to entire week", and dated exceptions
//! (a holiday armed all day, a late opening). Each edit is validated as a
//! whole schedule, stored with its audit entry, and sent to the site's
//! units as a new desired-config version (pending until they apply it).
//! The read-modify-write happens under the store's lock, so two editors
//! never lose each other's change.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use jiff::civil::{Date, Weekday};
use picket_access::{Permission, Target};
use picket_proto::ids::SiteId;
use picket_proto::schedule::{ArmedWindow, DayException, ScheduleSpec, WEEKDAYS};
use serde::Deserialize;

use super::caller::Caller;
use super::sites::{parse_site, validate};
use super::{ApiError, ApiJson, ApiState};
use crate::store::AuditEntry;

/// The most exceptions a schedule keeps (a few years of holidays).
const MAX_EXCEPTIONS: usize = 400;

/// `monday` … `sunday`.
fn parse_day(text: &str) -> Result<Weekday, ApiError> {
    const NAMES: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(text))
        .map(|i| WEEKDAYS[i])
        .ok_or_else(|| ApiError::Invalid(format!("day: {text:?} is not monday … sunday")))
}

fn parse_date(text: &str) -> Result<Date, ApiError> {
    text.parse()
        .map_err(|e| ApiError::Invalid(format!("date: {text:?} is not a date (YYYY-MM-DD): {e}")))
}

/// Changes the site's schedule with `edit`, validates the result, stores it
/// with `audit` and publishes it; answers with the new schedule.
async fn edit(
    state: &ApiState,
    caller: &Caller,
    site: SiteId,
    action: &str,
    detail: serde_json::Value,
    change: impl FnOnce(&mut ScheduleSpec) -> Result<(), ApiError> + Send + 'static,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.check(state, Permission::EditSchedule, &Target::Site(site))?;
    let audit: AuditEntry =
        caller.audit(action, format!("site:{site}"), state.site_org(site), detail);
    let now = state.clock.now();
    let (spec, units) = state
        .with_store(move |s| {
            let row = s
                .site(site)?
                .ok_or_else(|| ApiError::NotFound(format!("site {site}")))?;
            let mut spec = row.schedule;
            change(&mut spec)?;
            if spec.exceptions.len() > MAX_EXCEPTIONS {
                return Err(ApiError::Invalid(format!(
                    "exceptions: at most {MAX_EXCEPTIONS}; remove past ones first"
                )));
            }
            let schedule = validate(spec.clone())?;
            let units = s.set_schedule(site, &schedule, &audit, now)?;
            Ok((spec, units))
        })
        .await?;
    let count = units.len();
    state.publish_configs(units).await?;
    Ok(Json(serde_json::json!({
        "site": site,
        "schedule": spec,
        "units_updated": count,
    })))
}

/// `PUT /sites/{site}/schedule/days/{day}`: one weekday's armed windows,
/// e.g. `["18:00-07:00"]` (`[]`: not armed that day).
pub async fn set_day(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((site, day)): Path<(String, String)>,
    ApiJson(windows): ApiJson<Vec<ArmedWindow>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    let weekday = parse_day(&day)?;
    let detail = serde_json::json!({ "day": day.to_lowercase(), "windows": windows });
    edit(
        &state,
        &caller,
        site,
        "site.schedule.day",
        detail,
        move |spec| {
            spec.set_day(weekday, windows);
            Ok(())
        },
    )
    .await
}

/// The day to copy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyDay {
    day: String,
}

/// `POST /sites/{site}/schedule/copy-day` `{"day": "monday"}`: every
/// weekday gets that day's windows ("Copy day to entire week").
pub async fn copy_day(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(body): ApiJson<CopyDay>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    let weekday = parse_day(&body.day)?;
    let detail = serde_json::json!({ "day": body.day.to_lowercase() });
    edit(
        &state,
        &caller,
        site,
        "site.schedule.copy_day",
        detail,
        move |spec| {
            spec.copy_day_to_week(weekday);
            Ok(())
        },
    )
    .await
}

/// `PUT /sites/{site}/schedule/exceptions/{date}`: that date follows
/// `"armed_all_day"`, `"disarmed_all_day"` or `{"windows": [...]}` instead
/// of its weekday.
pub async fn set_exception(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((site, date)): Path<(String, String)>,
    ApiJson(exception): ApiJson<DayException>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    let date = parse_date(&date)?;
    let detail = serde_json::json!({ "date": date, "exception": exception });
    edit(
        &state,
        &caller,
        site,
        "site.schedule.exception.set",
        detail,
        move |spec| {
            spec.exceptions.insert(date, exception);
            Ok(())
        },
    )
    .await
}

/// `DELETE /sites/{site}/schedule/exceptions/{date}`: the date follows its
/// weekday again.
pub async fn remove_exception(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((site, date)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    let date = parse_date(&date)?;
    let detail = serde_json::json!({ "date": date });
    edit(
        &state,
        &caller,
        site,
        "site.schedule.exception.remove",
        detail,
        move |spec| {
            spec.exceptions
                .remove(&date)
                .map(|_| ())
                .ok_or_else(|| ApiError::NotFound(format!("an exception on {date}")))
        },
    )
    .await
}
