//! Clip and thumbnail metadata: declared by a unit for one of its alarm
//! events, complete once the file is verified and in place.

use jiff::Timestamp;
use picket_proto::ids::{CameraId, EventId, SiteId, UnitId};
use rusqlite::{OptionalExtension, Row, params};

use super::audit::{AuditEntry, one_row};
use super::{Store, StoreError, uuid_from};
use crate::clips::upload::ClipKind;

/// What a unit declares about a file it will upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipDeclaration {
    /// The file's id, made on the unit.
    pub id: uuid::Uuid,
    /// The alarm it shows.
    pub event: EventId,
    /// The camera.
    pub camera: CameraId,
    /// Clip or thumbnail.
    pub kind: ClipKind,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
    /// First frame (unit clock).
    pub started_at: Option<Timestamp>,
    /// Last frame (unit clock).
    pub ended_at: Option<Timestamp>,
}

/// A stored clip or thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipRow {
    /// What the unit declared.
    pub declared: ClipDeclaration,
    /// From.
    pub unit: UnitId,
    /// The event's site.
    pub site: Option<SiteId>,
    /// When it was declared (hub clock).
    pub declared_at: Timestamp,
    /// When it was complete and verified; `None` while uploading.
    pub completed_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, unit, event, site, camera, kind, size, sha256, started_at, ended_at, declared_at, completed_at";

fn ms(value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(value).map_err(|e| StoreError::Encoding(e.to_string()))
}

fn row(r: &Row<'_>) -> Result<ClipRow, StoreError> {
    let blob = |i: usize| -> Result<uuid::Uuid, StoreError> { uuid_from(&r.get::<_, Vec<u8>>(i)?) };
    let kind: String = r.get(5)?;
    let sha: Vec<u8> = r.get(7)?;
    let at = |i: usize| -> Result<Option<Timestamp>, StoreError> {
        r.get::<_, Option<i64>>(i)?.map(ms).transpose()
    };
    Ok(ClipRow {
        declared: ClipDeclaration {
            id: blob(0)?,
            event: EventId::from_uuid(blob(2)?),
            camera: CameraId::from_uuid(blob(4)?),
            kind: ClipKind::parse(&kind)
                .ok_or_else(|| StoreError::Encoding(format!("clip kind {kind:?}")))?,
            size: r.get::<_, i64>(6)? as u64,
            sha256: sha
                .try_into()
                .map_err(|_| StoreError::Encoding("clip sha256 length".into()))?,
            started_at: at(8)?,
            ended_at: at(9)?,
        },
        unit: UnitId::from_uuid(blob(1)?),
        site: r
            .get::<_, Option<Vec<u8>>>(3)?
            .map(|s| uuid_from(&s).map(SiteId::from_uuid))
            .transpose()?,
        declared_at: ms(r.get(10)?)?,
        completed_at: at(11)?,
    })
}

impl Store {
    /// The unit and site of an event and whether it is an alarm.
    pub fn event_origin(
        &self,
        event: EventId,
    ) -> Result<Option<(UnitId, Option<SiteId>, bool)>, StoreError> {
        let found: Option<(Vec<u8>, Option<Vec<u8>>, String)> = self
            .conn
            .query_row(
                "SELECT unit, site, kind FROM events WHERE id = ?1",
                params![event.as_bytes().as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        found
            .map(|(unit, site, kind)| {
                Ok((
                    UnitId::from_uuid(uuid_from(&unit)?),
                    site.map(|s| uuid_from(&s).map(SiteId::from_uuid))
                        .transpose()?,
                    kind == "alarm",
                ))
            })
            .transpose()
    }

    /// Records a declaration for `unit`'s event (the caller checked the
    /// event is the unit's). Declaring an id again with the same facts
    /// returns the stored row; different facts are a conflict.
    pub fn declare_clip(
        &mut self,
        unit: UnitId,
        site: Option<SiteId>,
        declared: &ClipDeclaration,
        now: Timestamp,
    ) -> Result<ClipRow, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM clips WHERE id = ?1"),
                params![declared.id.as_bytes().as_slice()],
                |r| Ok(row(r)),
            )
            .optional()?
            .transpose()?;
        let stored = match existing {
            Some(stored) if stored.unit == unit && &stored.declared == declared => stored,
            Some(_) => {
                return Err(StoreError::Conflict(format!(
                    "upload {} was declared before with other facts (unit, event, camera, size or hash); give a new file a new id",
                    declared.id
                )));
            }
            None => {
                tx.execute(
                    "INSERT INTO clips (id, unit, event, site, camera, kind, size, sha256,
                                        started_at, ended_at, declared_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        declared.id.as_bytes().as_slice(),
                        unit.as_bytes().as_slice(),
                        declared.event.as_bytes().as_slice(),
                        site.map(|s| s.as_bytes().to_vec()),
                        declared.camera.as_bytes().as_slice(),
                        declared.kind.as_str(),
                        declared.size as i64,
                        declared.sha256.as_slice(),
                        declared.started_at.map(|t| t.as_millisecond()),
                        declared.ended_at.map(|t| t.as_millisecond()),
                        now.as_millisecond()
                    ],
                )?;
                ClipRow {
                    declared: declared.clone(),
                    unit,
                    site,
                    declared_at: now,
                    completed_at: None,
                }
            }
        };
        tx.commit()?;
        Ok(stored)
    }

    /// One clip or thumbnail, complete or not.
    pub fn clip(&self, id: uuid::Uuid) -> Result<Option<ClipRow>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM clips WHERE id = ?1"),
                params![id.as_bytes().as_slice()],
                |r| Ok(row(r)),
            )
            .optional()?
            .transpose()
    }

    /// Marks an upload complete (its file is verified and in place).
    pub fn complete_clip(&mut self, id: uuid::Uuid, now: Timestamp) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE clips SET completed_at = COALESCE(completed_at, ?2) WHERE id = ?1",
            params![id.as_bytes().as_slice(), now.as_millisecond()],
        )?;
        Ok(())
    }

    /// An event's complete clips and thumbnails, by camera then kind.
    pub fn clips_of_event(&self, event: EventId) -> Result<Vec<ClipRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM clips WHERE event = ?1 AND completed_at IS NOT NULL
             ORDER BY camera, kind, started_at"
        ))?;
        let mut rows = stmt.query(params![event.as_bytes().as_slice()])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row(r)?);
        }
        Ok(out)
    }
}

