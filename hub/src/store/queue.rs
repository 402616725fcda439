//! The monitoring centre's queue items: raised by ingest in the same
//! transaction as the event (so an acknowledged alarm is always queued),
//! changed by operators with their audit entry. The lifecycle rules are
//! `centre::queue`'s; this module only keeps items.

use jiff::Timestamp;
use picket_proto::ids::{EventId, SiteId, UnitId};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::audit::AuditEntry;
use super::{Store, StoreError, from_json, uuid_from};
use crate::centre::queue::{Item, ItemKind, Outcome, Status};
use picket_proto::relocation::RelocationState;

use super::sites::{bump_units, relocation_text};

/// Raises a queue item for a newly stored event, if it is an alarm or a
/// tamper from a unit that is placed on a site and active (a unit in
/// relocation raises nothing: its events are kept, the centre is not
/// called). Priority comes from the site's security level.
pub(super) fn raise(
    tx: &Transaction<'_>,
    event: EventId,
    kind: ItemKind,
    unit: UnitId,
    received_ms: i64,
) -> Result<(), StoreError> {
    let waiting =
        serde_json::to_string(&Status::Waiting).map_err(|e| StoreError::Encoding(e.to_string()))?;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO queue_items (id, kind, site, unit, priority, received_at, status)
         SELECT ?1, ?2, u.site, u.id,
                COALESCE(json_extract(s.level, '$.centre_priority'), 5), ?4, ?5
         FROM units u JOIN sites s ON s.id = u.site
         WHERE u.id = ?3 AND u.relocation = 'active'",
    )?
    .execute(params![
        event.as_bytes().as_slice(),
        kind_text(kind),
        unit.as_bytes().as_slice(),
        received_ms,
        waiting
    ])?;
    Ok(())
}

fn kind_text(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Alarm => "alarm",
        ItemKind::Tamper => "tamper",
        ItemKind::Offline => "offline",
        ItemKind::Activation => "activation",
    }
}

pub(super) fn kind_from(text: &str) -> Result<ItemKind, StoreError> {
    match text {
        "alarm" => Ok(ItemKind::Alarm),
        "tamper" => Ok(ItemKind::Tamper),
        "offline" => Ok(ItemKind::Offline),
        "activation" => Ok(ItemKind::Activation),
        other => Err(StoreError::Encoding(format!("queue item kind {other:?}"))),
    }
}

pub(super) const COLUMNS: &str =
    "id, kind, site, unit, priority, received_at, status, requested_position";

pub(super) fn item(row: &Row<'_>) -> Result<Item, StoreError> {
    let id = |i: usize| -> Result<uuid::Uuid, StoreError> { uuid_from(&row.get::<_, Vec<u8>>(i)?) };
    let kind: String = row.get(1)?;
    let status: String = row.get(6)?;
    let received: i64 = row.get(5)?;
    Ok(Item {
        id: EventId::from_uuid(id(0)?),
        kind: kind_from(&kind)?,
        site: SiteId::from_uuid(id(2)?),
        unit: UnitId::from_uuid(id(3)?),
        priority: row.get(4)?,
        received_at: Timestamp::from_millisecond(received)
            .map_err(|e| StoreError::Encoding(e.to_string()))?,
        status: serde_json::from_str(&status).map_err(|e| StoreError::Encoding(e.to_string()))?,
        requested_position: row
            .get::<_, Option<String>>(7)?
            .map(|p| from_json(&p))
            .transpose()?,
    })
}

impl Store {
    /// Every open (unhandled) item, most urgent first, then oldest.
    pub fn open_queue(&self) -> Result<Vec<Item>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM queue_items WHERE open = 1
             ORDER BY priority, received_at, id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut items = Vec::new();
        while let Some(row) = rows.next()? {
            items.push(item(row)?);
        }
        Ok(items)
    }

    /// A unit's latest activation request, open or decided.
    pub fn last_activation(&self, unit: UnitId) -> Result<Option<Item>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM queue_items WHERE unit = ?1 AND kind = 'activation'
             ORDER BY received_at DESC, id DESC LIMIT 1"
        ))?;
        let mut rows = stmt.query(params![unit.as_bytes().as_slice()])?;
        rows.next()?.map(item).transpose()
    }

    /// One item.
    pub fn queue_item(&self, id: EventId) -> Result<Option<Item>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM queue_items WHERE id = ?1"))?;
        let mut rows = stmt.query(params![id.as_bytes().as_slice()])?;
        rows.next()?.map(item).transpose()
    }

    /// Writes an item's new status (decided by `centre::queue`) with its
    /// audit entry, unless someone changed it since `before` was read: then
    /// a conflict, so two operators never both succeed.
    pub fn update_queue_item(
        &mut self,
        before: &Status,
        after: &Item,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| write_item(tx, before, after))
    }

    /// Writes a decided activation request (as [`Store::update_queue_item`])
    /// and applies it to the unit in the same transaction: activated, the
    /// unit is monitored again at the position the request gave; rejected,
    /// it goes back to relocating. The unit must still be waiting for
    /// activation.
    pub fn decide_activation(
        &mut self,
        before: &Status,
        after: &Item,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let activated = match &after.status {
            Status::Handled { outcome, .. } => *outcome == Outcome::Activated,
            _ => {
                return Err(StoreError::Conflict(
                    "an activation request is decided by handling it".into(),
                ));
            }
        };
        self.audited(audit, now, |tx| {
            write_item(tx, before, after)?;
            let unit = after.unit.as_bytes();
            let (to, position) = if activated {
                (RelocationState::Active, after.requested_position)
            } else {
                (RelocationState::Relocating, None)
            };
            let n = tx.execute(
                "UPDATE units SET relocation = ?2 WHERE id = ?1 AND relocation = 'activation_requested'",
                params![unit.as_slice(), relocation_text(to)],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "unit {} is no longer waiting for activation (moved meanwhile); reload the queue",
                    after.unit
                )));
            }
            if let Some(p) = position {
                tx.execute(
                    "UPDATE units SET latitude = ?2, longitude = ?3, position_at = ?4 WHERE id = ?1",
                    params![unit.as_slice(), p.latitude(), p.longitude(), now.as_millisecond()],
                )?;
            }
            bump_units(tx, &[after.unit])
        })
    }
}

