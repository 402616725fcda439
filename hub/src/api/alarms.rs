//! `/api/v1/alarms` and `/api/v1/response-times`: what the customer and the
//! centre read about alarms — the list with filters, one alarm's details
//! with its centre handling and incident report (when the customer shares
//! reports with the caller), and response and handling times.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use jiff::{SignedDuration, Timestamp};
use picket_access::{Permission, Target};
use picket_proto::arming::ArmState;
use picket_proto::ids::{CameraId, EventId, SiteId, UnitId};
use picket_proto::level::SensorKind;
use picket_proto::message::EventKind;
use serde::{Deserialize, Serialize};

use super::caller::Caller;
use super::{ApiError, ApiQuery, ApiState};
use crate::centre::queue::{Outcome, Stage, Status};
use crate::centre::times::{Percentiles, summarise};
use crate::store::{AlarmFilter, AlarmRow};

/// Most alarms per page by default, and at most.
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;
/// The longest period a times report covers.
const MAX_PERIOD: SignedDuration = SignedDuration::from_hours(24 * 366);

/// The sites the caller may see for `permission`: `None` for the bootstrap
/// operator token (everything).
pub(super) fn visible_sites(
    state: &ApiState,
    caller: &Caller,
    permission: Permission,
) -> Option<Vec<SiteId>> {
    caller.actor.as_ref()?;
    let directory = state.directory();
    let sites: Vec<SiteId> = directory.all_sites().collect();
    drop(directory);
    Some(
        sites
            .into_iter()
            .filter(|s| caller.allows(state, permission, &Target::Site(*s)))
            .collect(),
    )
}

/// Filters and paging of `GET /alarms`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    site: Option<SiteId>,
    unit: Option<UnitId>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    /// `waiting`, `claimed`, `acknowledged`, `handled`, `awaiting_review`
    /// (handled, report not yet shared) or `none`.
    status: Option<String>,
    /// `false_alarm`, `intruder`, `guard_dispatched`, `police_called`, `technical`.
    outcome: Option<Outcome>,
    /// The last id of the previous page.
    before: Option<EventId>,
    limit: Option<u32>,
}

/// How the centre handled an alarm, as far as the caller may see.
#[derive(Debug, Serialize)]
pub struct CentreView {
    /// Queue priority, 1 the most urgent.
    pub priority: u8,
    /// Where it is: waiting, claimed, acknowledged, handled.
    pub state: Stage,
    /// Received → acknowledged, in seconds (when the caller may see
    /// response times).
    pub response_s: Option<f64>,
    /// Acknowledged → handled, in seconds (likewise).
    pub handling_s: Option<f64>,
}

/// The centre's report on a handled alarm.
#[derive(Debug, Serialize)]
pub struct IncidentReport {
    /// How it ended.
    pub outcome: Outcome,
    /// In words.
    pub outcome_label: &'static str,
    /// The operator's notes.
    pub notes: String,
    /// When the operator took it.
    pub claimed_at: Timestamp,
    /// When they acknowledged it.
    pub acknowledged_at: Timestamp,
    /// When they closed it.
    pub handled_at: Timestamp,
    /// When it was shared with the customer; `None` (seen only by the
    /// centre) while it awaits review.
    pub shared_at: Option<Timestamp>,
}

/// One alarm.
#[derive(Debug, Serialize)]
pub struct AlarmView {
    id: EventId,
    unit: UnitId,
    site: Option<SiteId>,
    /// When it fired (unit clock).
    at: Timestamp,
    /// When the hub had it.
    received_at: Timestamp,
    sensor: String,
    sensor_kind: SensorKind,
    camera: Option<CameraId>,
    /// The unit's arm state when it fired.
    state: ArmState,
    /// `None`: never queued (the unit was in relocation or not on a site).
    centre: Option<CentreView>,
    /// Present once handled, when the caller may read incident reports.
    incident_report: Option<IncidentReport>,
    /// Its clips and thumbnails as uploaded so far (`GET /alarms/{id}`
    /// only; empty when the caller may not see clips).
    #[serde(skip_serializing_if = "Option::is_none")]
    clips: Option<Vec<ClipView>>,
    /// Clips its unit could not keep (after a power cut), so nobody waits
    /// for them (`GET /alarms/{id}` only, with the clips).
    #[serde(skip_serializing_if = "Option::is_none")]
    clips_discarded: Option<Vec<DiscardedView>>,
}

