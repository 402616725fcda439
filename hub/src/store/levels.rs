//! Security-level profiles: the operator defines named levels, customers
//! choose one per site. A site keeps a copy of its profile's level (the unit
//! config is built from it) and the profile's key; changing a profile
//! changes every site that uses it, and their units get the new config.

use jiff::Timestamp;
use picket_proto::ids::{SiteId, UnitId};
use picket_proto::level::SecurityLevel;
use rusqlite::{OptionalExtension, params};

use super::audit::{AuditEntry, one_row};
use super::sites::bump_site;
use super::{Store, StoreError, from_json, json, uuid_from};

/// A profile as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LevelProfile {
    /// Stable key, used in URLs (`standard`, `construction-24-7`).
    pub key: String,
    /// The level.
    pub level: SecurityLevel,
    /// How many sites use it now.
    pub sites: u64,
}

impl Store {
    /// Every profile, in the operator's order.
    pub fn level_profiles(&self) -> Result<Vec<LevelProfile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.key, p.level,
                    (SELECT COUNT(*) FROM sites s WHERE s.level_profile = p.key)
             FROM level_profiles p ORDER BY p.position, p.key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (key, level, sites) = row?;
            Ok(LevelProfile {
                key,
                level: from_json(&level)?,
                sites: sites as u64,
            })
        })
        .collect()
    }

    /// One profile's level.
    pub fn level_profile(&self, key: &str) -> Result<Option<SecurityLevel>, StoreError> {
        let level: Option<String> = self
            .conn
            .query_row(
                "SELECT level FROM level_profiles WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?;
        level.map(|l| from_json(&l)).transpose()
    }

    /// Creates or replaces a profile; every site using it takes the new
    /// level. Returns the units whose config changed.
    pub fn put_level_profile(
        &mut self,
        key: &str,
        level: &SecurityLevel,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<UnitId>, StoreError> {
        let text = json(level)?;
        self.audited(audit, now, |tx| {
            tx.execute(
                "INSERT INTO level_profiles (key, level, position)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM level_profiles))
                 ON CONFLICT(key) DO UPDATE SET level = excluded.level",
                params![key, text],
            )?;
            tx.execute(
                "UPDATE sites SET level = ?2 WHERE level_profile = ?1",
                params![key, text],
            )?;
            let sites: Vec<Vec<u8>> = tx
                .prepare_cached("SELECT id FROM sites WHERE level_profile = ?1")?
                .query_map(params![key], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut units = Vec::new();
            for site in sites {
                units.extend(bump_site(tx, SiteId::from_uuid(uuid_from(&site)?))?);
            }
            Ok(units)
        })
    }

    /// Removes a profile no site uses; refuses the last one.
    pub fn remove_level_profile(
        &mut self,
        key: &str,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let (total, using): (i64, i64) = tx.query_row(
                "SELECT (SELECT COUNT(*) FROM level_profiles),
                        (SELECT COUNT(*) FROM sites WHERE level_profile = ?1)",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if using > 0 {
                return Err(StoreError::Conflict(format!(
                    "level profile {key:?} is in use by {using} site(s); move them to another level first"
                )));
            }
            if total <= 1 {
                return Err(StoreError::Conflict(
                    "the last level profile cannot be removed: customers must have a level to choose"
                        .into(),
                ));
            }
            let n = tx.execute("DELETE FROM level_profiles WHERE key = ?1", params![key])?;
            one_row(n, || format!("level profile {key:?}"))
        })
    }

    /// Sets a site's level to a profile. Returns the units whose config
    /// changed.
    pub fn set_site_profile(
        &mut self,
        site: SiteId,
        key: &str,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<UnitId>, StoreError> {
        self.audited(audit, now, |tx| {
            let level: Option<String> = tx
                .query_row(
                    "SELECT level FROM level_profiles WHERE key = ?1",
                    params![key],
                    |r| r.get(0),
                )
                .optional()?;
            let level =
                level.ok_or_else(|| StoreError::NotFound(format!("level profile {key:?}")))?;
            let n = tx.execute(
                "UPDATE sites SET level = ?2, level_profile = ?3 WHERE id = ?1",
                params![site.as_bytes().as_slice(), level, key],
            )?;
            one_row(n, || format!("site {site}"))?;
            bump_site(tx, site)
        })
    }

    /// The profile a site uses (`None`: a level set before profiles).
    pub fn site_profile(&self, site: SiteId) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT level_profile FROM sites WHERE id = ?1",
                params![site.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}

#[cfg(test)]
mod tests;
