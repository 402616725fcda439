//! After an unclean stop (a power cut, a crash), before any camera is
//! recorded again: every clip left `writing` is completed from what is on
//! disk or discarded, and the clips directory is made to hold exactly the
//! files the index lists — the index and the files never disagree.
//!
//! For a clip left `writing`:
//! 1. its MP4 is in place → it was synced and renamed before the power
//!    went, only the index missed it: `ready`;
//! 2. else its journal ([`crate::video::journal`]) holds frames from a
//!    keyframe → they are muxed into the MP4 the recorder would have
//!    written had the alarm ended there: `ready`, a shorter clip;
//! 3. else → discarded, and the caller records a `clip_discarded` event so
//!    the hub knows not to wait for it.
//!
//! A thumbnail left `writing` is kept if its JPEG is in place, else
//! dropped (its clip still carries the pictures). A `ready` or `uploaded`
//! row whose file is gone is dropped (a `ready` one reported discarded).
//! Any other file — partial files, journals, files no row names — is
//! removed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use picket_proto::ids::{CameraId, EventId};

use super::delivery::clip_path;
use super::quota::ClipState;
use crate::store::{ClipRow, Store, StoreError};
use crate::video::journal::JournalReader;
use crate::video::mp4::ClipWriter;

/// A clip that could not be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discarded {
    /// Its id.
    pub id: uuid::Uuid,
    /// The alarm it was to show.
    pub alarm: EventId,
    /// Its camera.
    pub camera: CameraId,
    /// Why, in words.
    pub reason: String,
}

/// What recovery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Clips (and thumbnails) found complete or completed: now `ready`.
    pub completed: Vec<uuid::Uuid>,
    /// Clips that could not be kept (each deserves a `clip_discarded`
    /// event).
    pub discarded: Vec<Discarded>,
    /// Thumbnails dropped (no event: the clip carries the pictures).
    pub thumbnails_dropped: usize,
    /// Stray files removed.
    pub files_removed: usize,
}

/// The journal of clip `id` in `dir`.
pub fn journal_path(dir: &Path, id: uuid::Uuid) -> PathBuf {
    dir.join(format!("{}.frames", id.simple()))
}

/// Recovers the clips in `dir` indexed in `store`. Blocks (muxing, disk).
pub fn recover(store: &mut Store, dir: &Path) -> Result<Recovered, StoreError> {
    let mut done = Recovered::default();
    for row in store.clips_in(ClipState::Writing)? {
        let path = clip_path(dir, &row);
        if row.kind == "thumbnail" {
            if let Ok(meta) = std::fs::metadata(&path) {
                store.clip_ready(row.id, meta.len(), None, None)?;
                done.completed.push(row.id);
            } else {
                store.clip_forget(row.id)?;
                done.thumbnails_dropped += 1;
            }
            continue;
        }
        match complete(&row, &path, &journal_path(dir, row.id)) {
            Ok(c) => {
                tracing::info!(clip = %row.id, frames = c.frames, torn = c.torn, "a clip cut off by an unclean stop was completed");
                store.clip_ready(row.id, c.bytes, c.first, c.last)?;
                done.completed.push(row.id);
            }
            Err(reason) => {
                tracing::warn!(clip = %row.id, alarm = %row.event, reason, "a clip cut off by an unclean stop was discarded");
                let _ = std::fs::remove_file(&path);
                store.clip_forget(row.id)?;
                done.discarded.push(Discarded {
                    id: row.id,
                    alarm: row.event,
                    camera: row.camera,
                    reason,
                });
            }
        }
    }
    // Rows whose file is gone.
    let mut keep = HashSet::new();
    for row in store.clips()? {
        let path = clip_path(dir, &row);
        if path.is_file() {
            keep.insert(path);
            continue;
        }
        tracing::warn!(clip = %row.id, state = ?row.state, "a clip's file is missing; dropped from the index");
        store.clip_forget(row.id)?;
        if row.state == ClipState::Ready && row.kind == "clip" {
            done.discarded.push(Discarded {
                id: row.id,
                alarm: row.event,
                camera: row.camera,
                reason: "its file was missing from the unit's disk".into(),
            });
        }
    }
    // Files no row names.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() && !keep.contains(&path) {
                match std::fs::remove_file(&path) {
                    Ok(()) => done.files_removed += 1,
                    Err(e) => {
                        tracing::warn!(file = %path.display(), error = %e, "cannot remove a stray clip file")
                    }
                }
            }
        }
    }
    Ok(done)
}

struct Completed {
    bytes: u64,
    frames: u64,
    first: Option<jiff::Timestamp>,
    last: Option<jiff::Timestamp>,
    torn: bool,
}

/// Finishes one clip: its MP4 if in place, else from its journal.
fn complete(row: &ClipRow, path: &Path, journal: &Path) -> Result<Completed, String> {
    let mut first = None;
    let mut last = None;
    let reader = match JournalReader::open(journal) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::info!(clip = %row.id, error = %e, "no journal");
            None
        }
    };
    if let Ok(meta) = std::fs::metadata(path) {
        // Renamed into place, so synced and whole; the journal only tells
        // which instants it covers.
        if let Some(reader) = reader {
            for frame in reader {
                first.get_or_insert(frame.captured_at());
                last = Some(frame.captured_at());
            }
        }
        return Ok(Completed {
            bytes: meta.len(),
            frames: 0,
            first,
            last,
            torn: false,
        });
    }
    let Some(mut reader) = reader else {
        return Err("nothing of it was on disk after an unclean stop".into());
    };
    let mut writer: Option<ClipWriter> = None;
    for frame in reader.by_ref() {
        match writer.as_mut() {
            Some(w) => w.append(&frame).map_err(|e| e.to_string())?,
            None if frame.is_key() => {
                writer = Some(
                    ClipWriter::start(path, std::slice::from_ref(&frame))
                        .map_err(|e| e.to_string())?,
                );
                first = Some(frame.captured_at());
            }
            None => continue,
        }
        last = Some(frame.captured_at());
    }
    let torn = reader.torn();
    let Some(writer) = writer else {
        return Err("no complete frame from a keyframe was on disk after an unclean stop".into());
    };
    let clip = writer.finish().map_err(|e| e.to_string())?;
    Ok(Completed {
        bytes: clip.bytes,
        frames: clip.frames,
        first,
        last,
        torn,
    })
}
