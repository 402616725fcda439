//! Clip retention: every few minutes, clips past their site's retention
//! (and uploads abandoned for a week) are deleted — the file first, then
//! the row, so a crash in between leaves a row whose file is gone (deleted
//! again next round), never a file nobody knows.

use std::sync::Arc;
use std::time::Duration;

use picket_proto::clock::Clock;

use super::files::ClipFiles;
use super::upload::ClipKind;
use crate::store::Store;

/// How often retention runs.
pub const EVERY: Duration = Duration::from_secs(600);
/// Clips deleted per round at most (the next round takes the rest).
pub const PER_ROUND: u32 = 1_000;

/// One round: deletes what is due at `clock.now()`; returns how many.
pub fn round(store: &mut Store, files: &ClipFiles, clock: &dyn Clock) -> Result<usize, String> {
    let due = store
        .expired_clips(clock.now(), PER_ROUND)
        .map_err(|e| e.to_string())?;
    let mut deleted = 0;
    for clip in due {
        let id = clip.declared.id;
        let removed = if clip.completed_at.is_some() {
            files.remove(
                id,
                match clip.declared.kind {
                    ClipKind::Clip => "mp4",
                    ClipKind::Thumbnail => "jpg",
                },
            )
        } else {
            files.discard(id)
        };
        match removed {
            Ok(()) => {
                store.forget_clip(id).map_err(|e| e.to_string())?;
                deleted += 1;
            }
            Err(e) => tracing::error!(clip = %id, error = %e, "cannot delete an expired clip"),
        }
    }
    Ok(deleted)
}

/// Runs rounds on a blocking thread until `stop`.
pub fn spawn(
    mut store: Store,
    files: ClipFiles,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let (files, clock) = (files.clone(), clock.clone());
            let outcome = tokio::task::spawn_blocking(move || {
                let result = round(&mut store, &files, &*clock);
                (store, result)
            })
            .await;
            match outcome {
                Ok((back, result)) => {
                    store = back;
                    match result {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(clips = n, "expired clips deleted"),
                        Err(e) => tracing::error!(error = %e, "clip retention round failed"),
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "clip retention stopped");
                    return;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests;
