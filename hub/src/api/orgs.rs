//! An organisation's own settings: sharing, sites and sub-sites, the
//! dealers that serve it, and its audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use picket_access::{Directory, OrgKind, Permission, Sharing, Target};
use picket_proto::ids::{OrgId, SiteId};
use picket_proto::schedule::ScheduleSpec;
use serde::Deserialize;

use super::caller::Caller;
use super::people::{new_id, parse_org, text_field};
use super::{ApiError, ApiJson, ApiQuery, ApiState};
use crate::store::{AuditRecord, SiteRow};

fn customer(state: &ApiState, org: OrgId) -> Result<(), ApiError> {
    match state.directory().org_kind(org) {
        Some(OrgKind::Customer) => Ok(()),
        Some(_) => Err(ApiError::Invalid(
            "organisation: only a customer has this".into(),
        )),
        None => Err(ApiError::NotFound(
            "organisation not found (or not yours)".into(),
        )),
    }
}

/// `GET /api/v1/organisations/{org}/sharing`.
pub async fn sharing(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
) -> Result<Json<Sharing>, ApiError> {
    let org = parse_org(&org)?;
    customer(&state, org)?;
    if let Some(actor) = &caller.actor
        && actor.org != org
    {
        caller.check(&state, Permission::ViewSites, &Target::Organisation(org))?;
    }
    state
        .directory()
        .sharing(org)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("organisation not found".into()))
}

/// `PUT /api/v1/organisations/{org}/sharing`: what the customer's users see.
pub async fn set_sharing(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<Sharing>,
) -> Result<Json<Sharing>, ApiError> {
    let org = parse_org(&org)?;
    customer(&state, org)?;
    caller.check(
        &state,
        Permission::ManageSharing,
        &Target::Organisation(org),
    )?;
    let now = state.clock.now();
    let audit = caller.audit(
        "organisation.sharing.set",
        format!("organisation:{org}"),
        Some(org),
        serde_json::json!({ "before": state.directory().sharing(org), "after": body }),
    );
    state
        .with_store(move |s| Ok(s.set_sharing(org, &body, &audit, now)?))
        .await?;
    state.refresh_directory().await?;
    Ok(Json(body))
}

/// A new site.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    name: String,
    /// Its master site, for a sub-site.
    #[serde(default)]
    parent: Option<SiteId>,
    /// Default: never armed, in Europe/Copenhagen.
    #[serde(default)]
    schedule: Option<ScheduleSpec>,
}

/// `POST /api/v1/organisations/{org}/sites`: a site, or a sub-site of one
/// of the organisation's sites.
pub async fn create_site(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<NewSite>,
) -> Result<(StatusCode, Json<SiteRow>), ApiError> {
    let org = parse_org(&org)?;
    customer(&state, org)?;
    let name = text_field("name", &body.name, 200)?;
    match body.parent {
        // A sub-site needs the right on its master site.
        Some(parent) => {
            let owner = state.directory().site(parent).map(|e| e.owner);
            if owner != Some(org) {
                return Err(ApiError::Invalid(
                    "parent: not a site of this organisation".into(),
                ));
            }
            caller.check(&state, Permission::ManageSites, &Target::Site(parent))?;
        }
        None => caller.check(&state, Permission::ManageSites, &Target::Organisation(org))?,
    }
    let spec = body
        .schedule
        .unwrap_or_else(|| ScheduleSpec::empty("Europe/Copenhagen"));
    let schedule = super::sites::validate(spec)?;
    let id = new_id(SiteId::from_uuid, &state)?;
    let now = state.clock.now();
    let audit = caller.audit(
        "site.create",
        format!("site:{id}"),
        Some(org),
        serde_json::json!({ "name": name, "parent": body.parent }),
    );
    let parent = body.parent;
    let placed = caller.audit(
        "site.place",
        format!("site:{id}"),
        Some(org),
        serde_json::json!({ "parent": parent }),
    );
    let row = state
        .with_store(move |s| {
            s.upsert_site(id, &name, &schedule, &audit, now)?;
            s.place_site(id, org, parent, &placed, now)?;
            s.site(id)?
                .ok_or_else(|| ApiError::Internal("site vanished".into()))
        })
        .await?;
    state.refresh_directory().await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// `GET /api/v1/organisations/{org}/sites`: the sites I may see.
pub async fn list_sites(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
) -> Result<Json<Vec<SiteRow>>, ApiError> {
    let org = parse_org(&org)?;
    customer(&state, org)?;
    let ids: Vec<SiteId> = state
        .directory()
        .sites_of(org)
        .filter(|site| caller.allows(&state, Permission::ViewSites, &Target::Site(*site)))
        .collect();
    if ids.is_empty()
        && let Some(actor) = &caller.actor
        && actor.org != org
    {
        caller.check(&state, Permission::ViewSites, &Target::Organisation(org))?;
    }
    let mut rows = state
        .with_store(move |s| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(row) = s.site(id)? {
                    out.push(row);
                }
            }
            Ok(out)
        })
        .await?;
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(rows))
}

/// `PUT` / `DELETE /api/v1/organisations/{customer}/dealers/{dealer}`:
/// the operator records which dealer serves a customer.
pub async fn set_dealer(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((customer_id, dealer)): Path<(String, String)>,
    method: axum::http::Method,
) -> Result<StatusCode, ApiError> {
    let customer_org = parse_org(&customer_id)?;
    let dealer = parse_org(&dealer)?;
    customer(&state, customer_org)?;
    if state.directory().org_kind(dealer) != Some(OrgKind::Dealer) {
        return Err(ApiError::Invalid(
            "dealer: not a dealer organisation".into(),
        ));
    }
    if let Some(actor) = &caller.actor {
        caller.check(
            &state,
            Permission::ManageOrganisations,
            &Target::Organisation(actor.org),
        )?;
    }
    let serves = method == axum::http::Method::PUT;
    let now = state.clock.now();
    let audit = caller.audit(
        if serves {
            "organisation.dealer.add"
        } else {
            "organisation.dealer.remove"
        },
        format!("organisation:{customer_org}"),
        Some(customer_org),
        serde_json::json!({ "dealer": dealer }),
    );
    state
        .with_store(move |s| Ok(s.set_dealer_of(customer_org, dealer, serves, &audit, now)?))
        .await?;
    state.refresh_directory().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Audit log paging.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /api/v1/organisations/{org}/audit?before=SEQ&limit=N`: newest
/// first.
pub async fn audit(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    let org = parse_org(&org)?;
    if state.directory().org_kind(org).is_none() {
        return Err(ApiError::NotFound(
            "organisation not found (or not yours)".into(),
        ));
    }
    caller.check(&state, Permission::ViewAudit, &Target::Organisation(org))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state
        .with_store(move |s| Ok(s.audit_entries(Some(org), q.before, limit)?))
        .await?;
    Ok(Json(rows))
}
