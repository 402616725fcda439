//! The hub's store: one SQLite file in WAL mode, written by one task.
//!
//! Durability: `synchronous = FULL`, so a committed transaction survives a
//! power cut; the hub acknowledges events to units only after the commit.
//! Inserts of events are idempotent on the event id: a redelivered event is
//! acknowledged again but never stored twice.

#[cfg(test)]
mod access_tests;
mod alarms;
mod audit;
mod clips;
mod contacts;
mod directory;
mod grants;
mod levels;
mod people;
mod queue;
mod reports;
mod schema;
mod signin;
mod sites;
#[cfg(test)]
pub(crate) mod testkit;

use std::path::Path;

use jiff::Timestamp;
use picket_proto::ids::{EventId, OrgId, SiteId, UnitId};
use picket_proto::message::{Event, EventKind, Health, ReportedState, UnitStatus};

use crate::centre::queue::ItemKind;
use rusqlite::{Connection, params};

pub use alarms::{AlarmFilter, AlarmRow, StatusHistory};
pub use audit::{AuditCheck, AuditEntry, AuditRecord};
pub use clips::{ClipDeclaration, ClipRow, DiscardedClip};
pub use contacts::{ContactRow, NewContact, NewRecipient, RecipientRow};
pub use directory::DirectorySnapshot;
pub use grants::GrantRow;
pub use levels::LevelProfile;
pub use people::{AccountStatus, NewUser, OrgRow, UserRow};
pub use reports::{DayCounts, NewAlarm, ReportSend};
pub use schema::CURRENT as SCHEMA_VERSION;
pub use signin::{LinkPurpose, LinkRefusal, SessionRow, TakenLink, TokenRow};
pub use sites::{ActivationRequest, SiteRow};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer hub.
    #[error(
        "database schema version {found} is newer than this hub supports ({supported}); upgrade the hub"
    )]
    TooNew {
        /// Found.
        found: u32,
        /// Supported.
        supported: u32,
    },
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// It would clash with what exists (a duplicate e-mail, say).
    #[error("{0}")]
    Conflict(String),
    /// A value could not be (de)serialized.
    #[error("cannot encode or decode a stored value: {0}")]
    Encoding(String),
}

/// What one message from a unit changes in the store.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// An event to keep.
    Event {
        /// From.
        unit: UnitId,
        /// The event.
        event: Event,
    },
    /// A heartbeat.
    Heartbeat {
        /// From.
        unit: UnitId,
        /// Its health figures.
        health: Health,
    },
    /// A reported state.
    State {
        /// From.
        unit: UnitId,
        /// The state.
        state: ReportedState,
    },
    /// Online/offline.
    Status {
        /// Whose.
        unit: UnitId,
        /// Which.
        status: UnitStatus,
    },
}

impl Incoming {
    /// The unit it is from.
    pub fn unit(&self) -> UnitId {
        match self {
            Incoming::Event { unit, .. }
            | Incoming::Heartbeat { unit, .. }
            | Incoming::State { unit, .. }
            | Incoming::Status { unit, .. } => *unit,
        }
    }
}

