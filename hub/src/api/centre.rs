//! `/api/v1/centre/queue`: the monitoring centre's alarm queue. An operator
//! claims an item (one at a time, visible to everyone), acknowledges it and
//! handles it with an outcome and notes. The rules are `centre::queue`'s;
//! a change is written only if nobody changed the item meanwhile.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use jiff::SignedDuration;
use picket_access::{Permission, Target};
use picket_proto::ids::{EventId, UserId};
use serde::{Deserialize, Serialize};

use super::caller::Caller;
use super::{ApiError, ApiJson, ApiState};
use crate::centre::queue::{Item, ItemKind, Outcome, QueueError, Status, held_by};

/// An item that waits this long without being acknowledged is shown as
/// escalated, unless `[centre] escalate_after_s` says otherwise.
pub const ESCALATE_AFTER: SignedDuration = SignedDuration::from_secs(120);

/// An item as the queue shows it.
#[derive(Debug, Serialize)]
pub struct QueueEntry {
    /// The item.
    #[serde(flatten)]
    pub item: Item,
    /// Waited longer than the escalation time without an acknowledgement.
    pub escalated: bool,
    /// For an activation request: the unit's health now, to check it
    /// before activating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_health: Option<UnitCheck>,
}

/// What the centre checks on a relocated unit before activating it.
#[derive(Debug, Serialize)]
pub struct UnitCheck {
    online: bool,
    /// Since when online or offline (Unix ms).
    status_since: Option<i64>,
    /// Last message of any kind (Unix ms).
    last_seen: Option<i64>,
    /// The last heartbeat's health (cameras, disk, clock skew).
    health: Option<picket_proto::message::Health>,
    /// The unit has not applied its latest config.
    config_pending: bool,
}

impl From<crate::store::UnitRow> for UnitCheck {
    fn from(u: crate::store::UnitRow) -> UnitCheck {
        UnitCheck {
            online: u.online,
            status_since: u.status_since,
            last_seen: u.last_seen,
            config_pending: u.applied_version != Some(u.desired_version),
            health: u.health,
        }
    }
}

fn parse_item(text: &str) -> Result<EventId, ApiError> {
    text.parse()
        .map_err(|e: picket_proto::ids::IdError| ApiError::Invalid(format!("item: {e}")))
}

fn refused(e: QueueError) -> ApiError {
    ApiError::Conflict(e.to_string())
}

/// The person working the queue (the operator token is no one).
fn operator(caller: &Caller) -> Result<UserId, ApiError> {
    caller
        .actor
        .as_ref()
        .map(|a| a.user)
        .ok_or_else(|| ApiError::Forbidden("sign in as a person to work the alarm queue".into()))
}

/// `GET /centre/queue`: open items on sites the caller handles alarms for,
/// most urgent first, then oldest.
pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<QueueEntry>>, ApiError> {
    let items = state.with_store(|s| Ok(s.open_queue()?)).await?;
    let now = state.clock.now();
    let items: Vec<Item> = items
        .into_iter()
        .filter(|i| caller.allows(&state, Permission::HandleAlarms, &Target::Site(i.site)))
        .collect();
    // Activation requests are few; each gets its unit's health.
    let relocated: Vec<_> = items
        .iter()
        .filter(|i| i.kind == ItemKind::Activation)
        .map(|i| i.unit)
        .collect();
    let mut checks = state
        .with_store(move |s| {
            let mut out = std::collections::HashMap::new();
            for unit in relocated {
                if let Some(row) = s.unit(unit)? {
                    out.insert(unit, UnitCheck::from(row));
                }
            }
            Ok(out)
        })
        .await?;
    let entries = items
        .into_iter()
        .map(|item| QueueEntry {
            escalated: item.escalated(now, state.escalate_after),
            unit_health: (item.kind == ItemKind::Activation)
                .then(|| checks.remove(&item.unit))
                .flatten(),
            item,
        })
        .collect();
    Ok(Json(entries))
}

/// What an operator does to an item.
enum Step {
    Claim,
    Release,
    Acknowledge,
    Handle(Outcome, String),
    ShareReport,
}

impl Step {
    fn action(&self) -> &'static str {
        match self {
            Step::Claim => "queue.claim",
            Step::Release => "queue.release",
            Step::Acknowledge => "queue.acknowledge",
            Step::Handle(..) => "queue.handle",
            Step::ShareReport => "queue.share_report",
        }
    }
}

