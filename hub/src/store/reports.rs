//! What the report task reads and records: alarms not yet e-mailed, the
//! counts for a site's day, which day each site last got, and every send.

use jiff::Timestamp;
use jiff::civil::Date;
use picket_proto::ids::{SiteId, UnitId};
use picket_proto::message::Event;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError, uuid_from};
use crate::centre::queue::{Outcome, Status};

/// An alarm stored after the instant e-mail cursor.
#[derive(Debug, Clone)]
pub struct NewAlarm {
    /// Its position in the events table (the cursor's unit).
    pub row: i64,
    /// From.
    pub unit: UnitId,
    /// Where.
    pub site: SiteId,
    /// The event.
    pub event: Event,
}

/// A site's alarms over a day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// Alarms raised.
    pub alarms: usize,
    /// Handled, by outcome.
    pub handled: Vec<(Outcome, usize)>,
    /// Still open in the queue.
    pub open: usize,
    /// Handled, with the incident report awaiting the centre's review (the
    /// outcome is not told before the report is shared).
    pub awaiting_review: usize,
}

/// One report e-mail as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSend {
    /// `instant` or `daily`.
    pub kind: String,
    /// The alarm id, or the local date.
    pub about: String,
    /// To whom.
    pub recipient: String,
    /// When (Unix ms).
    pub at: i64,
    /// `sent`, or why not.
    pub outcome: String,
    /// Delivery attempts.
    pub attempts: u32,
}

const CURSOR: &str = "instant";

impl Store {
    /// Alarms on sites stored after the instant-report cursor, oldest first,
    /// and how far the events were read (move the cursor there once these
    /// are reported: events that are not alarms are never read again). On
    /// first use the cursor starts at the newest event: history is not
    /// e-mailed.
    pub fn alarms_to_report(&mut self, limit: u32) -> Result<(Vec<NewAlarm>, i64), StoreError> {
        let cursor: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM report_cursor WHERE name = ?1",
                params![CURSOR],
                |r| r.get(0),
            )
            .optional()?;
        let cursor = match cursor {
            Some(c) => c,
            None => {
                let newest: i64 =
                    self.conn
                        .query_row("SELECT COALESCE(MAX(rowid), 0) FROM events", [], |r| {
                            r.get(0)
                        })?;
                self.set_report_cursor(newest)?;
                newest
            }
        };
        // Read up to the newest event now; later ones wait for the next
        // round.
        let newest: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(rowid), 0) FROM events", [], |r| {
                    r.get(0)
                })?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid, unit, site, body FROM events
             WHERE rowid > ?1 AND rowid <= ?3 AND kind = 'alarm' AND site IS NOT NULL
             ORDER BY rowid LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![cursor, limit, newest])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let body: Vec<u8> = row.get(3)?;
            out.push(NewAlarm {
                row: row.get(0)?,
                unit: UnitId::from_uuid(uuid_from(&row.get::<_, Vec<u8>>(1)?)?),
                site: SiteId::from_uuid(uuid_from(&row.get::<_, Vec<u8>>(2)?)?),
                event: ciborium::from_reader(body.as_slice())
                    .map_err(|e| StoreError::Encoding(e.to_string()))?,
            });
        }
        // A full batch may leave alarms after its last one.
        let read_to = match out.last() {
            Some(last) if out.len() == limit as usize => last.row,
            _ => newest,
        };
        Ok((out, read_to))
    }

    /// Moves the instant-report cursor (never backwards).
    pub fn set_report_cursor(&mut self, row: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO report_cursor (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
            params![CURSOR, row],
        )?;
        Ok(())
    }

    /// Sites with at least one daily-summary recipient.
    pub fn sites_with_daily_reports(&self) -> Result<Vec<SiteId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT site FROM report_recipients WHERE daily = 1")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(SiteId::from_uuid(uuid_from(&row.get::<_, Vec<u8>>(0)?)?));
        }
        Ok(out)
    }

    /// The local date a site's summary last covered.
    pub fn last_daily(&self, site: SiteId) -> Result<Option<Date>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT last_date FROM daily_reports WHERE site = ?1",
                params![site.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| {
            t.parse()
                .map_err(|e: jiff::Error| StoreError::Encoding(e.to_string()))
        })
        .transpose()
    }

    /// Records that a site's summary for `date` went out.
    pub fn set_last_daily(&mut self, site: SiteId, date: Date) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO daily_reports (site, last_date) VALUES (?1, ?2)
             ON CONFLICT(site) DO UPDATE SET last_date = excluded.last_date",
            params![site.as_bytes().as_slice(), date.to_string()],
        )?;
        Ok(())
    }

    /// A site's alarms raised in `[from, to)` and how they stand.
    pub fn day_counts(
        &self,
        site: SiteId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<DayCounts, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT q.status FROM events e LEFT JOIN queue_items q ON q.id = e.id
             WHERE e.site = ?1 AND e.kind = 'alarm' AND e.at >= ?2 AND e.at < ?3",
        )?;
        let mut rows = stmt.query(params![
            site.as_bytes().as_slice(),
            from.as_millisecond(),
            to.as_millisecond()
        ])?;
        let mut counts = DayCounts::default();
        while let Some(row) = rows.next()? {
            counts.alarms += 1;
            let status: Option<String> = row.get(0)?;
            let status: Option<Status> = status
                .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Encoding(e.to_string())))
                .transpose()?;
            match status {
                Some(Status::Handled {
                    shared_at: None, ..
                }) => counts.awaiting_review += 1,
                Some(Status::Handled { outcome, .. }) => {
                    match counts.handled.iter_mut().find(|(o, _)| *o == outcome) {
                        Some((_, n)) => *n += 1,
                        None => counts.handled.push((outcome, 1)),
                    }
                }
                Some(_) => counts.open += 1,
                None => {}
            }
        }
        Ok(counts)
    }

    /// Records one report e-mail.
    #[allow(clippy::too_many_arguments)]
    pub fn record_report(
        &mut self,
        site: SiteId,
        kind: &str,
        about: &str,
        recipient: &str,
        at: Timestamp,
        outcome: &str,
        attempts: u32,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO report_sends (site, kind, about, recipient, at, outcome, attempts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                site.as_bytes().as_slice(),
                kind,
                about,
                recipient,
                at.as_millisecond(),
                outcome,
                attempts
            ],
        )?;
        Ok(())
    }

    /// A site's report e-mails, newest first.
    pub fn report_sends(&self, site: SiteId, limit: u32) -> Result<Vec<ReportSend>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, about, recipient, at, outcome, attempts FROM report_sends
             WHERE site = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![site.as_bytes().as_slice(), limit], |r| {
            Ok(ReportSend {
                kind: r.get(0)?,
                about: r.get(1)?,
                recipient: r.get(2)?,
                at: r.get(3)?,
                outcome: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