/// Writes `after` over an item whose status is still `before`; a conflict
/// if someone changed it meanwhile.
fn write_item(tx: &Transaction<'_>, before: &Status, after: &Item) -> Result<(), StoreError> {
    let encode =
        |s: &Status| serde_json::to_string(s).map_err(|e| StoreError::Encoding(e.to_string()));
    let (before, status) = (encode(before)?, encode(&after.status)?);
    let changed = tx
        .prepare_cached(
            "UPDATE queue_items SET status = ?2, open = ?3 WHERE id = ?1 AND status = ?4",
        )?
        .execute(params![
            after.id.as_bytes().as_slice(),
            status,
            !after.is_handled(),
            before
        ])?;
    if changed == 0 {
        let exists = tx
            .query_row(
                "SELECT 1 FROM queue_items WHERE id = ?1",
                params![after.id.as_bytes().as_slice()],
                |_| Ok(()),
            )
            .optional()?;
        return Err(match exists {
            Some(()) => StoreError::Conflict(
                "the item changed meanwhile (another operator?); reload the queue".into(),
            ),
            None => StoreError::NotFound(format!("queue item {}", after.id)),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;

impl Store {
    /// Judges tamper spells at `now`: a spell that has lasted `debounce`
    /// (still open for that long since the hub received it, or restored
    /// after that long by the unit's clock) raises a `tamper` item, once,
    /// for an active unit on a site, with the spell's first tamper event as
    /// its id; shorter restored spells raise nothing. Restored spells are
    /// then closed. Returns how many items were raised.
    pub fn raise_tamper_items(
        &mut self,
        now: Timestamp,
        debounce: jiff::SignedDuration,
    ) -> Result<usize, StoreError> {
        let waiting = serde_json::to_string(&Status::Waiting)
            .map_err(|e| StoreError::Encoding(e.to_string()))?;
        let (now_ms, debounce_ms) = (now.as_millisecond(), debounce.as_millis() as i64);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let raised = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO queue_items (id, kind, site, unit, priority, received_at, status)
                 SELECT u.tamper_event, 'tamper', u.site, u.id,
                        COALESCE(json_extract(s.level, '$.centre_priority'), 5), ?1, ?2
                 FROM units u INDEXED BY units_tampered JOIN sites s ON s.id = u.site
                 WHERE u.tamper_since IS NOT NULL AND u.relocation = 'active'
                   AND CASE WHEN u.tamper_restored_at IS NULL
                            THEN ?1 - u.tamper_received >= ?3
                            ELSE u.tamper_restored_at - u.tamper_since >= ?3 END",
            )?
            .execute(params![now_ms, waiting, debounce_ms])?;
        tx.execute(
            "UPDATE units INDEXED BY units_tampered
             SET tamper_event = NULL, tamper_since = NULL, tamper_received = NULL,
                 tamper_restored_at = NULL
             WHERE tamper_since IS NOT NULL AND tamper_restored_at IS NOT NULL",
            [],
        )?;
        tx.commit()?;
        Ok(raised)
    }

    /// Raises an `offline` item for every active unit on a site that has
    /// been offline for at least `debounce`, once per offline spell (a blip
    /// shorter than `debounce` raises nothing; an item handled while the
    /// unit is still down is not raised again until it has been back). Offline items
    /// are one step less urgent than the site's alarms
    /// (`centre::queue::priority_for`). Returns how many were raised.
    pub fn raise_offline_items(
        &mut self,
        now: Timestamp,
        debounce: jiff::SignedDuration,
    ) -> Result<usize, StoreError> {
        let waiting = serde_json::to_string(&Status::Waiting)
            .map_err(|e| StoreError::Encoding(e.to_string()))?;
        let cutoff = now.as_millisecond() - debounce.as_millis() as i64;
        let raised = self
            .conn
            .prepare_cached(
                "INSERT INTO queue_items (id, kind, site, unit, priority, received_at, status)
             SELECT randomblob(16), 'offline', u.site, u.id,
                    MIN(COALESCE(json_extract(s.level, '$.centre_priority'), 5) + 1, 255), ?1, ?2
             FROM units u JOIN sites s ON s.id = u.site
             WHERE u.online = 0 AND u.status_since IS NOT NULL AND u.status_since <= ?3
               AND u.relocation = 'active'
               AND NOT EXISTS (SELECT 1 FROM queue_items q
                               WHERE q.unit = u.id AND q.kind = 'offline'
                                 AND (q.open = 1 OR q.received_at >= u.status_since))",
            )?
            .execute(params![now.as_millisecond(), waiting, cutoff])?;
        Ok(raised)
    }
}