/// A clip of an alarm its unit reported discarded.
#[derive(Debug, Serialize)]
pub struct DiscardedView {
    camera: CameraId,
    reason: String,
    at: Timestamp,
}

/// A clip or thumbnail of an alarm.
#[derive(Debug, Serialize)]
pub struct ClipView {
    id: uuid::Uuid,
    camera: CameraId,
    kind: crate::clips::upload::ClipKind,
    size: u64,
    /// First and last frame (unit clock).
    started_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
    /// Where to fetch it (range requests supported; each fetch audited).
    url: String,
}

impl From<crate::store::ClipRow> for ClipView {
    fn from(row: crate::store::ClipRow) -> ClipView {
        let d = row.declared;
        ClipView {
            url: format!("/api/v1/clips/{}", d.id.simple()),
            id: d.id,
            camera: d.camera,
            kind: d.kind,
            size: d.size,
            started_at: d.started_at,
            ended_at: d.ended_at,
        }
    }
}

fn seconds(d: SignedDuration) -> f64 {
    d.as_secs_f64()
}

pub(super) fn view(state: &ApiState, caller: &Caller, row: AlarmRow) -> Option<AlarmView> {
    let EventKind::Alarm {
        sensor,
        sensor_kind,
        camera,
        state: arm,
    } = row.event.kind
    else {
        return None;
    };
    let may = |p: Permission| {
        row.site
            .is_some_and(|s| caller.allows(state, p, &Target::Site(s)))
    };
    let times = may(Permission::ViewResponseTimes);
    let reports = may(Permission::ViewIncidentReports);
    // The centre reads reports before they are shared; customers only after.
    let centre_side = may(Permission::HandleAlarms);
    let centre = row.item.as_ref().map(|item| CentreView {
        priority: item.priority,
        state: item.status.stage(),
        response_s: item.response_time().filter(|_| times).map(seconds),
        handling_s: item.handling_time().filter(|_| times).map(seconds),
    });
    let incident_report = match row.item.map(|i| i.status) {
        Some(Status::Handled {
            claimed_at,
            acknowledged_at,
            at,
            outcome,
            notes,
            shared_at,
            ..
        }) if reports && (shared_at.is_some() || centre_side) => Some(IncidentReport {
            outcome,
            outcome_label: outcome.label(),
            notes,
            claimed_at,
            acknowledged_at,
            handled_at: at,
            shared_at,
        }),
        _ => None,
    };
    Some(AlarmView {
        id: row.event.id,
        unit: row.unit,
        site: row.site,
        at: row.event.at,
        received_at: row.received_at,
        sensor,
        sensor_kind,
        camera,
        state: arm,
        centre,
        incident_report,
        clips: None,
        clips_discarded: None,
    })
}

/// `GET /alarms`: newest first, on the sites the caller may see alarms of.
pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<AlarmView>>, ApiError> {
    if let Some(status) = &q.status
        && ![
            "waiting",
            "claimed",
            "acknowledged",
            "handled",
            "awaiting_review",
            "none",
        ]
        .contains(&status.as_str())
    {
        return Err(ApiError::Invalid(format!(
            "status: {status:?} is not one of waiting, claimed, acknowledged, handled, awaiting_review, none"
        )));
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(ApiError::Invalid("from: must be before to".into()));
    }
    let sites = match q.site {
        Some(site) => {
            caller.check(&state, Permission::ViewAlarms, &Target::Site(site))?;
            Some(vec![site])
        }
        None => visible_sites(&state, &caller, Permission::ViewAlarms),
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let store_filter = |before| AlarmFilter {
        sites: sites.clone(),
        unit: q.unit,
        from: q.from,
        to: q.to,
        status: q.status.clone(),
        outcome: q.outcome.and_then(|o| {
            serde_json::to_value(o)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
        }),
        before,
        id: None,
        limit,
    };
    let before = match q.before {
        Some(id) => {
            // Paging continues after the given alarm, which must be one the
            // caller could see.
            let found = state
                .with_store({
                    let f = store_filter(None);
                    move |s| Ok(s.alarm(id, &f)?)
                })
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("alarm {id}")))?;
            Some((found.event.at, id))
        }
        None => None,
    };
    let filter = store_filter(before);
    let rows = state.with_store(move |s| Ok(s.alarms(&filter)?)).await?;
    Ok(Json(
        rows.into_iter()
            .filter_map(|row| view(&state, &caller, row))
            .collect(),
    ))
}

