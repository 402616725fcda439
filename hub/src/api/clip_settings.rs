//! A site's clip recording: how many seconds before and after an alarm its
//! units' cameras keep, and the longest clip when alarms keep extending
//! one. `GET` for those who see the site, `PUT` for those who manage it
//! (audited); a change goes to the site's units as a new config, which
//! they apply from their next alarm on.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, response::IntoResponse};
use picket_access::{Permission, Target};
use picket_proto::message::ClipSettings;

use super::caller::Caller;
use super::{ApiError, ApiJson, ApiState};

/// `GET /sites/{site}/clip-settings`.
pub async fn get(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
) -> Result<Json<ClipSettings>, ApiError> {
    let site = super::sites::parse_site(&site)?;
    caller.check(&state, Permission::ViewSites, &Target::Site(site))?;
    let row = state
        .with_store(move |s| Ok(s.site(site)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site {site} not found")))?;
    Ok(Json(row.clip_settings))
}

/// `PUT /sites/{site}/clip-settings`
/// `{"pre_roll_s": 0..=60, "post_roll_s": 1..=300, "max_clip_s": pre+post..=600}`.
pub async fn set(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(settings): ApiJson<ClipSettings>,
) -> Result<impl IntoResponse, ApiError> {
    let site = super::sites::parse_site(&site)?;
    caller.check(&state, Permission::ManageSites, &Target::Site(site))?;
    settings
        .check()
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    let audit = caller.audit(
        "site.clip_settings.set",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::to_value(settings).unwrap_or_default(),
    );
    let now = state.clock().now();
    let units = state
        .with_store(move |s| Ok(s.set_clip_settings(site, &settings, &audit, now)?))
        .await?;
    let count = units.len();
    state.publish_configs(units).await?;
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({
            "site": site,
            "clip_settings": settings,
            "units_updated": count,
        })),
    ))
}
