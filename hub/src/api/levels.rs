//! Security levels: `/api/v1/levels` is the operator's list of level
//! profiles (anyone signed in reads it, the operator's administrators edit
//! it) and `PUT /api/v1/sites/{site}/level` sets a site to one of them.
//! Editing a profile reaches every site that uses it, through the sync
//! layer like any other config change.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use picket_access::{OrgKind, Permission, Target};
use picket_proto::level::SecurityLevel;
use serde::Deserialize;

use super::caller::Caller;
use super::sites::{parse_site, respond};
use super::{ApiError, ApiJson, ApiState};
use crate::store::LevelProfile;

/// The most profiles an operator keeps (a choice, not a catalogue).
pub const MAX_PROFILES: usize = 32;

/// A profile key: 1-40 of `a-z 0-9 -`, starting with a letter.
fn parse_key(key: &str) -> Result<String, ApiError> {
    let ok = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(key.to_owned())
    } else {
        Err(ApiError::Invalid(format!(
            "level key {key:?}: use 1-40 of a-z, 0-9 and -, starting with a letter"
        )))
    }
}

fn valid_level(level: SecurityLevel) -> Result<SecurityLevel, ApiError> {
    let name = level.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::Invalid("name: 1-80 characters".into()));
    }
    if level.centre_priority == 0 || level.centre_priority > 9 {
        return Err(ApiError::Invalid(
            "centre_priority: 1 (most urgent) to 9".into(),
        ));
    }
    if level.sensors.is_empty() {
        return Err(ApiError::Invalid(
            "sensors: a level needs at least one sensor kind that raises alarms".into(),
        ));
    }
    let mut sensors = level.sensors;
    sensors.sort();
    sensors.dedup();
    Ok(SecurityLevel {
        name: name.to_owned(),
        sensors,
        ..level
    })
}

/// Only the operator's administrators (and the operator token) edit
/// the profiles.
fn check_operator_admin(state: &ApiState, caller: &Caller) -> Result<(), ApiError> {
    let Some(actor) = &caller.actor else {
        return Ok(());
    };
    if actor.org_kind() != OrgKind::Operator {
        return Err(ApiError::Forbidden(
            "security levels are defined by the operator; choose one for a site with PUT /api/v1/sites/{site}/level".into(),
        ));
    }
    caller.check(
        state,
        Permission::ManageOrganisations,
        &Target::Organisation(actor.org),
    )
}

/// `GET /levels`: every profile, in order, with how many sites use it.
pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<LevelProfile>>, ApiError> {
    let mut profiles = state.with_store(|s| Ok(s.level_profiles()?)).await?;
    // How many sites use a profile is the operator's business.
    if caller
        .actor
        .as_ref()
        .is_some_and(|a| a.org_kind() != OrgKind::Operator)
    {
        for p in &mut profiles {
            p.sites = 0;
        }
    }
    Ok(Json(profiles))
}

/// `PUT /levels/{key}`: creates or replaces a profile.
pub async fn put(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    ApiJson(level): ApiJson<SecurityLevel>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_operator_admin(&state, &caller)?;
    let key = parse_key(&key)?;
    let level = valid_level(level)?;
    let audit = caller.audit(
        "level.put",
        format!("level:{key}"),
        caller.actor.as_ref().map(|a| a.org),
        serde_json::to_value(&level).unwrap_or_default(),
    );
    let now = state.clock.now();
    let units = state
        .with_store(move |s| {
            let known = s.level_profile(&key)?.is_some();
            if !known && s.level_profiles()?.len() >= MAX_PROFILES {
                return Err(ApiError::Conflict(format!(
                    "at most {MAX_PROFILES} level profiles; remove one first"
                )));
            }
            Ok(s.put_level_profile(&key, &level, &audit, now)?)
        })
        .await?;
    let count = units.len();
    state.publish_configs(units).await?;
    Ok(Json(serde_json::json!({ "units_updated": count })))
}

/// `DELETE /levels/{key}`: removes a profile no site uses.
pub async fn remove(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    check_operator_admin(&state, &caller)?;
    let key = parse_key(&key)?;
    let audit = caller.audit(
        "level.remove",
        format!("level:{key}"),
        caller.actor.as_ref().map(|a| a.org),
        serde_json::Value::Null,
    );
    let now = state.clock.now();
    state
        .with_store(move |s| Ok(s.remove_level_profile(&key, &audit, now)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a site's level is set to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteLevelBody {
    /// A profile key from `GET /levels`.
    profile: String,
}

/// `PUT /sites/{site}/level`: sets the site to a profile.
pub async fn set_site(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(body): ApiJson<SiteLevelBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::SetLevel, &Target::Site(site))?;
    let key = body.profile;
    let audit = caller.audit(
        "site.level.set",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::json!({ "profile": key }),
    );
    let now = state.clock.now();
    let units = state
        .with_store(move |s| {
            if s.level_profile(&key)?.is_none() {
                return Err(ApiError::Invalid(format!(
                    "profile: no security level {key:?}; GET /api/v1/levels lists them"
                )));
            }
            Ok(s.set_site_profile(site, &key, &audit, now)?)
        })
        .await?;
    respond(&state, site, units).await
}
