//! `/api/v1/sites`: create, schedule, level, temporary disarm.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use picket_proto::disarm::TemporaryDisarm;
use picket_proto::ids::SiteId;
use picket_proto::level::SecurityLevel;
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};
use serde::Deserialize;

use super::{ApiError, ApiState};
use crate::store::SiteRow;

fn parse_site(text: &str) -> Result<SiteId, ApiError> {
    text.parse()
        .map_err(|e: picket_proto::ids::IdError| ApiError::Invalid(e.to_string()))
}

fn validate(spec: ScheduleSpec) -> Result<WeeklySchedule, ApiError> {
    WeeklySchedule::new(spec).map_err(|e| ApiError::Invalid(format!("invalid schedule: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    name: String,
    schedule: ScheduleSpec,
}

pub async fn upsert(
    State(state): State<ApiState>,
    Path(site): Path<String>,
    Json(body): Json<SiteBody>,
) -> Result<Json<SiteRow>, ApiError> {
    let site = parse_site(&site)?;
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(ApiError::Invalid(
            "a site name must be 1-200 characters".into(),
        ));
    }
    let schedule = validate(body.schedule)?;
    let (units, row) = state
        .with_store(move |s| {
            let units = s.upsert_site(site, &body.name, &schedule)?;
            let row = s
                .site(site)?
                .ok_or_else(|| ApiError::NotFound(format!("site {site}")))?;
            Ok((units, row))
        })
        .await?;
    tracing::info!(target: "audit", actor = "operator", %site, "site created or renamed");
    state.publish_configs(units).await?;
    Ok(Json(row))
}

pub async fn get(
    State(state): State<ApiState>,
    Path(site): Path<String>,
) -> Result<Json<SiteRow>, ApiError> {
    let site = parse_site(&site)?;
    let row = state.with_store(move |s| Ok(s.site(site)?)).await?;
    row.map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("site {site} not found")))
}

pub async fn schedule(
    State(state): State<ApiState>,
    Path(site): Path<String>,
    Json(spec): Json<ScheduleSpec>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    let schedule = validate(spec)?;
    let units = state
        .with_store(move |s| Ok(s.set_schedule(site, &schedule)?))
        .await?;
    tracing::info!(target: "audit", actor = "operator", %site, "schedule changed");
    respond(&state, site, units).await
}

pub async fn level(
    State(state): State<ApiState>,
    Path(site): Path<String>,
    Json(level): Json<SecurityLevel>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    if level.name.trim().is_empty() || level.centre_priority == 0 {
        return Err(ApiError::Invalid(
            "a level needs a name and a centre priority of 1 or more".into(),
        ));
    }
    let units = state
        .with_store(move |s| Ok(s.set_level(site, &level)?))
        .await?;
    tracing::info!(target: "audit", actor = "operator", %site, "security level changed");
    respond(&state, site, units).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisarmBody {
    until: Timestamp,
    by: String,
}

pub async fn disarm(
    State(state): State<ApiState>,
    Path(site): Path<String>,
    Json(body): Json<DisarmBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    let disarm = TemporaryDisarm::new(state.clock.now(), body.until, body.by)
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    let units = state
        .with_store(move |s| Ok(s.set_disarm(site, Some(&disarm))?))
        .await?;
    tracing::info!(target: "audit", actor = "operator", %site, until = %body.until, "site disarmed");
    respond(&state, site, units).await
}

pub async fn cancel_disarm(
    State(state): State<ApiState>,
    Path(site): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    let units = state
        .with_store(move |s| Ok(s.set_disarm(site, None)?))
        .await?;
    tracing::info!(target: "audit", actor = "operator", %site, "disarm cancelled");
    respond(&state, site, units).await
}

async fn respond(
    state: &ApiState,
    site: SiteId,
    units: Vec<picket_proto::ids::UnitId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let count = units.len();
    state.publish_configs(units).await?;
    Ok(Json(
        serde_json::json!({ "site": site, "units_updated": count }),
    ))
}
