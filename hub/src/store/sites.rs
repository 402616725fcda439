//! Sites, unit assignment and the desired config built from them.
//!
//! Every change that affects what a unit should do gives each affected unit
//! a new desired-config version (one counter for the whole hub, so versions
//! only grow). A unit's config is pending while its reported applied version
//! differs from its desired version.

use picket_proto::disarm::TemporaryDisarm;
use picket_proto::ids::{SiteId, UnitId};
use picket_proto::level::SecurityLevel;
use picket_proto::message::{ClipSettings, ConfigVersion, DesiredConfig};
use picket_proto::position::Position;
use picket_proto::relocation::RelocationState;
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};
use rusqlite::{OptionalExtension, Transaction, params};

use jiff::Timestamp;

use super::audit::{AuditEntry, one_row};
use super::{Store, StoreError, from_json, json, uuid_from};

/// An activation request made with a relocation move.
#[derive(Debug, Clone)]
pub struct ActivationRequest {
    /// The queue item's id (new, time-ordered).
    pub item: picket_proto::ids::EventId,
    /// Where the unit now stands, if the customer gave it.
    pub position: Option<Position>,
}

/// A site as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SiteRow {
    /// Id.
    pub id: SiteId,
    /// Name.
    pub name: String,
    /// Schedule.
    pub schedule: ScheduleSpec,
    /// Security level.
    pub level: SecurityLevel,
    /// The level profile it comes from (`None`: a level set before
    /// profiles existed).
    pub level_profile: Option<String>,
    /// Temporary disarm.
    pub disarm: Option<TemporaryDisarm>,
    /// Clip recording around alarms.
    pub clip_settings: ClipSettings,
}

