//! `/api/v1/transmission`: alarm delivery times (unit event → hub commit,
//! mean and 95th percentile) and availability per unit and per site over a
//! period — the figures an alarm-receiving centre shows under EN 50136-1.
//! For organisations that watch the fleet (view_fleet), over the units
//! they may see.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::{Extension, Json};
use jiff::{SignedDuration, Timestamp};
use picket_access::{Permission, Target};
use picket_proto::ids::{SiteId, UnitId};
use serde::{Deserialize, Serialize};

use super::caller::Caller;
use super::{ApiError, ApiQuery, ApiState};
use crate::centre::transmission::{Delivery, availability, delivery};

/// The longest period a report covers.
const MAX_PERIOD: SignedDuration = SignedDuration::from_hours(24 * 366);

/// The period, and optionally one site.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    from: Timestamp,
    to: Timestamp,
    site: Option<SiteId>,
}

/// One unit's figures.
#[derive(Debug, Serialize)]
pub struct UnitFigures {
    unit: UnitId,
    site: Option<SiteId>,
    /// `None`: no alarm in the period.
    delivery: Option<Delivery>,
    /// Share of the period online, 0 to 1.
    availability: Option<f64>,
}

/// One site's figures: every alarm of its units, and their mean
/// availability.
#[derive(Debug, Serialize)]
pub struct SiteFigures {
    site: SiteId,
    units: usize,
    delivery: Option<Delivery>,
    availability: Option<f64>,
}

/// The report.
#[derive(Debug, Serialize)]
pub struct Report {
    from: Timestamp,
    to: Timestamp,
    sites: Vec<SiteFigures>,
    units: Vec<UnitFigures>,
}

/// `GET /transmission?from=&to=[&site=]`.
pub async fn report(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Report>, ApiError> {
    if q.from >= q.to {
        return Err(ApiError::Invalid("from: must be before to".into()));
    }
    if q.to.duration_since(q.from) > MAX_PERIOD {
        return Err(ApiError::Invalid(
            "to: the period may be at most 366 days".into(),
        ));
    }
    if let Some(actor) = &caller.actor {
        caller.check(
            &state,
            Permission::ViewFleet,
            &Target::Organisation(actor.org),
        )?;
    }
    if let Some(site) = q.site {
        caller.check(&state, Permission::ViewUnits, &Target::Site(site))?;
    }
    let (from, to) = (q.from, q.to);
    let (units, delays, history) = state
        .with_store(move |s| {
            Ok((
                s.units()?,
                s.alarm_delays(from, to)?,
                s.status_history(from, to)?,
            ))
        })
        .await?;
    let mut by_unit: BTreeMap<UnitId, Vec<SignedDuration>> = BTreeMap::new();
    for (unit, delay) in delays {
        by_unit.entry(unit).or_default().push(delay);
    }
    let mut out_units = Vec::new();
    let mut per_site: BTreeMap<SiteId, (Vec<SignedDuration>, Vec<f64>, usize)> = BTreeMap::new();
    for unit in units {
        let visible = match unit.site {
            Some(site) => {
                q.site.is_none_or(|only| only == site)
                    && caller.allows(&state, Permission::ViewUnits, &Target::Site(site))
            }
            None => q.site.is_none(),
        };
        if !visible {
            continue;
        }
        let mut delays = by_unit.remove(&unit.id).unwrap_or_default();
        let h = history.get(&unit.id).cloned().unwrap_or_default();
        let available = availability(h.at_start, &h.changes, from, to);
        if let Some(site) = unit.site {
            let entry = per_site.entry(site).or_default();
            entry.0.extend(delays.iter().copied());
            entry.1.extend(available);
            entry.2 += 1;
        }
        out_units.push(UnitFigures {
            unit: unit.id,
            site: unit.site,
            delivery: delivery(&mut delays),
            availability: available,
        });
    }
    let sites = per_site
        .into_iter()
        .map(|(site, (mut delays, available, units))| SiteFigures {
            site,
            units,
            delivery: delivery(&mut delays),
            availability: (!available.is_empty())
                .then(|| available.iter().sum::<f64>() / available.len() as f64),
        })
        .collect();
    Ok(Json(Report {
        from,
        to,
        sites,
        units: out_units,
    }))
}
