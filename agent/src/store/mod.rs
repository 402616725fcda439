//! The unit's own store: one SQLite file (WAL, `synchronous = FULL`).
//!
//! It keeps the event outbox (an event is written here before anything else
//! happens and deleted only when the hub acknowledges it), the last applied
//! desired config, the event sequence counter, and the commands already
//! carried out (so a redelivered command is acknowledged, not repeated).
//! Everything the agent needs after a power cut is here.

use std::path::Path;

use jiff::Timestamp;
use picket_proto::ids::{CommandId, EventId};
use picket_proto::message::{CommandOutcome, DesiredConfig, Event, EventKind};
use rusqlite::{Connection, OptionalExtension, params};

const MIGRATIONS: &[&str] = &[
    // 1: outbox, key/value state, commands seen.
    "CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,
        id BLOB NOT NULL UNIQUE,
        body BLOB NOT NULL               -- the Event as CBOR
    ) STRICT;
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) STRICT;
    CREATE TABLE commands (
        id BLOB PRIMARY KEY,
        received_at INTEGER NOT NULL,
        outcome TEXT NOT NULL            -- JSON CommandOutcome
    ) STRICT;",
    // 2: the clips on disk: a row before the file (writing), ready once the
    // file is complete and synced, uploaded once the hub confirmed it.
    "CREATE TABLE clips (
        id BLOB PRIMARY KEY,             -- UUIDv7; also the file's name
        event BLOB NOT NULL,             -- the alarm it shows
        camera BLOB NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('clip', 'thumbnail')),
        state TEXT NOT NULL CHECK (state IN ('writing', 'ready', 'uploaded')),
        bytes INTEGER NOT NULL DEFAULT 0,
        started_at INTEGER,              -- first frame, Unix ms
        ended_at INTEGER,                -- last frame
        created_at INTEGER NOT NULL,
        uploaded_at INTEGER
    ) STRICT;
    CREATE INDEX clips_by_state ON clips(state, created_at);",
];

/// A clip in the unit's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipRow {
    /// Its id (the file's name).
    pub id: uuid::Uuid,
    /// The alarm it shows.
    pub event: EventId,
    /// The camera.
    pub camera: picket_proto::ids::CameraId,
    /// `clip` or `thumbnail`.
    pub kind: String,
    /// Where it is.
    pub state: crate::clips::quota::ClipState,
    /// Bytes on disk (once ready).
    pub bytes: u64,
    /// First and last frame.
    pub started_at: Option<Timestamp>,
    /// Last frame.
    pub ended_at: Option<Timestamp>,
    /// When its row was made.
    pub created_at: Timestamp,
}

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("unit database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A newer agent wrote the file.
    #[error(
        "unit database schema {found} is newer than this agent supports ({supported}); update the agent"
    )]
    TooNew {
        /// Found.
        found: u32,
        /// Supported.
        supported: u32,
    },
    /// A stored value could not be encoded or decoded.
    #[error("cannot encode or decode a stored value: {0}")]
    Encoding(String),
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    /// Sequence number.
    pub seq: u64,
    /// The event.
    pub event: Event,
}

