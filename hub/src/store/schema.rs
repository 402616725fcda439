//! The hub's SQLite schema: numbered migrations applied in order, tracked in
//! `PRAGMA user_version`. Never edit a released migration; add one.

use rusqlite::Connection;

/// Migrations, in order; index + 1 is the schema version they produce.
const MIGRATIONS: &[&str] = &[
    // 1: units, sites with desired config, events.
    "CREATE TABLE sites (
        id BLOB PRIMARY KEY,
        name TEXT NOT NULL,
        schedule TEXT NOT NULL,          -- JSON ScheduleSpec
        level TEXT NOT NULL,             -- JSON SecurityLevel
        disarm TEXT,                     -- JSON TemporaryDisarm or NULL
        version INTEGER NOT NULL         -- bumped on every change
    ) STRICT;
    CREATE TABLE units (
        id BLOB PRIMARY KEY,
        site BLOB REFERENCES sites(id),  -- NULL: not yet assigned
        name TEXT NOT NULL DEFAULT '',
        relocation TEXT NOT NULL DEFAULT 'active',
        relocation_supported INTEGER NOT NULL DEFAULT 1,
        desired_version INTEGER NOT NULL DEFAULT 0,
        applied_version INTEGER,
        config_error TEXT,
        online INTEGER NOT NULL DEFAULT 0,
        status_since INTEGER,            -- Unix ms of the last online/offline change
        last_seen INTEGER,               -- Unix ms of the last message
        health TEXT,                     -- JSON Health from the last heartbeat
        state TEXT,                      -- JSON ReportedState
        last_seq INTEGER                 -- highest event seq committed
    ) STRICT;
    CREATE TABLE events (
        id BLOB PRIMARY KEY,
        unit BLOB NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,             -- unit's clock, Unix ms
        received_at INTEGER NOT NULL,    -- hub's clock, Unix ms
        kind TEXT NOT NULL,
        body BLOB NOT NULL               -- the Event as CBOR, exactly as sent
    ) STRICT;
    CREATE INDEX events_by_unit ON events(unit, at);",
];

/// The schema version this build writes.
pub const CURRENT: u32 = MIGRATIONS.len() as u32;

/// Brings `conn` up to [`CURRENT`]; refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<u32, super::StoreError> {
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > CURRENT {
        return Err(super::StoreError::TooNew {
            found: version,
            supported: CURRENT,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    Ok(CURRENT)
}
