//! Reading alarms: alarm events with where they were raised and how the
//! centre handled them, filtered and paged newest first.

use jiff::Timestamp;
use picket_proto::ids::{EventId, SiteId, UnitId};
use picket_proto::message::Event;
use rusqlite::params;

use super::{Store, StoreError, uuid_from};
use crate::centre::queue::{Item, Status};

/// Up to this many sites, an alarm list reads those sites' alarms by site;
/// beyond, it walks all alarms newest first.
const FEW_SITES: usize = 64;

/// Which alarms to read. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct AlarmFilter {
    /// Only these sites (`None`: every site, for operator staff).
    pub sites: Option<Vec<SiteId>>,
    /// Only this unit.
    pub unit: Option<UnitId>,
    /// Raised at or after (unit clock).
    pub from: Option<Timestamp>,
    /// Raised before.
    pub to: Option<Timestamp>,
    /// Centre state: `waiting`, `claimed`, `acknowledged`, `handled`, or
    /// `none` (never queued: a unit in relocation or without a site).
    pub status: Option<String>,
    /// Handled with this outcome (`false_alarm`, ...).
    pub outcome: Option<String>,
    /// Older than this alarm (paging: the last id of the previous page).
    pub before: Option<(Timestamp, EventId)>,
    /// Only this alarm.
    pub id: Option<EventId>,
    /// At most this many.
    pub limit: u32,
}

/// One alarm as stored.
#[derive(Debug, Clone)]
pub struct AlarmRow {
    /// The event.
    pub event: Event,
    /// From.
    pub unit: UnitId,
    /// Where: the site its unit was on when it arrived (`None`: on no
    /// site).
    pub site: Option<SiteId>,
    /// When the hub committed it.
    pub received_at: Timestamp,
    /// The centre's queue item, if it was queued.
    pub item: Option<Item>,
}

fn ms(value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(value).map_err(|e| StoreError::Encoding(e.to_string()))
}

impl Store {
    /// Alarms matching `filter`, newest first (by the unit's clock).
    pub fn alarms(&self, filter: &AlarmFilter) -> Result<Vec<AlarmRow>, StoreError> {
        let sites = filter.sites.as_ref().map(|sites| {
            let hex: Vec<String> = sites.iter().map(|s| s.to_string()).collect();
            serde_json::Value::from(hex).to_string()
        });
        let (before_at, before_id) = match filter.before {
            Some((at, id)) => (Some(at.as_millisecond()), Some(id.as_bytes().to_vec())),
            None => (None, None),
        };
        // Three plans, each forced: left to itself, SQLite's planner took
        // `alarms_by_site` for 990 sites and sorted them all (56 ms instead
        // of 3). One unit: its events newest first through
        // `events_by_unit`. A few sites: read only those sites' alarms
        // through `alarms_by_site` and sort them (walking every alarm in
        // the store newest first and filtering took 65 ms for one site
        // among 20,000 alarms, growing with the store). Many sites (an
        // operator sees them all): walk `alarms_by_at` newest first and
        // filter, as the matches are dense (reading and sorting every alarm
        // of 990 sites took 89 ms). Operations bench, parts a1-a3.
        let in_sites = "e.site IN (SELECT unhex(value) FROM json_each(?1))";
        let (index, site_filter) = match (&filter.sites, filter.unit) {
            (sites, Some(_)) => (
                "INDEXED BY events_by_unit",
                if sites.is_some() {
                    in_sites
                } else {
                    "?1 IS NULL"
                },
            ),
            (Some(list), None) if list.len() <= FEW_SITES => {
                ("INDEXED BY alarms_by_site", in_sites)
            }
            (Some(_), None) => ("INDEXED BY alarms_by_at", in_sites),
            (None, None) => ("INDEXED BY alarms_by_at", "?1 IS NULL"),
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT e.id, e.unit, e.site, e.received_at, e.body,
                    q.kind, q.priority, q.received_at, q.status
             FROM events e {index}
             LEFT JOIN queue_items q ON q.id = e.id
             WHERE e.kind = 'alarm'
               AND {site_filter}
               AND (?2 IS NULL OR e.unit = ?2)
               AND (?3 IS NULL OR e.at >= ?3)
               AND (?4 IS NULL OR e.at < ?4)
               AND (?5 IS NULL OR CASE ?5
                   WHEN 'awaiting_review' THEN json_extract(q.status, '$.state') = 'handled'
                        AND json_extract(q.status, '$.shared_at') IS NULL
                   ELSE COALESCE(json_extract(q.status, '$.state'), 'none') = ?5 END)
               AND (?6 IS NULL OR json_extract(q.status, '$.outcome') = ?6)
               AND (?7 IS NULL OR e.at < ?7 OR (e.at = ?7 AND e.id < ?8))
               AND (?10 IS NULL OR e.id = ?10)
             ORDER BY e.at DESC, e.id DESC
             LIMIT ?9"
        ))?;
        let mut rows = stmt.query(params![
            sites,
            filter.unit.map(|u| u.as_bytes().to_vec()),
            filter.from.map(|t| t.as_millisecond()),
            filter.to.map(|t| t.as_millisecond()),
            filter.status,
            filter.outcome,
            before_at,
            before_id,
            filter.limit,
            filter.id.map(|id| id.as_bytes().to_vec())
        ])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id = EventId::from_uuid(uuid_from(&row.get::<_, Vec<u8>>(0)?)?);
            let unit = UnitId::from_uuid(uuid_from(&row.get::<_, Vec<u8>>(1)?)?);
            let site = row
                .get::<_, Option<Vec<u8>>>(2)?
                .map(|b| uuid_from(&b).map(SiteId::from_uuid))
                .transpose()?;
            let body: Vec<u8> = row.get(4)?;
            let event: Event = ciborium::from_reader(body.as_slice())
                .map_err(|e| StoreError::Encoding(e.to_string()))?;
            let item = match (row.get::<_, Option<String>>(5)?, site) {
                (Some(kind), Some(site)) => {
                    let status: String = row.get(8)?;
                    let status: Status = serde_json::from_str(&status)
                        .map_err(|e| StoreError::Encoding(e.to_string()))?;
                    Some(Item {
                        id,
                        kind: super::queue::kind_from(&kind)?,
                        site,
                        unit,
                        priority: row.get(6)?,
                        received_at: ms(row.get(7)?)?,
                        status,
                        requested_position: None,
                    })
                }
                _ => None,
            };
            out.push(AlarmRow {
                event,
                unit,
                site,
                received_at: ms(row.get(3)?)?,
                item,
            });
        }
        Ok(out)
    }

    /// One alarm, if it also matches the rest of `filter` (sites, say).
    pub fn alarm(&self, id: EventId, filter: &AlarmFilter) -> Result<Option<AlarmRow>, StoreError> {
        let one = AlarmFilter {
            id: Some(id),
            before: None,
            limit: 1,
            ..filter.clone()
        };
        Ok(self.alarms(&one)?.pop())
    }

    /// Queue items received in `[from, to)` on `sites` (`None`: all), for
    /// response and handling times.
    pub fn queue_items_between(
        &self,
        sites: Option<&[SiteId]>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Item>, StoreError> {
        let sites = sites.map(|sites| {
            let hex: Vec<String> = sites.iter().map(|s| s.to_string()).collect();
            serde_json::Value::from(hex).to_string()
        });
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM queue_items
             WHERE received_at >= ?1 AND received_at < ?2
               AND (?3 IS NULL OR site IN (SELECT unhex(value) FROM json_each(?3)))",
            super::queue::COLUMNS
        ))?;
        let mut rows = stmt.query(params![from.as_millisecond(), to.as_millisecond(), sites])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(super::queue::item(row)?);
        }
        Ok(out)
    }
}

