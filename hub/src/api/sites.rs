//! `/api/v1/sites`: create, schedule, level, temporary disarm.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use picket_proto::disarm::TemporaryDisarm;
use picket_proto::ids::SiteId;
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};
use serde::Deserialize;

use super::caller::Caller;
use super::{ApiError, ApiJson, ApiState};
use crate::store::SiteRow;
use axum::Extension;
use picket_access::{Permission, Target};

/// A site id from a path, or a 422 naming the field.
pub(super) fn parse_site(text: &str) -> Result<SiteId, ApiError> {
    text.parse()
        .map_err(|e: picket_proto::ids::IdError| ApiError::Invalid(format!("site: {e}")))
}

pub(super) fn validate(spec: ScheduleSpec) -> Result<WeeklySchedule, ApiError> {
    WeeklySchedule::new(spec).map_err(|e| ApiError::Invalid(format!("invalid schedule: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    name: String,
    schedule: ScheduleSpec,
    /// The customer that owns it (places the site in the access model).
    #[serde(default)]
    org: Option<picket_proto::ids::OrgId>,
    /// Its master site, for a sub-site.
    #[serde(default)]
    parent: Option<SiteId>,
}

pub async fn upsert(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(body): ApiJson<SiteBody>,
) -> Result<Json<SiteRow>, ApiError> {
    let site = parse_site(&site)?;
    // Creating and renaming sites is the operator's job until sites
    // are managed per organisation (ManageSites on a placed site).
    if let Some(actor) = &caller.actor {
        caller.check(
            &state,
            Permission::ManageOrganisations,
            &Target::Organisation(actor.org),
        )?;
    }
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(ApiError::Invalid(
            "a site name must be 1-200 characters".into(),
        ));
    }
    let schedule = validate(body.schedule)?;
    if let Some(org) = body.org
        && picket_access::Directory::org_kind(&*state.directory(), org)
            != Some(picket_access::OrgKind::Customer)
    {
        return Err(ApiError::Invalid("org: not a customer organisation".into()));
    }
    let place = body.org.map(|org| {
        (
            org,
            body.parent,
            caller.audit(
                "site.place",
                format!("site:{site}"),
                Some(org),
                serde_json::json!({ "parent": body.parent }),
            ),
        )
    });
    let now = state.clock.now();
    let audit = caller.audit(
        "site.upsert",
        format!("site:{site}"),
        state.site_org(site).or(body.org),
        serde_json::json!({ "name": body.name }),
    );
    let (units, row) = state
        .with_store(move |s| {
            let units = s.upsert_site(site, &body.name, &schedule, &audit, now)?;
            if let Some((org, parent, audit)) = &place {
                s.place_site(site, *org, *parent, audit, now)?;
            }
            let row = s
                .site(site)?
                .ok_or_else(|| ApiError::NotFound(format!("site {site}")))?;
            Ok((units, row))
        })
        .await?;
    state.refresh_directory().await?;
    state.publish_configs(units).await?;
    Ok(Json(row))
}

/// A site with its security status now.
#[derive(Debug, serde::Serialize)]
pub struct SiteView {
    #[serde(flatten)]
    row: SiteRow,
    /// What the arm-state engine says for the site now (units in
    /// relocation are paused on their own; see each unit's state).
    status: SiteStatus,
}

/// The engine's verdict, with its reason in words.
#[derive(Debug, serde::Serialize)]
pub struct SiteStatus {
    state: picket_proto::arming::ArmState,
    /// E.g. "armed by schedule until 07:00".
    reason: String,
    /// When the state next changes by itself.
    changes_at: Option<Timestamp>,
}

/// The site's status at `now` by the same engine the units run.
fn status(row: &SiteRow, now: Timestamp) -> Result<SiteStatus, ApiError> {
    let schedule = validate(row.schedule.clone())?;
    let inputs = picket_proto::arming::ArmingInputs {
        schedule: &schedule,
        level: &row.level,
        disarm: row.disarm.as_ref(),
        relocation: picket_proto::relocation::RelocationState::Active,
    };
    let verdict = picket_proto::arming::evaluate(&inputs, now);
    Ok(SiteStatus {
        state: verdict.state,
        reason: verdict.to_string(),
        changes_at: verdict.changes_at,
    })
}

pub async fn get(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
) -> Result<Json<SiteView>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::ViewSites, &Target::Site(site))?;
    let row = state
        .with_store(move |s| Ok(s.site(site)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site {site} not found")))?;
    let status = status(&row, state.clock.now())?;
    Ok(Json(SiteView { row, status }))
}

pub async fn schedule(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(spec): ApiJson<ScheduleSpec>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::EditSchedule, &Target::Site(site))?;
    let schedule = validate(spec)?;
    let audit = caller.audit(
        "site.schedule.set",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::Value::Null,
    );
    let now = state.clock.now();
    let units = state
        .with_store(move |s| Ok(s.set_schedule(site, &schedule, &audit, now)?))
        .await?;
    respond(&state, site, units).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisarmBody {
    until: Timestamp,
    /// Who, for the operator token only (a person is named by their
    /// sign-in).
    #[serde(default = "operator_name")]
    by: String,
}

fn operator_name() -> String {
    "the operator".into()
}

pub async fn disarm(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(body): ApiJson<DisarmBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::Disarm, &Target::Site(site))?;
    // Who disarmed is who is signed in; the body's `by` only names the
    // person for the operator token (scripts, the demo).
    let by = match &caller.actor {
        Some(actor) => format!("{} ({})", caller.label, actor.role.name()),
        None if body.by.trim().is_empty() => operator_name(),
        None => body.by,
    };
    let disarm = TemporaryDisarm::new(state.clock.now(), body.until, by)
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    let audit = caller.audit(
        "site.disarm",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::json!({ "until": body.until }),
    );
    let now = state.clock.now();
    let units = state
        .with_store(move |s| Ok(s.set_disarm(site, Some(&disarm), &audit, now)?))
        .await?;
    respond(&state, site, units).await
}

pub async fn cancel_disarm(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::Disarm, &Target::Site(site))?;
    let audit = caller.audit(
        "site.disarm.cancel",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::Value::Null,
    );
    let now = state.clock.now();
    let units = state
        .with_store(move |s| Ok(s.set_disarm(site, None, &audit, now)?))
        .await?;
    respond(&state, site, units).await
}

pub(super) async fn respond(
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
