//! `/api/v1/units`: list, events, site assignment, relocation moves.

use axum::Json;
use axum::extract::{Path, State};
use picket_proto::ids::{EventId, SiteId, UnitId};
use picket_proto::position::Position;
use picket_proto::relocation::{RelocationActor, RelocationState};
use serde::{Deserialize, Serialize};

use super::caller::Caller;
use super::people::new_id;
use super::{ApiError, ApiJson, ApiQuery, ApiState};
use crate::store::{ActivationRequest, UnitRow};
use axum::Extension;
use axum::response::IntoResponse;
use picket_access::{OrgKind, Permission, Role, Target};

/// A unit with whether its config is pending.
#[derive(Debug, Serialize)]
pub struct UnitView {
    #[serde(flatten)]
    unit: UnitRow,
    /// The unit has not yet applied its desired config.
    pending: bool,
}

fn parse_unit(text: &str) -> Result<UnitId, ApiError> {
    text.parse()
        .map_err(|e: picket_proto::ids::IdError| ApiError::Invalid(e.to_string()))
}

/// Paging of `GET /api/v1/units`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many (default 1,000; at most 10,000).
    limit: Option<usize>,
    /// Only units whose id sorts after this one (the last id of the
    /// previous page, also given in the `X-Next-After` header).
    after: Option<UnitId>,
}

/// Most units per page by default.
const DEFAULT_PAGE: usize = 1000;

/// The units `caller` may see, by id. Reads only the units of the
/// organisations the caller can reach (its own, or for a dealer the
/// customers it serves; operators see the fleet), then the access model
/// decides unit by unit (site scopes); unassigned units are fleet stock,
/// for operator roles only.
pub(super) async fn visible_units(
    state: &ApiState,
    caller: &Caller,
) -> Result<Vec<UnitRow>, ApiError> {
    let orgs = match caller.actor.as_ref().map(|a| (a.org_kind(), a.org)) {
        None | Some((OrgKind::Operator, _)) => None,
        Some((OrgKind::Dealer, dealer)) => {
            Some(state.directory().customers_of(dealer).collect::<Vec<_>>())
        }
        Some((_, org)) => Some(vec![org]),
    };
    let units = state
        .with_store(move |s| {
            Ok(match orgs {
                None => s.units()?,
                Some(orgs) => s.units_of_orgs(&orgs)?,
            })
        })
        .await?;
    let fleet = match &caller.actor {
        None => true,
        Some(actor) => caller.allows(
            state,
            Permission::ViewFleet,
            &Target::Organisation(actor.org),
        ),
    };
    let mut units: Vec<UnitRow> = units
        .into_iter()
        .filter(|u| match u.site {
            Some(site) => caller.allows(state, Permission::ViewUnits, &Target::Site(site)),
            None => fleet,
        })
        .collect();
    units.sort_by_key(|u| u.id);
    Ok(units)
}

pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(page): ApiQuery<ListQuery>,
) -> Result<axum::response::Response, ApiError> {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, 10_000);
    let mut units = visible_units(&state, &caller).await?;
    units.retain(|u| page.after.is_none_or(|after| u.id > after));
    let more = units.len() > limit;
    units.truncate(limit);
    let next = more.then(|| units.last().map(|u| u.id)).flatten();
    let views: Vec<UnitView> = units
        .into_iter()
        .map(|unit| UnitView {
            pending: unit.site.is_some() && unit.applied_version != Some(unit.desired_version),
            unit,
        })
        .collect();
    let mut response = Json(views).into_response();
    if let Some(next) = next
        && let Ok(value) = axum::http::HeaderValue::from_str(&next.to_string())
    {
        response.headers_mut().insert("x-next-after", value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    limit: Option<u32>,
}

pub async fn events(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(unit): Path<String>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let unit = parse_unit(&unit)?;
    state
        .check_unit(&caller, Permission::ViewEvents, unit)
        .await?;
    let limit = q.limit.unwrap_or(100).min(1000);
    let rows = state
        .with_store(move |s| Ok(s.events(unit, limit)?))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.event.id,
                    "seq": r.event.seq,
                    "at": jiff::Timestamp::from_millisecond(r.event.at.as_millisecond()).ok(),
                    "received_at": jiff::Timestamp::from_millisecond(r.received_at).ok(),
                    "kind": r.event.kind.tag(),
                    "detail": format!("{:?}", r.event.kind),
                })
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    site: SiteId,
}

pub async fn assign(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(unit): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let unit = parse_unit(&unit)?;
    caller.check(&state, Permission::ClaimUnits, &Target::Site(body.site))?;
    let audit = caller.audit(
        "unit.assign",
        format!("unit:{unit}"),
        state.site_org(body.site),
        serde_json::json!({ "site": body.site }),
    );
    let now = state.clock.now();
    state
        .with_store(move |s| Ok(s.assign_unit(unit, body.site, &audit, now)?))
        .await?;
    state.publish_configs(vec![unit]).await?;
    Ok(Json(serde_json::json!({ "unit": unit, "site": body.site })))
}

/// Whether a unit's model can be relocated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportBody {
    supported: bool,
}