async fn step(
    state: ApiState,
    caller: Caller,
    item: String,
    step: Step,
) -> Result<Json<QueueEntry>, ApiError> {
    let id = parse_item(&item)?;
    let me = operator(&caller)?;
    let item = state
        .with_store(move |s| Ok(s.queue_item(id)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("queue item {id}")))?;
    caller.check(&state, Permission::HandleAlarms, &Target::Site(item.site))?;
    let now = state.clock.now();
    let before: Status = item.status.clone();
    let mut after = item.clone();
    match &step {
        Step::Claim => {
            let held = {
                let open = state.with_store(|s| Ok(s.open_queue()?)).await?;
                held_by(&open, me)
            };
            after.claim(me, now, held).map_err(refused)?;
        }
        Step::Release => after.release(me).map_err(refused)?,
        Step::Acknowledge => after.acknowledge(me, now).map_err(refused)?,
        Step::Handle(outcome, notes) => {
            after
                .handle(me, now, *outcome, notes)
                .map_err(|e| match e {
                    QueueError::NotesTooLong { .. } | QueueError::ReasonRequired => {
                        ApiError::Invalid(format!("notes: {e}"))
                    }
                    QueueError::OutcomeDoesNotFit { .. } => {
                        ApiError::Invalid(format!("outcome: {e}"))
                    }
                    other => refused(other),
                })?;
            // The report goes to the customer at once unless they take
            // reports only after the centre's review.
            let review = state
                .site_org(item.site)
                .and_then(|org| picket_access::Directory::sharing(&*state.directory(), org))
                .is_some_and(|s| s.incident_reports_after_review);
            if !review && after.kind != ItemKind::Activation {
                after.share_report(now).map_err(refused)?;
            }
        }
        Step::ShareReport => after.share_report(now).map_err(refused)?,
    }
    let detail = match &step {
        Step::Handle(outcome, _) => serde_json::json!({ "outcome": outcome }),
        _ => serde_json::Value::Null,
    };
    let audit = caller.audit(
        step.action(),
        format!("queue:{id}"),
        state.site_org(item.site),
        detail,
    );
    let written = after.clone();
    let decides_activation = after.kind == ItemKind::Activation && after.is_handled();
    state
        .with_store(move |s| {
            if decides_activation {
                s.decide_activation(&before, &written, &audit, now)?;
            } else {
                s.update_queue_item(&before, &written, &audit, now)?;
            }
            Ok(())
        })
        .await?;
    if decides_activation {
        // The unit learns it is monitored again (or relocating again).
        state.publish_configs(vec![after.unit]).await?;
    }
    Ok(Json(QueueEntry {
        escalated: after.escalated(now, state.escalate_after),
        unit_health: None,
        item: after,
    }))
}

/// `POST /centre/queue/{id}/claim`.
pub async fn claim(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(item): Path<String>,
) -> Result<Json<QueueEntry>, ApiError> {
    step(state, caller, item, Step::Claim).await
}

/// `POST /centre/queue/{id}/release`.
pub async fn release(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(item): Path<String>,
) -> Result<Json<QueueEntry>, ApiError> {
    step(state, caller, item, Step::Release).await
}

/// `POST /centre/queue/{id}/acknowledge`.
pub async fn acknowledge(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(item): Path<String>,
) -> Result<Json<QueueEntry>, ApiError> {
    step(state, caller, item, Step::Acknowledge).await
}

/// `POST /centre/queue/{id}/share-report`: a reviewed incident report goes
/// to the customer (for customers who take reports only after review).
pub async fn share_report(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(item): Path<String>,
) -> Result<Json<QueueEntry>, ApiError> {
    step(state, caller, item, Step::ShareReport).await
}

/// How an item was handled.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandleBody {
    outcome: Outcome,
    #[serde(default)]
    notes: String,
}

/// `POST /centre/queue/{id}/handle`.
pub async fn handle(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(item): Path<String>,
    ApiJson(body): ApiJson<HandleBody>,
) -> Result<Json<QueueEntry>, ApiError> {
    step(state, caller, item, Step::Handle(body.outcome, body.notes)).await
}