/// A clip of an alarm that its unit could not keep (`clip_discarded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscardedClip {
    /// Its camera.
    pub camera: CameraId,
    /// Why, as the unit said.
    pub reason: String,
    /// When the unit gave up on it (unit clock).
    pub at: Timestamp,
}

impl Store {
    /// The clips of `alarm` (an event of `unit` at `since`) that the unit
    /// reported discarded: the hub will not get them.
    pub fn discarded_clips(
        &self,
        unit: UnitId,
        alarm: EventId,
        since: Timestamp,
    ) -> Result<Vec<DiscardedClip>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body FROM events INDEXED BY events_by_unit
             WHERE unit = ?1 AND at >= ?2 AND kind = 'clip_discarded' ORDER BY at",
        )?;
        let mut rows = stmt.query(params![unit.as_bytes().as_slice(), since.as_millisecond()])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let body: Vec<u8> = r.get(0)?;
            let event: picket_proto::message::Event = ciborium::from_reader(body.as_slice())
                .map_err(|e| StoreError::Encoding(format!("a stored event: {e}")))?;
            if let picket_proto::message::EventKind::ClipDiscarded {
                alarm: of,
                camera,
                reason,
            } = event.kind
                && of == alarm
            {
                out.push(DiscardedClip {
                    camera,
                    reason,
                    at: event.at,
                });
            }
        }
        Ok(out)
    }
}

/// Clips kept this long when their site is unknown.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

/// An upload declared but not finished after this long is abandoned.
pub const ABANDONED_AFTER_DAYS: i64 = 7;

impl Store {
    /// Sets how many days a site keeps its clips.
    pub fn set_clip_retention(
        &mut self,
        site: SiteId,
        days: u16,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let n = tx.execute(
                "UPDATE sites SET clip_retention_days = ?2 WHERE id = ?1",
                params![site.as_bytes().as_slice(), i64::from(days)],
            )?;
            one_row(n, || format!("site {site}"))
        })
    }

    /// How many days a site keeps its clips.
    pub fn clip_retention(&self, site: SiteId) -> Result<Option<u16>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT clip_retention_days FROM sites WHERE id = ?1",
                params![site.as_bytes().as_slice()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|d| d.clamp(0, i64::from(u16::MAX)) as u16))
    }

    /// Up to `limit` clips past their site's retention at `now` (complete
    /// ones by completion, abandoned uploads by declaration), oldest first.
    pub fn expired_clips(&self, now: Timestamp, limit: u32) -> Result<Vec<ClipRow>, StoreError> {
        let day = 86_400_000i64;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM clips c LEFT JOIN sites s ON s.id = c.site
             WHERE (c.completed_at IS NOT NULL
                    AND c.completed_at < ?1 - COALESCE(s.clip_retention_days, ?2) * ?4)
                OR (c.completed_at IS NULL AND c.declared_at < ?1 - ?3 * ?4)
             ORDER BY COALESCE(c.completed_at, c.declared_at) LIMIT ?5",
            COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let mut rows = stmt.query(params![
            now.as_millisecond(),
            DEFAULT_RETENTION_DAYS,
            ABANDONED_AFTER_DAYS,
            day,
            limit
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row(r)?);
        }
        Ok(out)
    }

    /// Forgets a clip whose file is gone.
    pub fn forget_clip(&mut self, id: uuid::Uuid) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM clips WHERE id = ?1",
            params![id.as_bytes().as_slice()],
        )?;
        Ok(())
    }
}
