//! `/api/v1/overview`: the landing page after sign-in — recent alarms,
//! response and handling times for a period, every unit the caller may see
//! (for the map), and the units that need attention, each with why.

use axum::extract::State;
use axum::{Extension, Json};
use jiff::{SignedDuration, Timestamp};
use picket_access::Permission;
use picket_proto::ids::{SiteId, UnitId};
use picket_proto::message::CameraStatus;
use picket_proto::position::Position;
use picket_proto::relocation::RelocationState;
use serde::{Deserialize, Serialize};

use super::alarms::{AlarmView, Figures, view, visible_sites};
use super::caller::Caller;
use super::units::visible_units;
use super::{ApiError, ApiQuery, ApiState};
use crate::centre::queue::ItemKind;
use crate::centre::times::summarise;
use crate::store::{AlarmFilter, UnitRow};

/// Recent alarms shown.
const RECENT: u32 = 10;
/// The period when none is given.
const DEFAULT_PERIOD: SignedDuration = SignedDuration::from_hours(24 * 7);
/// Less free clip storage than this share needs attention.
const DISK_LOW: f64 = 0.10;

/// The period for the times (default: the last 7 days).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

/// A unit on the map.
#[derive(Debug, Serialize)]
pub struct MapUnit {
    id: UnitId,
    site: Option<SiteId>,
    online: bool,
    /// Where it stands; `None` until recorded (not on the map yet).
    position: Option<Position>,
    /// `active`, `relocating` or `activation_requested`.
    relocation: RelocationState,
}

/// A unit that needs attention, and why.
#[derive(Debug, Serialize)]
pub struct Attention {
    unit: UnitId,
    site: Option<SiteId>,
    /// `offline`, `tamper`, `camera_lost`, `disk_low`, `config_pending`,
    /// `relocating` or `activation_requested` (not monitored).
    reasons: Vec<&'static str>,
    /// Since when it is offline (Unix ms), when it is.
    offline_since: Option<i64>,
}

/// Response and handling times in seconds.
#[derive(Debug, Serialize)]
pub struct TimesFigures {
    response: Option<Figures>,
    handling: Option<Figures>,
}

/// The overview.
#[derive(Debug, Serialize)]
pub struct Overview {
    from: Timestamp,
    to: Timestamp,
    recent_alarms: Vec<AlarmView>,
    /// `None` when response times are not shared with the caller.
    times: Option<TimesFigures>,
    units: Vec<MapUnit>,
    /// The most serious [`ATTENTION_SHOWN`] units needing attention
    /// (offline first, then tamper, camera lost, disk low, relocation,
    /// pending config); `GET /fleet?problem=any` pages through all.
    attention: Vec<Attention>,
    /// How many units need attention in all.
    attention_total: usize,
}

/// The overview lists at most this many units needing attention: a
/// landing page, not the fleet view (10,000 units of a fleet whose config
/// is pending made the operator's answer 2.6 MB).
pub const ATTENTION_SHOWN: usize = 100;

/// Orders units needing attention by their most serious reason, then the
/// longest offline, then id.
fn most_serious_first(attention: &mut [Attention]) {
    attention.sort_by_key(|a| {
        (
            a.reasons.iter().map(|r| severity(r)).min(),
            a.offline_since,
            a.unit,
        )
    });
}

/// How serious a reason is, most serious first.
fn severity(reason: &str) -> usize {
    [
        "offline",
        "tamper",
        "camera_lost",
        "disk_low",
        "activation_requested",
        "relocating",
        "config_pending",
    ]
    .iter()
    .position(|r| *r == reason)
    .unwrap_or(usize::MAX)
}

/// Why `unit` needs attention (empty: it does not).
pub(super) fn reasons(unit: &UnitRow, tampered: bool) -> Vec<&'static str> {
    let mut why = Vec::new();
    if !unit.online {
        why.push("offline");
    }
    if tampered || unit.tamper_since.is_some() {
        why.push("tamper");
    }
    if let Some(health) = &unit.health {
        if health
            .cameras
            .iter()
            .any(|c| c.status == CameraStatus::Lost)
        {
            why.push("camera_lost");
        }
        // Low on disk, or over its clip quota with clips this hub lacks
        // (the unit keeps those rather than lose them).
        if health.clips_over_quota_bytes > 0
            || health.disk_total_bytes > 0
                && (health.disk_free_bytes as f64) < DISK_LOW * health.disk_total_bytes as f64
        {
            why.push("disk_low");
        }
    }
    if unit.site.is_some() && unit.applied_version != Some(unit.desired_version) {
        why.push("config_pending");
    }
    match unit.relocation {
        RelocationState::Active => {}
        RelocationState::Relocating => why.push("relocating"),
        RelocationState::ActivationRequested => why.push("activation_requested"),
    }
    why
}