/// A unit's connection history over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusHistory {
    /// Online at the start of the period (`None`: no change recorded before).
    pub at_start: Option<bool>,
    /// Changes inside the period, in order.
    pub changes: Vec<(Timestamp, bool)>,
}

impl Store {
    /// Alarm delivery delays (unit event time → hub commit) of alarms raised
    /// in `[from, to)`, per unit.
    pub fn alarm_delays(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(UnitId, jiff::SignedDuration)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT unit, received_at - at FROM events
             WHERE kind = 'alarm' AND at >= ?1 AND at < ?2",
        )?;
        let mut rows = stmt.query(params![from.as_millisecond(), to.as_millisecond()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let unit = UnitId::from_uuid(uuid_from(&row.get::<_, Vec<u8>>(0)?)?);
            out.push((unit, jiff::SignedDuration::from_millis(row.get(1)?)));
        }
        Ok(out)
    }

    /// Every unit's online/offline history over `[from, to)`.
    pub fn status_history(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<std::collections::HashMap<UnitId, StatusHistory>, StoreError> {
        let mut out: std::collections::HashMap<UnitId, StatusHistory> =
            std::collections::HashMap::new();
        let unit_of = |bytes: Vec<u8>| -> Result<UnitId, StoreError> {
            Ok(UnitId::from_uuid(uuid_from(&bytes)?))
        };
        let mut start = self.conn.prepare_cached(
            "SELECT l.unit, l.online FROM unit_status_log l
             WHERE l.at = (SELECT MAX(at) FROM unit_status_log WHERE unit = l.unit AND at < ?1)",
        )?;
        let mut rows = start.query(params![from.as_millisecond()])?;
        while let Some(row) = rows.next()? {
            out.entry(unit_of(row.get(0)?)?).or_default().at_start = Some(row.get(1)?);
        }
        let mut changes = self.conn.prepare_cached(
            "SELECT unit, at, online FROM unit_status_log
             WHERE at >= ?1 AND at < ?2 ORDER BY unit, at, rowid",
        )?;
        let mut rows = changes.query(params![from.as_millisecond(), to.as_millisecond()])?;
        while let Some(row) = rows.next()? {
            let at = ms(row.get(1)?)?;
            out.entry(unit_of(row.get(0)?)?)
                .or_default()
                .changes
                .push((at, row.get(2)?));
        }
        Ok(out)
    }
}