/// `PUT /units/{unit}/relocation-support`: the installer or operator records
/// whether the unit's model can be moved (a mast on a trailer can, a unit
/// bolted to a building cannot); the customer is offered relocation only
/// where it can. Refused while the unit is out of its active state.
pub async fn relocation_support(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(unit): Path<String>,
    ApiJson(body): ApiJson<SupportBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let unit = parse_unit(&unit)?;
    let site = state
        .check_unit(&caller, Permission::ClaimUnits, unit)
        .await?;
    let audit = caller.audit(
        "unit.relocation_support",
        format!("unit:{unit}"),
        site.and_then(|x| state.site_org(x)),
        serde_json::json!({ "supported": body.supported }),
    );
    let now = state.clock.now();
    state
        .with_store(move |s| {
            let (current, _) = s.relocation(unit)?;
            if current != RelocationState::Active {
                return Err(ApiError::Conflict(format!(
                    "the unit is {current}; finish its relocation before changing whether it can be relocated"
                )));
            }
            Ok(s.set_relocation_supported(unit, body.supported, &audit, now)?)
        })
        .await?;
    state.publish_configs(vec![unit]).await?;
    Ok(Json(
        serde_json::json!({ "unit": unit, "relocation_supported": body.supported }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelocateBody {
    to: RelocationState,
    /// With `activation_requested`: where the unit now stands (recorded
    /// when the centre activates it).
    #[serde(default)]
    position: Option<Position>,
    #[serde(default = "default_actor")]
    actor: RelocationActor,
}

fn default_actor() -> RelocationActor {
    RelocationActor::MonitoringCentre
}

pub async fn relocate(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(unit): Path<String>,
    ApiJson(body): ApiJson<RelocateBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let unit = parse_unit(&unit)?;
    let site = state
        .check_unit(&caller, Permission::Relocate, unit)
        .await?;
    // Who moves it is who is signed in, never what the body claims.
    let actor = match caller.actor.as_ref().map(|a| a.org_kind()) {
        None => body.actor,
        Some(OrgKind::Customer) => RelocationActor::Customer,
        Some(_)
            if caller
                .actor
                .as_ref()
                .is_some_and(|a| a.role == Role::Installer) =>
        {
            RelocationActor::Installer
        }
        Some(_) => RelocationActor::MonitoringCentre,
    };
    let audit = caller.audit(
        "unit.relocation",
        format!("unit:{unit}"),
        site.and_then(|x| state.site_org(x)),
        serde_json::json!({ "to": body.to, "as": actor }),
    );
    if body.position.is_some() && body.to != RelocationState::ActivationRequested {
        return Err(ApiError::Invalid(
            "position: give the new position when asking for activation".into(),
        ));
    }
    // Asking for activation puts an item in the centre's queue.
    let request = match body.to {
        RelocationState::ActivationRequested => Some(ActivationRequest {
            item: new_id(EventId::from_uuid, &state)?,
            position: body.position,
        }),
        _ => None,
    };
    let now = state.clock.now();
    let to = state
        .with_store(move |s| {
            let (from, supported) = s.relocation(unit)?;
            let to = from
                .move_to(body.to, actor, supported)
                .map_err(|e| ApiError::Invalid(e.to_string()))?;
            s.set_relocation(unit, to, request.as_ref(), &audit, now)?;
            Ok(to)
        })
        .await?;
    state.publish_configs(vec![unit]).await?;
    Ok(Json(serde_json::json!({ "unit": unit, "relocation": to })))
}

/// A unit's relocation, as its customer and the centre see it.
#[derive(Debug, Serialize)]
pub struct RelocationView {
    unit: UnitId,
    /// `active`, `relocating` or `activation_requested`.
    state: RelocationState,
    /// Whether the unit's model can be relocated at all.
    supported: bool,
    /// Where it stands now, if recorded.
    position: Option<Position>,
    /// The latest activation request: when asked, where to, and once
    /// decided, how (`activated`, or `rejected` with the centre's reason).
    last_request: Option<ActivationView>,
}

/// An activation request and its decision.
#[derive(Debug, Serialize)]
pub struct ActivationView {
    requested_at: jiff::Timestamp,
    requested_position: Option<Position>,
    /// `waiting`, `claimed` (someone in the centre is checking) or
    /// `handled`.
    centre: crate::centre::queue::Stage,
    decision: Option<crate::centre::queue::Outcome>,
    /// The centre's reason when rejected (its notes).
    reason: Option<String>,
    decided_at: Option<jiff::Timestamp>,
}

/// `GET /units/{unit}/relocation`.
pub async fn relocation(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(unit): Path<String>,
) -> Result<Json<RelocationView>, ApiError> {
    let unit = parse_unit(&unit)?;
    state
        .check_unit(&caller, Permission::ViewUnits, unit)
        .await?;
    let (row, last) = state
        .with_store(move |s| Ok((s.unit(unit)?, s.last_activation(unit)?)))
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("unit {unit} not found")))?;
    let last_request = last.map(|item| {
        let (decision, reason, decided_at) = match &item.status {
            crate::centre::queue::Status::Handled {
                outcome, notes, at, ..
            } => (
                Some(*outcome),
                (!notes.is_empty()).then(|| notes.clone()),
                Some(*at),
            ),
            _ => (None, None, None),
        };
        ActivationView {
            requested_at: item.received_at,
            requested_position: item.requested_position,
            centre: item.status.stage(),
            decision,
            reason,
            decided_at,
        }
    });
    Ok(Json(RelocationView {
        unit,
        state: row.relocation,
        supported: row.relocation_supported,
        position: row.position,
        last_request,
    }))
}