/// A unit as the store knows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnitRow {
    /// Id.
    pub id: UnitId,
    /// Site, if assigned.
    pub site: Option<SiteId>,
    /// Online now.
    pub online: bool,
    /// When online/offline last changed (Unix ms).
    pub status_since: Option<i64>,
    /// Last message (Unix ms).
    pub last_seen: Option<i64>,
    /// Highest committed event seq.
    pub last_seq: Option<i64>,
    /// Desired config version.
    pub desired_version: i64,
    /// Applied config version reported by the unit.
    pub applied_version: Option<i64>,
    /// The last reported state.
    pub state: Option<ReportedState>,
    /// The last heartbeat's health.
    pub health: Option<Health>,
    /// Where it is in the relocation cycle.
    pub relocation: picket_proto::relocation::RelocationState,
    /// Whether its model can be relocated.
    pub relocation_supported: bool,
    /// Where it stands, if known (for the map).
    pub position: Option<picket_proto::position::Position>,
    /// Since when (unit clock, Unix ms) its enclosure is open: a tamper
    /// not yet restored.
    pub tamper_since: Option<i64>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// The event as sent.
    pub event: Event,
    /// From.
    pub unit: UnitId,
    /// When the hub committed it (Unix ms).
    pub received_at: i64,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every statement the hub runs often stays prepared: rusqlite keeps
        // 16 by default, and with more in use each call past that parses
        // and plans its SQL again.
        conn.set_prepared_statement_cache_capacity(128);
        // Plans never depend on bound values (the query planner stability
        // guarantee). Without it SQLite re-prepared ingest's queue-raising
        // statement on every execution, as its parameters entered the plan:
        // 45 % of the time to ingest an alarm (perf). Plans that matter are
        // forced with INDEXED BY.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Commits a batch of incoming messages in one transaction and returns,
    /// per unit, the event ids to acknowledge (new and already known ones).
    pub fn commit(
        &mut self,
        batch: &[Incoming],
        now: Timestamp,
    ) -> Result<Vec<(UnitId, Vec<EventId>)>, StoreError> {
        let now_ms = now.as_millisecond();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut acks: Vec<(UnitId, Vec<EventId>)> = Vec::new();
        {
            let mut touch = tx.prepare_cached(
                "INSERT INTO units (id, last_seen) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (id, unit, seq, at, received_at, kind, body, site)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT site FROM units WHERE id = ?2))",
            )?;
            let mut seq = tx.prepare_cached(
                "UPDATE units SET last_seq = MAX(COALESCE(last_seq, 0), ?2) WHERE id = ?1",
            )?;
            let mut health = tx.prepare_cached("UPDATE units SET health = ?2 WHERE id = ?1")?;
            let mut state = tx.prepare_cached(
                "UPDATE units SET state = ?2, applied_version = ?3, config_error = ?4 WHERE id = ?1",
            )?;
            // A tamper opens a spell unless one is open (a restored spell
            // not yet judged is replaced: a new tamper follows it).
            let mut tamper_open = tx.prepare_cached(
                "UPDATE units SET tamper_event = ?2, tamper_since = ?3, tamper_received = ?4,
                                  tamper_restored_at = NULL
                 WHERE id = ?1 AND (tamper_since IS NULL OR tamper_restored_at IS NOT NULL)",
            )?;
            let mut tamper_closed = tx.prepare_cached(
                "UPDATE units SET tamper_restored_at = MAX(?2, tamper_since)
                 WHERE id = ?1 AND tamper_since IS NOT NULL AND tamper_restored_at IS NULL",
            )?;
            let mut status = tx.prepare_cached(
                "UPDATE units SET online = ?2, status_since = ?3 WHERE id = ?1 AND online != ?2",
            )?;
            for item in batch {
                let unit = item.unit();
                touch.execute(params![unit.as_bytes().as_slice(), now_ms])?;
                match item {
                    Incoming::Event { event, .. } => {
                        let mut body = Vec::new();
                        ciborium::into_writer(event, &mut body)
                            .map_err(|e| StoreError::Encoding(e.to_string()))?;
                        let new = insert.execute(params![
                            event.id.as_bytes().as_slice(),
                            unit.as_bytes().as_slice(),
                            event.seq as i64,
                            event.at.as_millisecond(),
                            now_ms,
                            event.kind.tag(),
                            body
                        ])? == 1;
                        // An alarm goes to the centre at once; tamper
                        // only once its spell has lasted the debounce
                        // time (`raise_tamper_items`).
                        match event.kind {
                            EventKind::Alarm { .. } if new => {
                                queue::raise(&tx, event.id, ItemKind::Alarm, unit, now_ms)?;
                            }
                            EventKind::Tamper { .. } if new => {
                                tamper_open.execute(params![
                                    unit.as_bytes().as_slice(),
                                    event.id.as_bytes().as_slice(),
                                    event.at.as_millisecond(),
                                    now_ms
                                ])?;
                            }
                            EventKind::TamperRestored { .. } if new => {
                                tamper_closed.execute(params![
                                    unit.as_bytes().as_slice(),
                                    event.at.as_millisecond()
                                ])?;
                            }
                            _ => {}
                        }
                        seq.execute(params![unit.as_bytes().as_slice(), event.seq as i64])?;
                        match acks.iter_mut().find(|(u, _)| *u == unit) {
                            Some((_, ids)) => ids.push(event.id),
                            None => acks.push((unit, vec![event.id])),
                        }
                    }
                    Incoming::Heartbeat { health: h, .. } => {
                        health.execute(params![unit.as_bytes().as_slice(), json(h)?])?;
                    }
                    Incoming::State { state: s, .. } => {
                        state.execute(params![
                            unit.as_bytes().as_slice(),
                            json(s)?,
                            s.applied_config.map(|v| v.0 as i64),
                            s.config_error
                        ])?;
                    }
                    Incoming::Status { status: s, .. } => {
                        let online = matches!(s, UnitStatus::Online);
                        status.execute(params![unit.as_bytes().as_slice(), online, now_ms])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(acks)
    }

    /// Marks a unit offline because it went silent, at `since`.
    pub fn mark_offline(&mut self, unit: UnitId, since: Timestamp) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE units SET online = 0, status_since = ?2 WHERE id = ?1 AND online = 1",
            params![unit.as_bytes().as_slice(), since.as_millisecond()],
        )?;
        Ok(changed > 0)
    }

    /// Every unit.
    pub fn units(&self) -> Result<Vec<UnitRow>, StoreError> {
        self.query_units("", [])
    }

    /// The units on sites of these organisations.
    pub fn units_of_orgs(&self, orgs: &[OrgId]) -> Result<Vec<UnitRow>, StoreError> {
        let mut out = Vec::new();
        for org in orgs {
            out.extend(self.query_units(
                "WHERE site IN (SELECT id FROM sites WHERE org = ?1)",
                [org.as_bytes().as_slice()],
            )?);
        }
        Ok(out)
    }

    /// The unit's row, if known.
    pub fn unit(&self, unit: UnitId) -> Result<Option<UnitRow>, StoreError> {
        let mut rows = self.query_units("WHERE id = ?1", [unit.as_bytes().as_slice()])?;
        Ok(rows.pop())
    }

    fn query_units<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<UnitRow>, StoreError> {
        let sql = format!(
            "SELECT id, site, online, status_since, last_seen, last_seq, desired_version,
                    applied_version, state, health, relocation, relocation_supported,
                    latitude, longitude,
                    CASE WHEN tamper_restored_at IS NULL THEN tamper_since END
             FROM units {filter} ORDER BY id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params, |r| {
            Ok(RawUnit {
                id: r.get(0)?,
                site: r.get(1)?,
                online: r.get(2)?,
                status_since: r.get(3)?,
                last_seen: r.get(4)?,
                last_seq: r.get(5)?,
                desired_version: r.get(6)?,
                applied_version: r.get(7)?,
                state: r.get(8)?,
                health: r.get(9)?,
                relocation: r.get(10)?,
                relocation_supported: r.get(11)?,
                latitude: r.get(12)?,
                longitude: r.get(13)?,
                tamper_since: r.get(14)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            let raw = row?;
            out.push(UnitRow {
                id: UnitId::from_uuid(uuid_from(&raw.id)?),
                site: raw
                    .site
                    .map(|s| uuid_from(&s).map(SiteId::from_uuid))
                    .transpose()?,
                online: raw.online,
                status_since: raw.status_since,
                last_seen: raw.last_seen,
                last_seq: raw.last_seq,
                desired_version: raw.desired_version,
                applied_version: raw.applied_version,
                state: raw.state.map(|s| from_json(&s)).transpose()?,
                health: raw.health.map(|s| from_json(&s)).transpose()?,
                relocation: sites::relocation_from_text(&raw.relocation)?,
                relocation_supported: raw.relocation_supported,
                tamper_since: raw.tamper_since,
                position: match (raw.latitude, raw.longitude) {
                    (Some(lat), Some(lon)) => Some(
                        picket_proto::position::Position::new(lat, lon)
                            .map_err(|e| StoreError::Encoding(e.to_string()))?,
                    ),
                    _ => None,
                },
            });
        }
        Ok(out)
    }

    /// A unit's events, newest first, at most `limit`.
    pub fn events(&self, unit: UnitId, limit: u32) -> Result<Vec<EventRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body, received_at FROM events WHERE unit = ?1 ORDER BY at DESC, seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![unit.as_bytes().as_slice(), limit], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (body, received_at) = row?;
            let event: Event = ciborium::from_reader(body.as_slice())
                .map_err(|e| StoreError::Encoding(e.to_string()))?;
            out.push(EventRow {
                event,
                unit,
                received_at,
            });
        }
        Ok(out)
    }

    /// How many events are stored for `unit`.
    pub fn event_count(&self, unit: UnitId) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM events WHERE unit = ?1",
            params![unit.as_bytes().as_slice()],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

struct RawUnit {
    id: Vec<u8>,
    site: Option<Vec<u8>>,
    online: bool,
    status_since: Option<i64>,
    last_seen: Option<i64>,
    last_seq: Option<i64>,
    desired_version: i64,
    applied_version: Option<i64>,
    state: Option<String>,
    health: Option<String>,
    relocation: String,
    relocation_supported: bool,
    latitude: Option<f64>,
    longitude: Option<f64>,
    tamper_since: Option<i64>,
}

pub(crate) fn uuid_from(bytes: &[u8]) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::from_slice(bytes).map_err(|e| StoreError::Encoding(e.to_string()))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Encoding(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Encoding(e.to_string()))
}

#[cfg(test)]
mod tests;
