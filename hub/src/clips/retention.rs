//! Clip retention: every few minutes, clips past their site's retention
//! (and uploads abandoned for a week) are deleted — the file first, then
//! the row, so a crash in between leaves a row whose file is gone (deleted
//! again next round), never a file nobody knows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use picket_proto::clock::Clock;

use super::storage::ClipStore;
use crate::store::Store;

/// How often retention runs.
pub const EVERY: Duration = Duration::from_secs(600);
/// Clips deleted per round at most (the next round takes the rest).
pub const PER_ROUND: u32 = 1_000;

/// Runs `work` on the store off the runtime.
async fn with_store<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    work: impl FnOnce(&mut Store) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = store.lock().map_err(|_| "store lock poisoned".to_owned())?;
        work(&mut store)
    })
    .await
    .map_err(|e| e.to_string())?
}

/// One round: deletes what is due at `clock.now()`; returns how many.
pub async fn round(
    store: &Arc<Mutex<Store>>,
    files: &dyn ClipStore,
    clock: &dyn Clock,
) -> Result<usize, String> {
    let now = clock.now();
    let due = with_store(store, move |s| {
        s.expired_clips(now, PER_ROUND).map_err(|e| e.to_string())
    })
    .await?;
    let mut gone = Vec::new();
    for clip in due {
        let id = clip.declared.id;
        let removed = if clip.completed_at.is_some() {
            files.remove(id, clip.declared.kind).await
        } else {
            files.discard(id).await
        };
        match removed {
            Ok(()) => gone.push(id),
            Err(e) => tracing::error!(clip = %id, error = %e, "cannot delete an expired clip"),
        }
    }
    // Rows after files: a crash in between leaves rows whose files are
    // gone, and removing what is gone succeeds next round.
    with_store(store, move |s| {
        for id in &gone {
            s.forget_clip(*id).map_err(|e| e.to_string())?;
        }
        Ok(gone.len())
    })
    .await
}

/// Runs a round every [`EVERY`] until `stop`.
pub fn spawn(
    store: Store,
    files: Arc<dyn ClipStore>,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let store = Arc::new(Mutex::new(store));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            match round(&store, &*files, &*clock).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(clips = n, "expired clips deleted"),
                Err(e) => tracing::error!(error = %e, "clip retention round failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests;
