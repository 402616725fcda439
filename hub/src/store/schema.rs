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
    // 2: the access model: organisations, sub-sites, users, sign-in
    // sessions, API tokens, single-use links, dealer access, audit, mail.
    // Secrets (session ids, tokens, links) are stored only as SHA-256
    // hashes, so a copy of the database signs nobody in.
    "CREATE TABLE organisations (
        id BLOB PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('operator', 'customer', 'dealer')),
        name TEXT NOT NULL,
        sharing TEXT NOT NULL,           -- JSON Sharing (customers)
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE org_dealers (
        customer BLOB NOT NULL REFERENCES organisations(id),
        dealer BLOB NOT NULL REFERENCES organisations(id),
        PRIMARY KEY (customer, dealer)
    ) STRICT, WITHOUT ROWID;
    ALTER TABLE sites ADD COLUMN org BLOB REFERENCES organisations(id);
    ALTER TABLE sites ADD COLUMN parent BLOB REFERENCES sites(id);
    CREATE INDEX sites_by_org ON sites(org);
    CREATE TABLE users (
        id BLOB PRIMARY KEY,
        org BLOB NOT NULL REFERENCES organisations(id),
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        scope TEXT NOT NULL,             -- JSON SiteScope
        status TEXT NOT NULL CHECK (status IN ('invited', 'active', 'revoked')),
        password TEXT,                   -- argon2id PHC string; NULL until set
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX users_by_org ON users(org);
    CREATE TABLE sessions (
        id_hash BLOB PRIMARY KEY,
        user BLOB NOT NULL REFERENCES users(id),
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,     -- absolute expiry
        ended_at INTEGER,
        address TEXT NOT NULL,
        user_agent TEXT NOT NULL
    ) STRICT;
    CREATE INDEX sessions_by_user ON sessions(user);
    CREATE TABLE api_tokens (
        id BLOB PRIMARY KEY,
        user BLOB NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        secret_hash BLOB NOT NULL UNIQUE,
        permissions TEXT NOT NULL,       -- JSON list: the token's scope
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_used INTEGER
    ) STRICT;
    CREATE TABLE links (
        token_hash BLOB PRIMARY KEY,
        purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset', 'dealer_request')),
        user BLOB REFERENCES users(id),
        detail TEXT NOT NULL,            -- JSON, per purpose
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
    ) STRICT;
    CREATE TABLE dealer_grants (
        id BLOB PRIMARY KEY,
        customer BLOB NOT NULL REFERENCES organisations(id),
        dealer BLOB NOT NULL REFERENCES organisations(id),
        kind TEXT NOT NULL,              -- direct (2 h) or by_request (24 h)
        granted_by BLOB NOT NULL REFERENCES users(id),
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        ended_early_at INTEGER,
        dealer_signed_in_at INTEGER
    ) STRICT;
    CREATE INDEX dealer_grants_by_customer ON dealer_grants(customer, ends_at);
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,         -- 1, 2, 3 ... without gaps
        at INTEGER NOT NULL,
        actor BLOB,                      -- NULL: the hub itself
        actor_label TEXT NOT NULL,       -- e-mail or 'operator token' at the time
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        org BLOB,                        -- whose business it was, for reading
        detail TEXT NOT NULL,            -- JSON
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_org ON audit(org, seq);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE mail_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        purpose TEXT NOT NULL,
        outcome TEXT NOT NULL,           -- 'sent' or the error
        attempts INTEGER NOT NULL
    ) STRICT;",
    // 3: indexes for what the API asks often: a site's units, an
    // organisation's units, and the config version counter (MAX without a
    // scan).
    "CREATE INDEX units_by_site ON units(site);
    CREATE INDEX units_by_desired_version ON units(desired_version);",
    // 4: who the centre calls for a site (in order), and who receives its
    // reports.
    "CREATE TABLE site_contacts (
        id INTEGER PRIMARY KEY,
        site BLOB NOT NULL REFERENCES sites(id),
        position INTEGER NOT NULL,       -- call order, 1 first
        name TEXT NOT NULL,
        phone TEXT NOT NULL,
        email TEXT                       -- optional
    ) STRICT;
    CREATE UNIQUE INDEX site_contacts_order ON site_contacts(site, position);
    CREATE TABLE report_recipients (
        id INTEGER PRIMARY KEY,
        site BLOB NOT NULL REFERENCES sites(id),
        email TEXT NOT NULL COLLATE NOCASE,
        instant INTEGER NOT NULL,        -- an e-mail per alarm
        daily INTEGER NOT NULL,          -- the daily summary
        UNIQUE (site, email)
    ) STRICT;",
    // 5: the monitoring centre's queue: an item per alarm or tamper event
    // from a unit on a site, with its handling (`status`: JSON of
    // `centre::queue::Status`). `open` until handled.
    "CREATE TABLE queue_items (
        id BLOB PRIMARY KEY,             -- the event that raised it
        kind TEXT NOT NULL,              -- 'alarm', 'tamper', 'offline'
        site BLOB NOT NULL,
        unit BLOB NOT NULL,
        priority INTEGER NOT NULL,       -- 1 the most urgent
        received_at INTEGER NOT NULL,    -- hub commit, Unix ms
        status TEXT NOT NULL,
        open INTEGER NOT NULL DEFAULT 1
    ) STRICT;
    CREATE INDEX queue_open ON queue_items(open, priority, received_at);
    CREATE INDEX queue_by_site ON queue_items(site, received_at);",
    // 6: alarm lists read events of one kind, newest first.
    "CREATE INDEX events_by_kind ON events(kind, at);",
    // 7: every online/offline change of a unit, for availability reports
    // (EN 50136-1). A trigger writes it in the same transaction as the
    // change, whoever makes it (ingest, supervision).
    "CREATE TABLE unit_status_log (
        unit BLOB NOT NULL,
        at INTEGER NOT NULL,             -- Unix ms (the change's status_since)
        online INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX unit_status_log_by_unit ON unit_status_log(unit, at);
    CREATE TRIGGER units_status_log AFTER UPDATE OF online ON units
    WHEN NEW.online != OLD.online
    BEGIN
        INSERT INTO unit_status_log (unit, at, online)
        VALUES (NEW.id, COALESCE(NEW.status_since, NEW.last_seen, 0), NEW.online);
    END;",
    // 8: an event belongs to the site its unit was on when it arrived (a
    // unit moved to another customer does not take its history along), and
    // lists by site read only that site's events. Existing events get the
    // site they were queued for, else their unit's site now.
    "ALTER TABLE events ADD COLUMN site BLOB;
    UPDATE events SET site = COALESCE(
        (SELECT q.site FROM queue_items q WHERE q.id = events.id),
        (SELECT u.site FROM units u WHERE u.id = events.unit));
    CREATE INDEX events_by_site ON events(site, kind, at);",
    // 9: reports to a site's recipients: every send, where the instant
    // e-mails have got to, and which day's summary each site last got.
    "CREATE TABLE report_sends (
        id INTEGER PRIMARY KEY,
        site BLOB NOT NULL,
        kind TEXT NOT NULL,              -- 'instant' or 'daily'
        about TEXT NOT NULL,             -- the alarm id, or the local date
        recipient TEXT NOT NULL,
        at INTEGER NOT NULL,             -- Unix ms
        outcome TEXT NOT NULL,           -- 'sent' or the error
        attempts INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX report_sends_by_site ON report_sends(site, at);
    CREATE TABLE report_cursor (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE daily_reports (
        site BLOB PRIMARY KEY,
        last_date TEXT NOT NULL          -- the local date last summarised
    ) STRICT;",
    // 10: the alarm lists' indexes hold alarms only (a few per cent of
    // events), so the other events cost ingest nothing extra.
    "DROP INDEX events_by_kind;
    DROP INDEX events_by_site;
    CREATE INDEX alarms_by_at ON events(at) WHERE kind = 'alarm';
    CREATE INDEX alarms_by_site ON events(site, at) WHERE kind = 'alarm';",
    // 11: security levels come from profiles the operator defines; a site
    // keeps a copy of its profile's level (the unit config is built from
    // it) and the profile's key. Three profiles to start with; sites on
    // the standard level get its key, others keep their level unnamed.
    "CREATE TABLE level_profiles (
        key TEXT PRIMARY KEY,            -- stable, used in URLs
        level TEXT NOT NULL,             -- JSON SecurityLevel
        position INTEGER NOT NULL        -- listing order
    ) STRICT;
    INSERT INTO level_profiles (key, level, position) VALUES
      ('standard', '{\"name\":\"Standard\",\"arming\":\"by_schedule\",\"sensors\":[\"motion\",\"door\",\"video_analytics\",\"tamper\",\"power\",\"panic\"],\"warnings\":{\"siren\":true,\"strobe\":true,\"voice\":true},\"centre_priority\":3}', 1),
      ('high', '{\"name\":\"High security 24/7\",\"arming\":\"always_armed\",\"sensors\":[\"motion\",\"door\",\"video_analytics\",\"tamper\",\"power\",\"panic\"],\"warnings\":{\"siren\":true,\"strobe\":true,\"voice\":true},\"centre_priority\":1}', 2),
      ('silent', '{\"name\":\"Silent\",\"arming\":\"by_schedule\",\"sensors\":[\"motion\",\"door\",\"video_analytics\",\"tamper\",\"power\",\"panic\"],\"warnings\":{\"siren\":false,\"strobe\":false,\"voice\":false},\"centre_priority\":3}', 3);
    ALTER TABLE sites ADD COLUMN level_profile TEXT REFERENCES level_profiles(key);
    UPDATE sites SET level_profile = 'standard'
    WHERE level = (SELECT level FROM level_profiles WHERE key = 'standard');",
    // 12: an incident report can await the centre's review before the
    // customer sees it (status `shared_at`); reports handled before this
    // were shown at once, so they count as shared when handled.
    "UPDATE queue_items
     SET status = json_set(status, '$.shared_at', json_extract(status, '$.at'))
     WHERE json_extract(status, '$.state') = 'handled';",
    // 13: where each unit stands (for the map; set when the centre
    // activates a relocated unit, later by installers), and the position
    // an activation request gives.
    "ALTER TABLE units ADD COLUMN latitude REAL;
    ALTER TABLE units ADD COLUMN longitude REAL;
    ALTER TABLE units ADD COLUMN position_at INTEGER;  -- Unix ms it was recorded
    ALTER TABLE queue_items ADD COLUMN requested_position TEXT;  -- JSON Position",
    // 14: tamper is debounced like offline: a unit's tamper spell runs
    // from its first tamper event to tamper_restored, and raises a queue
    // item only once it has lasted the debounce time. The spell's length
    // is measured on the unit's clock (tamper and restore may arrive late,
    // together); an open spell's age on the hub's clock from its receipt.
    "ALTER TABLE units ADD COLUMN tamper_event BLOB;        -- first tamper event of the spell
    ALTER TABLE units ADD COLUMN tamper_since INTEGER;      -- its unit time, Unix ms
    ALTER TABLE units ADD COLUMN tamper_received INTEGER;   -- its hub receipt, Unix ms
    ALTER TABLE units ADD COLUMN tamper_restored_at INTEGER; -- the restore's unit time
    CREATE INDEX units_tampered ON units(id) WHERE tamper_since IS NOT NULL;",
    // 15: event video: each alarm's clips and thumbnails as units upload
    // them (the files are in the data directory's clips/).
    "CREATE TABLE clips (
        id BLOB PRIMARY KEY,             -- made on the unit (UUIDv7)
        unit BLOB NOT NULL,
        event BLOB NOT NULL,             -- the alarm it shows
        site BLOB,                       -- the event's site
        camera BLOB NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('clip', 'thumbnail')),
        size INTEGER NOT NULL,
        sha256 BLOB NOT NULL,
        started_at INTEGER,              -- first frame, unit clock, Unix ms
        ended_at INTEGER,                -- last frame
        declared_at INTEGER NOT NULL,    -- hub clock
        completed_at INTEGER             -- NULL while uploading
    ) STRICT;
    CREATE INDEX clips_by_event ON clips(event);",
    // 16: how long each site keeps its clips (the customer's choice).
    "ALTER TABLE sites ADD COLUMN clip_retention_days INTEGER NOT NULL DEFAULT 30;
    CREATE INDEX clips_by_completed ON clips(completed_at);",
    // 17: each site's clip recording (pre-roll, post-roll, longest clip) as
    // JSON; NULL: the defaults.
    "ALTER TABLE sites ADD COLUMN clip_settings TEXT;",
];

/// The schema version this build writes.
pub const CURRENT: u32 = MIGRATIONS.len() as u32;

/// Brings `conn` up to [`CURRENT`]; refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<u32, super::StoreError> {
    migrate_to(conn, CURRENT)
}

/// Brings `conn` up to `target` (tests step through the migrations).
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, super::StoreError> {
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > CURRENT {
        return Err(super::StoreError::TooNew {
            found: version,
            supported: CURRENT,
        });
    }
    let wanted = MIGRATIONS.iter().take(target as usize);
    for (index, sql) in wanted.enumerate().skip(version as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    Ok(target.max(version))
}
