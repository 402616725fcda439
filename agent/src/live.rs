//! Live view from the unit: when the hub asks (`live_view_start`), the
//! unit dials out to the hub's relay — no inbound connection to the unit —
//! and sends one camera's frames as media records (`picket_proto::media`)
//! in the body of one long HTTPS request, authenticated by its
//! certificate. The camera's recorder hands over its latest GOP first, so
//! the relay has a picture at once, then each frame as it arrives; a
//! stream that falls behind skips to the next keyframe. Nothing is
//! re-encoded. `live_view_stop` (or the hub closing) ends it.

use picket_proto::ids::StreamId;
use picket_proto::media::{self, MediaFrame};
use tokio::sync::mpsc;

use crate::upload::https::{HttpsError, HubHttps};
use crate::video::Frame;

/// Frames a live stream may hold before its camera skips to the next
/// keyframe (a few seconds of video at 30 fps).
pub const QUEUE_FRAMES: usize = 256;

/// The hub's path for a live upstream.
pub fn upstream_path(stream: StreamId) -> String {
    format!("/unit/v1/live/{stream}")
}

/// What one upstream did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Frames sent.
    pub frames: u64,
    /// Bytes of media records sent.
    pub bytes: u64,
}

/// Sends `frames` to the relay at `hub` as stream `stream` until the
/// channel closes (the stream was stopped) or the hub ends it.
pub async fn send(
    hub: &HubHttps,
    stream: StreamId,
    mut frames: mpsc::Receiver<Frame>,
) -> Result<Sent, HttpsError> {
    let (chunks_tx, chunks) = mpsc::channel::<Vec<u8>>(8);
    let encode = tokio::spawn(async move {
        let mut sent = Sent::default();
        while let Some(frame) = frames.recv().await {
            let mut record = Vec::with_capacity(frame.data().len() + 64);
            if let Err(e) = media::encode(&MediaFrame::from(&frame), &mut record) {
                tracing::warn!(%stream, error = %e, "a frame left out of the live stream");
                continue;
            }
            sent.frames += 1;
            sent.bytes += record.len() as u64;
            if chunks_tx.send(record).await.is_err() {
                break;
            }
        }
        sent
    });
    let answer = hub.stream(&upstream_path(stream), chunks).await;
    encode.abort();
    let sent = encode.await.unwrap_or_default();
    let answer = answer?;
    if answer.status != 200 {
        return Err(HttpsError::Answer(format!(
            "the relay ended live stream {stream} with {}: {}",
            answer.status, answer.body
        )));
    }
    Ok(sent)
}
