//! Delivering the unit's clips: each round uploads the `ready` clips in
//! the index (thumbnails first, oldest first) with the resumable uploader,
//! marks those the hub confirmed `uploaded`, then applies the disk quota
//! (only uploaded clips are deleted). A clip for an alarm the hub does not
//! know yet (404: its event is still on its way over MQTT) waits for the
//! next round; a clip the hub refuses for good is kept and not retried for
//! an hour (the unit's log says why).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use picket_proto::clock::Clock;

use super::quota::{ClipOnDisk, ClipState, enforce};
use crate::store::{ClipRow, Store, StoreError};
use crate::upload::https::HubHttps;
use crate::upload::pace::Budget;
use crate::upload::resumable::{Declaration, Delivery, Outcome, upload_with_retries};

/// A clip the hub refused for good is tried again after this long.
pub const REFUSED_RETRY: SignedDuration = SignedDuration::from_hours(1);

/// Where a clip's file is.
pub fn clip_path(dir: &Path, clip: &ClipRow) -> PathBuf {
    let ext = if clip.kind == "thumbnail" {
        "jpg"
    } else {
        "mp4"
    };
    dir.join(format!("{}.{ext}", clip.id.simple()))
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Confirmed by the hub this round.
    pub uploaded: usize,
    /// Left for a later round (link down, hub busy, alarm not yet known).
    pub later: usize,
    /// Refused by the hub for good (kept; retried after an hour).
    pub refused: usize,
    /// Uploaded clips deleted for the quota.
    pub deleted: usize,
    /// Bytes over the quota that only clips the hub lacks hold (a health
    /// warning).
    pub over_quota_by: u64,
    /// Clips and thumbnails not yet confirmed by the hub, after the round.
    pub pending: usize,
}

/// The delivery loop's state.
#[derive(Debug)]
pub struct Deliverer {
    store: Store,
    dir: PathBuf,
    hub: HubHttps,
    budget: Budget,
    quota_bytes: u64,
    refused_until: HashMap<uuid::Uuid, Timestamp>,
}

impl Deliverer {
    /// Over its own connection to the unit's store, the clips directory,
    /// the hub's units' HTTPS, an upload byte budget and a disk quota.
    pub fn new(
        store: Store,
        dir: PathBuf,
        hub: HubHttps,
        budget: Budget,
        quota_bytes: u64,
    ) -> Self {
        Deliverer {
            store,
            dir,
            hub,
            budget,
            quota_bytes,
            refused_until: HashMap::new(),
        }
    }

    /// One round at `clock.now()`.
    pub async fn round(&mut self, clock: &dyn Clock) -> Result<Round, StoreError> {
        let mut round = Round::default();
        for clip in self.store.clips_in(ClipState::Ready)? {
            let now = clock.now();
            if self
                .refused_until
                .get(&clip.id)
                .is_some_and(|until| now < *until)
            {
                continue;
            }
            let path = clip_path(&self.dir, &clip);
            let declared = Declaration {
                id: clip.id,
                event: clip.event,
                camera: clip.camera,
                kind: if clip.kind == "thumbnail" {
                    "thumbnail"
                } else {
                    "clip"
                },
                started_at: clip.started_at,
                ended_at: clip.ended_at,
            };
            match upload_with_retries(&self.hub, &path, &declared, &mut self.budget, clock).await {
                Delivery::Done(Outcome::Complete) => {
                    self.store.clip_uploaded(clip.id, clock.now())?;
                    round.uploaded += 1;
                }
                Delivery::Done(Outcome::Refused { status: 404, .. }) => round.later += 1,
                Delivery::Done(Outcome::Refused { status, reason }) => {
                    tracing::warn!(clip = %clip.id, status, reason, "the hub refused a clip; kept, retried in an hour");
                    self.refused_until.insert(clip.id, now + REFUSED_RETRY);
                    round.refused += 1;
                }
                Delivery::Later(why) => {
                    tracing::info!(clip = %clip.id, why, "clip upload left for a later round");
                    round.later += 1;
                    // The link is down: the other clips would fail too.
                    break;
                }
            }
        }
        let clips = self.store.clips()?;
        let on_disk: Vec<ClipOnDisk> = clips
            .iter()
            .map(|c| ClipOnDisk {
                id: c.id,
                state: c.state,
                bytes: c.bytes,
                created_ms: c.created_at.as_millisecond(),
            })
            .collect();
        let verdict = enforce(&on_disk, self.quota_bytes);
        let by_id: HashMap<uuid::Uuid, &ClipRow> = clips.iter().map(|c| (c.id, c)).collect();
        for id in verdict.delete {
            let Some(clip) = by_id.get(&id) else {
                continue;
            };
            match std::fs::remove_file(clip_path(&self.dir, clip)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::error!(clip = %id, error = %e, "cannot delete an uploaded clip for the quota");
                    continue;
                }
            }
            self.store.clip_forget(id)?;
            round.deleted += 1;
        }
        round.over_quota_by = verdict.over_by;
        round.pending = clips
            .iter()
            .filter(|c| c.state != ClipState::Uploaded)
            .count();
        if round.over_quota_by > 0 {
            tracing::warn!(
                bytes = round.over_quota_by,
                "clip quota exceeded by clips the hub does not have yet"
            );
        }
        Ok(round)
    }
}
