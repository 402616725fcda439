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
];

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

#[cfg(test)]
mod tests;