impl Store {
    /// Creates or renames a site; a new site gets `schedule` and the
    /// standard level.
    pub fn upsert_site(
        &mut self,
        id: SiteId,
        name: &str,
        schedule: &WeeklySchedule,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<UnitId>, StoreError> {
        self.audited(audit, now, |tx| {
            // A new site takes the standard profile (the first one if the
            // operator removed it; the protocol's standard level if none).
            tx.execute(
                "INSERT INTO sites (id, name, schedule, level, level_profile, disarm, version)
             SELECT ?1, ?2, ?3, COALESCE(p.level, ?4), p.key, NULL, 0
             FROM (SELECT 1) LEFT JOIN (
                 SELECT key, level FROM level_profiles
                 ORDER BY key = 'standard' DESC, position LIMIT 1) p
             WHERE true
             ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                params![
                    id.as_bytes().as_slice(),
                    name,
                    json(schedule.spec())?,
                    json(&SecurityLevel::standard())?
                ],
            )?;
            bump_site(tx, id)
        })
    }

    /// Replaces a site's schedule. Returns the units whose config changed.
    pub fn set_schedule(
        &mut self,
        site: SiteId,
        schedule: &WeeklySchedule,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<UnitId>, StoreError> {
        self.update_site(site, "schedule", Some(json(schedule.spec())?), audit, now)
    }

    /// Sets a site's clip recording (checked by the caller); its units get
    /// a new config.
    pub fn set_clip_settings(
        &mut self,
        site: SiteId,
        settings: &ClipSettings,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<UnitId>, StoreError> {
        self.update_site(site, "clip_settings", Some(json(settings)?), audit, now)
    }

    /// Sets or cancels (`None`) a site's temporary disarm.
    pub fn set_disarm(
        &mut self,
        site: SiteId,
        disarm: Option<&TemporaryDisarm>,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<UnitId>, StoreError> {
        let value = disarm.map(json).transpose()?;
        self.update_site(site, "disarm", value, audit, now)
    }

    fn update_site(
        &mut self,
        site: SiteId,
        column: &'static str,
        value: Option<String>,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<UnitId>, StoreError> {
        self.audited(audit, now, |tx| {
            let sql = format!("UPDATE sites SET {column} = ?2 WHERE id = ?1");
            let n = tx.execute(&sql, params![site.as_bytes().as_slice(), value])?;
            one_row(n, || format!("site {site}"))?;
            bump_site(tx, site)
        })
    }

    /// Assigns a unit to a site (creating the unit row if it never connected).
    pub fn assign_unit(
        &mut self,
        unit: UnitId,
        site: SiteId,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            if site_exists(tx, site)?.is_none() {
                return Err(StoreError::NotFound(format!("site {site}")));
            }
            tx.execute(
                "INSERT INTO units (id, site) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET site = excluded.site",
                params![unit.as_bytes().as_slice(), site.as_bytes().as_slice()],
            )?;
            bump_units(tx, &[unit])
        })
    }

    /// Sets a unit's relocation state (the caller checked the move). A move
    /// ends any open activation request of the unit (withdrawn, or decided
    /// outside the queue); with `request`, the move asks for activation and
    /// raises an item in the centre's queue (the unit must be on a site).
    pub fn set_relocation(
        &mut self,
        unit: UnitId,
        state: RelocationState,
        request: Option<&ActivationRequest>,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let key = unit.as_bytes();
            let n = tx.execute(
                "UPDATE units SET relocation = ?2 WHERE id = ?1",
                params![key.as_slice(), relocation_text(state)],
            )?;
            one_row(n, || format!("unit {unit}"))?;
            tx.execute(
                "DELETE FROM queue_items WHERE unit = ?1 AND kind = 'activation' AND open = 1",
                params![key.as_slice()],
            )?;
            if let Some(request) = request {
                let waiting = json(&crate::centre::queue::Status::Waiting)?;
                let position = request.position.as_ref().map(json).transpose()?;
                let raised = tx.execute(
                    "INSERT INTO queue_items (id, kind, site, unit, priority, received_at, status, requested_position)
                     SELECT ?1, 'activation', u.site, u.id,
                            MIN(COALESCE(json_extract(s.level, '$.centre_priority'), 5) + 2, 255), ?3, ?4, ?5
                     FROM units u JOIN sites s ON s.id = u.site WHERE u.id = ?2",
                    params![
                        request.item.as_bytes().as_slice(),
                        key.as_slice(),
                        now.as_millisecond(),
                        waiting,
                        position
                    ],
                )?;
                if raised == 0 {
                    return Err(StoreError::Conflict(format!(
                        "unit {unit} is on no site; assign it to a site before asking for activation"
                    )));
                }
            }
            bump_units(tx, &[unit])
        })
    }

    /// Records whether a unit's model can be relocated.
    pub fn set_relocation_supported(
        &mut self,
        unit: UnitId,
        supported: bool,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let n = tx.execute(
                "UPDATE units SET relocation_supported = ?2 WHERE id = ?1",
                params![unit.as_bytes().as_slice(), supported],
            )?;
            one_row(n, || format!("unit {unit}"))?;
            bump_units(tx, &[unit])
        })
    }

    /// Where a unit stands, if known.
    pub fn unit_position(&self, unit: UnitId) -> Result<Option<Position>, StoreError> {
        let row: Option<(Option<f64>, Option<f64>)> = self
            .conn
            .query_row(
                "SELECT latitude, longitude FROM units WHERE id = ?1",
                params![unit.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((Some(lat), Some(lon))) => Position::new(lat, lon)
                .map(Some)
                .map_err(|e| StoreError::Encoding(e.to_string())),
            _ => Ok(None),
        }
    }

    /// A unit's relocation state and whether its model supports relocation.
    pub fn relocation(&self, unit: UnitId) -> Result<(RelocationState, bool), StoreError> {
        let row: Option<(String, bool)> = self
            .conn
            .query_row(
                "SELECT relocation, relocation_supported FROM units WHERE id = ?1",
                params![unit.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (state, supported) = row.ok_or_else(|| StoreError::NotFound(format!("unit {unit}")))?;
        Ok((relocation_from_text(&state)?, supported))
    }

    /// A site.
    pub fn site(&self, site: SiteId) -> Result<Option<SiteRow>, StoreError> {
        type Row = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT name, schedule, level, disarm, level_profile, clip_settings
                 FROM sites WHERE id = ?1",
                params![site.as_bytes().as_slice()],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(name, schedule, level, disarm, level_profile, clips)| {
            Ok(SiteRow {
                id: site,
                name,
                schedule: from_json(&schedule)?,
                level: from_json(&level)?,
                level_profile,
                disarm: disarm.map(|d| from_json(&d)).transpose()?,
                clip_settings: clips
                    .map(|c| from_json(&c))
                    .transpose()?
                    .unwrap_or_default(),
            })
        })
        .transpose()
    }

    /// The desired config of a unit assigned to a site.
    pub fn desired_config(&self, unit: UnitId) -> Result<Option<DesiredConfig>, StoreError> {
        let row: Option<(Option<Vec<u8>>, String, bool, i64)> = self
            .conn
            .query_row(
                "SELECT site, relocation, relocation_supported, desired_version FROM units WHERE id = ?1",
                params![unit.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((Some(site), relocation, supported, version)) = row else {
            return Ok(None);
        };
        let site = SiteId::from_uuid(uuid_from(&site)?);
        let Some(s) = self.site(site)? else {
            return Ok(None);
        };
        let schedule = WeeklySchedule::new(s.schedule)
            .map_err(|e| StoreError::Encoding(format!("stored schedule of site {site}: {e}")))?;
        Ok(Some(DesiredConfig {
            version: ConfigVersion(version as u64),
            site,
            schedule,
            level: s.level,
            disarm: s.disarm,
            relocation: relocation_from_text(&relocation)?,
            relocation_supported: supported,
            sensors: Vec::new(),
            cameras: Vec::new(),
            clips: s.clip_settings,
        }))
    }

    /// Every unit that has a site (for republishing after a restart).
    pub fn assigned_units(&self) -> Result<Vec<UnitId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM units WHERE site IS NOT NULL ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        ids.map(|id| Ok(UnitId::from_uuid(uuid_from(&id?)?)))
            .collect()
    }
}

fn site_exists(tx: &Transaction<'_>, site: SiteId) -> Result<Option<()>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM sites WHERE id = ?1",
            params![site.as_bytes().as_slice()],
            |_| Ok(()),
        )
        .optional()?)
}