/// `GET /overview?from=&to=`.
pub async fn overview(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Overview>, ApiError> {
    let to = q.to.unwrap_or_else(|| state.clock.now());
    let from = match q.from {
        Some(from) => from,
        None => to.checked_sub(DEFAULT_PERIOD).unwrap_or(to),
    };
    if from >= to {
        return Err(ApiError::Invalid("from: must be before to".into()));
    }
    let units = visible_units(&state, &caller).await?;
    let alarm_sites = visible_sites(&state, &caller, Permission::ViewAlarms);
    let time_sites = visible_sites(&state, &caller, Permission::ViewResponseTimes);
    let filter = AlarmFilter {
        sites: alarm_sites,
        limit: RECENT,
        ..AlarmFilter::default()
    };
    let show_times = time_sites.as_ref().is_none_or(|s| !s.is_empty());
    let (alarms, items, open) = state
        .with_store(move |s| {
            let items = if show_times {
                s.queue_items_between(time_sites.as_deref(), from, to)?
            } else {
                Vec::new()
            };
            Ok((s.alarms(&filter)?, items, s.open_queue()?))
        })
        .await?;
    let tampered: std::collections::HashSet<UnitId> = open
        .iter()
        .filter(|i| i.kind == ItemKind::Tamper)
        .map(|i| i.unit)
        .collect();
    let times = show_times.then(|| {
        let summary = summarise(&items, from, to);
        TimesFigures {
            response: summary.response.map(Figures::from),
            handling: summary.handling.map(Figures::from),
        }
    });
    let mut attention: Vec<Attention> = units
        .iter()
        .filter_map(|u| {
            let reasons = reasons(u, tampered.contains(&u.id));
            (!reasons.is_empty()).then(|| Attention {
                unit: u.id,
                site: u.site,
                offline_since: (!u.online).then_some(u.status_since).flatten(),
                reasons,
            })
        })
        .collect();
    let attention_total = attention.len();
    most_serious_first(&mut attention);
    attention.truncate(ATTENTION_SHOWN);
    let map = units
        .iter()
        .map(|u| MapUnit {
            id: u.id,
            site: u.site,
            online: u.online,
            position: u.position,
            relocation: u.relocation,
        })
        .collect();
    // The store read only the sites the caller may see alarms of.
    let recent_alarms = alarms
        .into_iter()
        .filter_map(|row| view(&state, &caller, row))
        .collect();
    Ok(Json(Overview {
        from,
        to,
        recent_alarms,
        times,
        units: map,
        attention,
        attention_total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_proto::ids::CameraId;
    use picket_proto::message::{CameraHealth, Health};

    fn unit(online: bool, health: Option<Health>, applied: Option<i64>) -> UnitRow {
        UnitRow {
            id: UnitId::from_uuid(uuid::Uuid::from_bytes([1; 16])),
            site: Some(SiteId::from_uuid(uuid::Uuid::from_bytes([2; 16]))),
            online,
            status_since: Some(1),
            last_seen: Some(1),
            last_seq: None,
            desired_version: 3,
            applied_version: applied,
            state: None,
            health,
            relocation: RelocationState::Active,
            relocation_supported: true,
            position: None,
            tamper_since: None,
        }
    }

    fn health(free: u64, camera: CameraStatus) -> Health {
        Health {
            disk_free_bytes: free,
            disk_total_bytes: 1000,
            temperature_c: None,
            cameras: vec![CameraHealth {
                camera: CameraId::from_uuid(uuid::Uuid::from_bytes([3; 16])),
                status: camera,
            }],
            clock_skew_ms: None,
            outbox_events: 0,
            clips_pending: 0,
            clips_over_quota_bytes: 0,
        }
    }

    #[test]
    fn clips_over_the_units_quota_count_as_a_low_disk() {
        let mut health = health(500, CameraStatus::Streaming);
        health.clips_over_quota_bytes = 1;
        assert_eq!(
            reasons(&unit(true, Some(health), Some(3)), false),
            ["disk_low"]
        );
    }

    #[test]
    fn a_healthy_unit_needs_nothing_and_each_problem_is_named() {
        let fine = unit(true, Some(health(500, CameraStatus::Streaming)), Some(3));
        assert!(reasons(&fine, false).is_empty());
        assert_eq!(
            reasons(
                &unit(false, Some(health(99, CameraStatus::Lost)), Some(2)),
                true
            ),
            [
                "offline",
                "tamper",
                "camera_lost",
                "disk_low",
                "config_pending"
            ]
        );
        assert!(
            reasons(
                &unit(true, Some(health(100, CameraStatus::Disabled)), Some(3)),
                false
            )
            .is_empty(),
            "exactly 10% free is not low; a disabled camera is not lost"
        );
    }

    #[test]
    fn the_most_serious_come_first_offline_longest_first() {
        let a = |n: u8, reasons: Vec<&'static str>, since: Option<i64>| Attention {
            unit: UnitId::from_uuid(uuid::Uuid::from_bytes([n; 16])),
            site: None,
            reasons,
            offline_since: since,
        };
        let mut list = vec![
            a(1, vec!["config_pending"], None),
            a(2, vec!["camera_lost", "disk_low"], None),
            a(3, vec!["offline", "config_pending"], Some(500)),
            a(4, vec!["tamper"], None),
            a(5, vec!["offline"], Some(100)),
            a(6, vec!["relocating"], None),
        ];
        most_serious_first(&mut list);
        let order: Vec<u8> = list.iter().map(|a| a.unit.as_bytes()[0]).collect();
        assert_eq!(order, [5, 3, 4, 2, 6, 1]);
    }

    #[test]
    fn a_unit_out_of_monitoring_for_relocation_needs_attention() {
        let mut moving = unit(true, None, Some(3));
        moving.relocation = RelocationState::Relocating;
        assert_eq!(reasons(&moving, false), ["relocating"]);
        moving.relocation = RelocationState::ActivationRequested;
        assert_eq!(reasons(&moving, false), ["activation_requested"]);
    }
}