/// `GET /alarms/{id}`.
pub async fn get(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<AlarmView>, ApiError> {
    let id: EventId = id
        .parse()
        .map_err(|e: picket_proto::ids::IdError| ApiError::Invalid(format!("alarm: {e}")))?;
    let filter = AlarmFilter {
        limit: 1,
        ..AlarmFilter::default()
    };
    let row = state
        .with_store(move |s| Ok(s.alarm(id, &filter)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("alarm {id}")))?;
    match row.site {
        Some(site) => caller.check(&state, Permission::ViewAlarms, &Target::Site(site))?,
        None if caller.actor.is_none() => {}
        // Alarms of units on no site are fleet matters.
        None => return Err(ApiError::NotFound(format!("alarm {id}"))),
    }
    let site = row.site;
    let mut alarm =
        view(&state, &caller, row).ok_or_else(|| ApiError::NotFound(format!("alarm {id}")))?;
    let may_see_clips = match site {
        Some(site) => caller.allows(&state, Permission::ViewClips, &Target::Site(site)),
        None => caller.actor.is_none(),
    };
    let (unit, at) = (alarm.unit, alarm.at);
    let (clips, discarded) = if may_see_clips {
        state
            .with_store(move |s| Ok((s.clips_of_event(id)?, s.discarded_clips(unit, id, at)?)))
            .await?
    } else {
        (Vec::new(), Vec::new())
    };
    alarm.clips = Some(clips.into_iter().map(ClipView::from).collect());
    alarm.clips_discarded = Some(
        discarded
            .into_iter()
            .map(|d| DiscardedView {
                camera: d.camera,
                reason: d.reason,
                at: d.at,
            })
            .collect(),
    );
    Ok(Json(alarm))
}

/// The period of `GET /response-times`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimesQuery {
    from: Timestamp,
    to: Timestamp,
    site: Option<SiteId>,
}

/// Median and 90th percentile, in seconds.
#[derive(Debug, Serialize)]
pub struct Figures {
    count: usize,
    median_s: f64,
    p90_s: f64,
}

impl From<Percentiles> for Figures {
    fn from(p: Percentiles) -> Figures {
        Figures {
            count: p.count,
            median_s: seconds(p.median),
            p90_s: seconds(p.p90),
        }
    }
}

/// Response and handling times of one site, or overall.
#[derive(Debug, Serialize)]
pub struct Times {
    /// The site (`None`: overall).
    site: Option<SiteId>,
    /// Received → acknowledged.
    response: Option<Figures>,
    /// Acknowledged → handled.
    handling: Option<Figures>,
}

/// `GET /response-times?from=&to=[&site=]`: per site and overall, over
/// the alarms and tampers the centre received in `[from, to)`.
pub async fn times(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<TimesQuery>,
) -> Result<Json<Vec<Times>>, ApiError> {
    if q.from >= q.to {
        return Err(ApiError::Invalid("from: must be before to".into()));
    }
    if q.to.duration_since(q.from) > MAX_PERIOD {
        return Err(ApiError::Invalid(
            "to: the period may be at most 366 days".into(),
        ));
    }
    let sites = match q.site {
        Some(site) => {
            caller.check(&state, Permission::ViewResponseTimes, &Target::Site(site))?;
            Some(vec![site])
        }
        None => visible_sites(&state, &caller, Permission::ViewResponseTimes),
    };
    let (from, to) = (q.from, q.to);
    let items = state
        .with_store(move |s| Ok(s.queue_items_between(sites.as_deref(), from, to)?))
        .await?;
    let figures = |items: &[crate::centre::queue::Item], site| {
        let summary = summarise(items, from, to);
        Times {
            site,
            response: summary.response.map(Figures::from),
            handling: summary.handling.map(Figures::from),
        }
    };
    let mut out = vec![figures(&items, None)];
    let mut by_site: std::collections::BTreeMap<SiteId, Vec<crate::centre::queue::Item>> =
        std::collections::BTreeMap::new();
    for item in items {
        by_site.entry(item.site).or_default().push(item);
    }
    out.extend(
        by_site
            .into_iter()
            .map(|(site, items)| figures(&items, Some(site))),
    );
    Ok(Json(out))
}