/// Gives every unit of `site` a new desired version; returns them.
pub(super) fn bump_site(tx: &Transaction<'_>, site: SiteId) -> Result<Vec<UnitId>, StoreError> {
    let mut stmt = tx.prepare_cached("SELECT id FROM units WHERE site = ?1")?;
    let units: Vec<UnitId> = stmt
        .query_map(params![site.as_bytes().as_slice()], |r| {
            r.get::<_, Vec<u8>>(0)
        })?
        .map(|id| Ok(UnitId::from_uuid(uuid_from(&id?)?)))
        .collect::<Result<_, StoreError>>()?;
    bump_units(tx, &units)?;
    Ok(units)
}

pub(super) fn bump_units(tx: &Transaction<'_>, units: &[UnitId]) -> Result<(), StoreError> {
    let mut next = tx.prepare_cached(
        "UPDATE units SET desired_version = (SELECT COALESCE(MAX(desired_version), 0) + 1 FROM units)
         WHERE id = ?1",
    )?;
    for unit in units {
        next.execute(params![unit.as_bytes().as_slice()])?;
    }
    Ok(())
}

/// Relocation states are stored as their snake_case names.
pub(super) fn relocation_text(state: RelocationState) -> &'static str {
    match state {
        RelocationState::Active => "active",
        RelocationState::Relocating => "relocating",
        RelocationState::ActivationRequested => "activation_requested",
    }
}

pub(super) fn relocation_from_text(text: &str) -> Result<RelocationState, StoreError> {
    [
        RelocationState::Active,
        RelocationState::Relocating,
        RelocationState::ActivationRequested,
    ]
    .into_iter()
    .find(|s| relocation_text(*s) == text)
    .ok_or_else(|| StoreError::Encoding(format!("unknown relocation state {text:?}")))
}
