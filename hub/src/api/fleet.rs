//! `/api/v1/fleet`: the health of the units a caller watches, for the
//! monitoring centre, installers and dealers — counts of each problem over
//! the whole fleet, then the units themselves (all, or those with one
//! problem), online or offline since when, last heard, cameras, disk,
//! tamper, relocation and pending config, paged by unit id.

use axum::extract::State;
use axum::{Extension, Json};
use picket_access::{Permission, Target};
use picket_proto::ids::{SiteId, UnitId};
use picket_proto::message::CameraHealth;
use picket_proto::relocation::RelocationState;
use serde::{Deserialize, Serialize};

use super::caller::Caller;
use super::overview::reasons;
use super::units::visible_units;
use super::{ApiError, ApiQuery, ApiState};

/// The default and largest page.
pub const DEFAULT_PAGE: usize = 200;
/// See [`DEFAULT_PAGE`].
pub const MAX_PAGE: usize = 1_000;

/// The problems a unit can have, as `reasons` names them.
const PROBLEMS: [&str; 7] = [
    "offline",
    "tamper",
    "camera_lost",
    "disk_low",
    "config_pending",
    "relocating",
    "activation_requested",
];

/// Filters and paging.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Only units with this problem (one of [`PROBLEMS`]), or `any`.
    problem: Option<String>,
    /// Only units on this site.
    site: Option<SiteId>,
    /// The last unit id of the previous page.
    after: Option<UnitId>,
    limit: Option<usize>,
}

/// How many units have each problem (a unit may count under several).
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    units: usize,
    online: usize,
    /// Not on a site yet (stock, awaiting commissioning).
    unassigned: usize,
    offline: usize,
    tamper: usize,
    camera_lost: usize,
    disk_low: usize,
    config_pending: usize,
    relocating: usize,
    activation_requested: usize,
    /// Units with at least one problem.
    needing_attention: usize,
}

/// One unit's health.
#[derive(Debug, Serialize)]
pub struct FleetUnit {
    id: UnitId,
    site: Option<SiteId>,
    online: bool,
    /// Since when online or offline (Unix ms).
    status_since: Option<i64>,
    /// Last message of any kind, heartbeats included (Unix ms).
    last_seen: Option<i64>,
    cameras: Vec<CameraHealth>,
    disk_free_bytes: Option<u64>,
    disk_total_bytes: Option<u64>,
    /// Since when its enclosure is open (unit clock, Unix ms).
    tamper_since: Option<i64>,
    relocation: RelocationState,
    /// The unit has not applied its latest config.
    config_pending: bool,
    /// Its problems (empty: healthy).
    problems: Vec<&'static str>,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Fleet {
    /// Over every unit the caller watches (or the site asked for),
    /// whatever the problem filter and page.
    summary: Summary,
    /// The page of units, by id.
    units: Vec<FleetUnit>,
    /// Pass as `after` for the next page; `None` on the last.
    next: Option<UnitId>,
}

/// `GET /fleet?problem=&site=&after=&limit=`.
pub async fn fleet(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Fleet>, ApiError> {
    if let Some(actor) = &caller.actor {
        caller.check(
            &state,
            Permission::ViewFleet,
            &Target::Organisation(actor.org),
        )?;
    }
    if let Some(problem) = &q.problem
        && problem != "any"
        && !PROBLEMS.contains(&problem.as_str())
    {
        return Err(ApiError::Invalid(format!(
            "problem: {problem:?} is not one of any, {}",
            PROBLEMS.join(", ")
        )));
    }
    if let Some(site) = q.site {
        caller.check(&state, Permission::ViewUnits, &Target::Site(site))?;
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let units = visible_units(&state, &caller).await?;
    let mut summary = Summary::default();
    let mut page = Vec::new();
    let mut next = None;
    for unit in units
        .into_iter()
        .filter(|u| q.site.is_none_or(|s| u.site == Some(s)))
    {
        let problems = reasons(&unit, false);
        summary.count(&unit, &problems);
        let wanted = match q.problem.as_deref() {
            None => true,
            Some("any") => !problems.is_empty(),
            Some(p) => problems.contains(&p),
        };
        if !wanted || q.after.is_some_and(|after| unit.id <= after) {
            continue;
        }
        if page.len() == limit {
            next = page.last().map(|u: &FleetUnit| u.id);
            continue;
        }
        let health = unit.health.as_ref();
        page.push(FleetUnit {
            id: unit.id,
            site: unit.site,
            online: unit.online,
            status_since: unit.status_since,
            last_seen: unit.last_seen,
            cameras: health.map(|h| h.cameras.clone()).unwrap_or_default(),
            disk_free_bytes: health.map(|h| h.disk_free_bytes),
            disk_total_bytes: health.map(|h| h.disk_total_bytes),
            tamper_since: unit.tamper_since,
            relocation: unit.relocation,
            config_pending: problems.contains(&"config_pending"),
            problems,
        });
    }
    Ok(Json(Fleet {
        summary,
        units: page,
        next,
    }))
}

impl Summary {
    fn count(&mut self, unit: &crate::store::UnitRow, problems: &[&'static str]) {
        self.units += 1;
        self.online += usize::from(unit.online);
        self.unassigned += usize::from(unit.site.is_none());
        self.needing_attention += usize::from(!problems.is_empty());
        for problem in problems {
            *match *problem {
                "offline" => &mut self.offline,
                "tamper" => &mut self.tamper,
                "camera_lost" => &mut self.camera_lost,
                "disk_low" => &mut self.disk_low,
                "config_pending" => &mut self.config_pending,
                "relocating" => &mut self.relocating,
                _ => &mut self.activation_requested,
            } += 1;
        }
    }
}