/// The unit's store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) and migrates `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // The core, each camera's recorder and delivery write: wait for
        // the lock rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let current = MIGRATIONS.len() as u32;
        if version > current {
            return Err(StoreError::TooNew {
                found: version,
                supported: current,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as u32 + 1)?;
            tx.commit()?;
        }
        Ok(Store { conn })
    }

    /// Records a new event durably: gives it the next sequence number and a
    /// UUIDv7 from `at` and `random`, and commits it to the outbox.
    pub fn record(
        &mut self,
        kind: EventKind,
        at: Timestamp,
        random: [u8; 10],
    ) -> Result<Event, StoreError> {
        let tx = self.conn.transaction()?;
        let last: Option<i64> = tx
            .query_row("SELECT value FROM meta WHERE key = 'last_seq'", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()?
            .map(|v| <[u8; 8]>::try_from(v.as_slice()).map(i64::from_be_bytes))
            .transpose()
            .map_err(|_| StoreError::Encoding("last_seq is not 8 bytes".into()))?;
        let seq = last.unwrap_or(0) + 1;
        let event = Event {
            id: EventId::v7(at, random),
            seq: seq as u64,
            at,
            kind,
        };
        let mut body = Vec::new();
        ciborium::into_writer(&event, &mut body)
            .map_err(|e| StoreError::Encoding(e.to_string()))?;
        tx.execute(
            "INSERT INTO outbox (seq, id, body) VALUES (?1, ?2, ?3)",
            params![seq, event.id.as_bytes().as_slice(), body],
        )?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('last_seq', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![seq.to_be_bytes().as_slice()],
        )?;
        tx.commit()?;
        Ok(event)
    }

    /// Up to `limit` outbox rows with a sequence number above `after`, in order.
    pub fn outbox_after(&self, after: u64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, body FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = stmt.query_map(params![after as i64, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, body) = row?;
            let event: Event = ciborium::from_reader(body.as_slice())
                .map_err(|e| StoreError::Encoding(e.to_string()))?;
            out.push(OutboxRow {
                seq: seq as u64,
                event,
            });
        }
        Ok(out)
    }

    /// One outbox row by sequence number, if still there.
    pub fn outbox_row(&self, seq: u64) -> Result<Option<OutboxRow>, StoreError> {
        Ok(self
            .outbox_after(seq.saturating_sub(1), 1)?
            .into_iter()
            .find(|r| r.seq == seq))
    }

    /// Deletes acknowledged events; returns the sequence numbers removed.
    pub fn acknowledge(&mut self, ids: &[EventId]) -> Result<Vec<u64>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut removed = Vec::new();
        {
            let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1 RETURNING seq")?;
            for id in ids {
                if let Some(seq) = stmt
                    .query_row(params![id.as_bytes().as_slice()], |r| r.get::<_, i64>(0))
                    .optional()?
                {
                    removed.push(seq as u64);
                }
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    /// How many events wait for the hub's acknowledgement.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The last applied desired config.
    pub fn applied_config(&self) -> Result<Option<DesiredConfig>, StoreError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'config'", [], |r| {
                r.get(0)
            })
            .optional()?;
        bytes
            .map(|b| {
                ciborium::from_reader(b.as_slice()).map_err(|e| StoreError::Encoding(e.to_string()))
            })
            .transpose()
    }

    /// Persists `config` as the applied one.
    pub fn save_config(&mut self, config: &DesiredConfig) -> Result<(), StoreError> {
        let mut body = Vec::new();
        ciborium::into_writer(config, &mut body)
            .map_err(|e| StoreError::Encoding(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('config', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![body],
        )?;
        Ok(())
    }

    /// The outcome of a command already carried out, if it was.
    pub fn command_outcome(&self, id: CommandId) -> Result<Option<CommandOutcome>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT outcome FROM commands WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Encoding(e.to_string())))
            .transpose()
    }

    /// Remembers a command's outcome; forgets ones older than 7 days.
    pub fn remember_command(
        &mut self,
        id: CommandId,
        at: Timestamp,
        outcome: &CommandOutcome,
    ) -> Result<(), StoreError> {
        let text =
            serde_json::to_string(outcome).map_err(|e| StoreError::Encoding(e.to_string()))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO commands (id, received_at, outcome) VALUES (?1, ?2, ?3)",
            params![id.as_bytes().as_slice(), at.as_millisecond(), text],
        )?;
        tx.execute(
            "DELETE FROM commands WHERE received_at < ?1",
            params![at.as_millisecond() - 7 * 24 * 3600 * 1000],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn clip_state(text: &str) -> Result<crate::clips::quota::ClipState, StoreError> {
    use crate::clips::quota::ClipState;
    match text {
        "writing" => Ok(ClipState::Writing),
        "ready" => Ok(ClipState::Ready),
        "uploaded" => Ok(ClipState::Uploaded),
        other => Err(StoreError::Encoding(format!("clip state {other:?}"))),
    }
}

fn ms_to(value: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    value
        .map(|v| Timestamp::from_millisecond(v).map_err(|e| StoreError::Encoding(e.to_string())))
        .transpose()
}

impl Store {
    /// Records that a clip's file is about to be written.
    pub fn clip_begin(
        &mut self,
        id: uuid::Uuid,
        event: EventId,
        camera: picket_proto::ids::CameraId,
        kind: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO clips (id, event, camera, kind, state, created_at)
             VALUES (?1, ?2, ?3, ?4, 'writing', ?5)",
            params![
                id.as_bytes().as_slice(),
                event.as_bytes().as_slice(),
                camera.as_bytes().as_slice(),
                kind,
                now.as_millisecond()
            ],
        )?;
        Ok(())
    }

    /// The clip's file is complete and synced.
    pub fn clip_ready(
        &mut self,
        id: uuid::Uuid,
        bytes: u64,
        started_at: Option<Timestamp>,
        ended_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE clips SET state = 'ready', bytes = ?2, started_at = ?3, ended_at = ?4
             WHERE id = ?1 AND state = 'writing'",
            params![
                id.as_bytes().as_slice(),
                bytes as i64,
                started_at.map(|t| t.as_millisecond()),
                ended_at.map(|t| t.as_millisecond())
            ],
        )?;
        Ok(())
    }

    /// The hub confirmed the clip.
    pub fn clip_uploaded(&mut self, id: uuid::Uuid, now: Timestamp) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE clips SET state = 'uploaded', uploaded_at = ?2 WHERE id = ?1 AND state = 'ready'",
            params![id.as_bytes().as_slice(), now.as_millisecond()],
        )?;
        Ok(())
    }

    /// Forgets a clip (its file is gone).
    pub fn clip_forget(&mut self, id: uuid::Uuid) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM clips WHERE id = ?1",
            params![id.as_bytes().as_slice()],
        )?;
        Ok(())
    }

    /// Clips in `state`, oldest first; thumbnails before clips of the same
    /// age (the first picture reaches the hub first).
    pub fn clips_in(
        &self,
        state: crate::clips::quota::ClipState,
    ) -> Result<Vec<ClipRow>, StoreError> {
        use crate::clips::quota::ClipState;
        let text = match state {
            ClipState::Writing => "writing",
            ClipState::Ready => "ready",
            ClipState::Uploaded => "uploaded",
        };
        self.query_clips(
            "WHERE state = ?1 ORDER BY created_at, kind = 'clip', id",
            params![text],
        )
    }

    /// Every clip.
    pub fn clips(&self) -> Result<Vec<ClipRow>, StoreError> {
        self.query_clips("ORDER BY created_at, id", [])
    }

    fn query_clips<P: rusqlite::Params>(
        &self,
        tail: &str,
        params: P,
    ) -> Result<Vec<ClipRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, event, camera, kind, state, bytes, started_at, ended_at, created_at
             FROM clips {tail}"
        ))?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        let uuid = |b: Vec<u8>| {
            uuid::Uuid::from_slice(&b).map_err(|e| StoreError::Encoding(e.to_string()))
        };
        while let Some(r) = rows.next()? {
            let state: String = r.get(4)?;
            out.push(ClipRow {
                id: uuid(r.get(0)?)?,
                event: EventId::from_uuid(uuid(r.get(1)?)?),
                camera: picket_proto::ids::CameraId::from_uuid(uuid(r.get(2)?)?),
                kind: r.get(3)?,
                state: clip_state(&state)?,
                bytes: r.get::<_, i64>(5)? as u64,
                started_at: ms_to(r.get(6)?)?,
                ended_at: ms_to(r.get(7)?)?,
                created_at: ms_to(Some(r.get(8)?))?.unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
