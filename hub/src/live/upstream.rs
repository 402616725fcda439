//! Where units' live video comes in: `POST /unit/v1/live/{stream}` on the
//! units' HTTPS listener (mutual TLS: the unit is its certificate), its
//! body one media record after another (`picket_proto::media`) for as long
//! as the stream runs.
//!
//! The hub first *expects* a stream ([`Upstreams::expect`]: it asked that
//! unit for that camera, with a fresh stream id, over MQTT) and gets the
//! frames from the returned receiver. An upload for a stream not expected,
//! or from another unit than the one asked, is refused before a byte of
//! video is read; a record that is corrupt, oversize or malformed ends the
//! stream with a 400 naming the problem. Each refusal is logged. When the
//! hub drops the receiver (nobody watches any more), the upload ends with
//! 200 and the unit stops sending.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use picket_proto::ids::{CameraId, StreamId, UnitId};
use picket_proto::media::{self, MediaFrame};
use tokio::sync::mpsc;

use crate::clips::listener::UnitPeer;

/// Frames a stream holds between the unit's connection and the relay.
pub const QUEUE_FRAMES: usize = 64;

/// An expected upstream.
#[derive(Debug)]
struct Expected {
    unit: UnitId,
    camera: CameraId,
    frames: mpsc::Sender<MediaFrame>,
}

/// The upstreams the hub asked units for.
#[derive(Debug, Clone, Default)]
pub struct Upstreams {
    expected: Arc<Mutex<HashMap<StreamId, Expected>>>,
}

impl Upstreams {
    /// Expects `unit` to send `camera` as `stream`; its frames come out of
    /// the receiver (dropping it ends the upstream).
    pub fn expect(
        &self,
        stream: StreamId,
        unit: UnitId,
        camera: CameraId,
    ) -> mpsc::Receiver<MediaFrame> {
        let (frames, receiver) = mpsc::channel(QUEUE_FRAMES);
        self.lock().insert(
            stream,
            Expected {
                unit,
                camera,
                frames,
            },
        );
        receiver
    }

    /// No longer expects `stream` (an upload already running ends when
    /// its receiver is dropped).
    pub fn forget(&self, stream: StreamId) {
        self.lock().remove(&stream);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StreamId, Expected>> {
        self.expected
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The units' live routes.
pub fn router(upstreams: Upstreams) -> Router {
    Router::new()
        .route("/unit/v1/live/{stream}", post(upload))
        .with_state(upstreams)
}

fn refuse(peer: &UnitPeer, status: StatusCode, why: String) -> (StatusCode, String) {
    tracing::warn!(unit = %peer.unit, addr = %peer.addr, %why, "live upstream refused");
    (status, why)
}

async fn upload(
    State(upstreams): State<Upstreams>,
    ConnectInfo(peer): ConnectInfo<UnitPeer>,
    Path(stream): Path<String>,
    body: Body,
) -> (StatusCode, String) {
    let Ok(stream) = stream.parse::<StreamId>() else {
        return refuse(
            &peer,
            StatusCode::BAD_REQUEST,
            format!("{stream:?} is not a stream id"),
        );
    };
    let frames = {
        let mut expected = upstreams.lock();
        match expected.get(&stream) {
            None => {
                drop(expected);
                return refuse(
                    &peer,
                    StatusCode::NOT_FOUND,
                    format!("stream {stream} was not asked for (or has ended)"),
                );
            }
            Some(e) if e.unit != peer.unit => {
                let owner = e.unit;
                drop(expected);
                return refuse(
                    &peer,
                    StatusCode::FORBIDDEN,
                    format!("stream {stream} was asked of unit {owner}, not of this unit"),
                );
            }
            Some(_) => {}
        }
        match expected.remove(&stream) {
            Some(e) => {
                tracing::info!(unit = %peer.unit, camera = %e.camera, %stream, "live upstream connected");
                e.frames
            }
            None => return (StatusCode::NOT_FOUND, "gone".into()),
        }
    };
    let mut body = body;
    let mut buffer: Vec<u8> = Vec::new();
    let mut received = 0u64;
    loop {
        // Whole records first.
        loop {
            match media::decode(&buffer) {
                Ok(Some((frame, used))) => {
                    buffer.drain(..used);
                    received += 1;
                    if frames.send(frame).await.is_err() {
                        tracing::info!(unit = %peer.unit, %stream, received, "live upstream ended by the hub");
                        return (StatusCode::OK, "the hub ended the stream".into());
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    return refuse(
                        &peer,
                        StatusCode::BAD_REQUEST,
                        format!("stream {stream}, after {received} frames: {e}"),
                    );
                }
            }
        }
        match next_chunk(&mut body).await {
            Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
            Some(Err(e)) => {
                tracing::info!(unit = %peer.unit, %stream, received, error = %e, "live upstream cut");
                return (StatusCode::BAD_REQUEST, format!("the stream broke: {e}"));
            }
            None if buffer.is_empty() => {
                tracing::info!(unit = %peer.unit, %stream, received, "live upstream ended by the unit");
                return (StatusCode::OK, format!("{received} frames"));
            }
            None => {
                return refuse(
                    &peer,
                    StatusCode::BAD_REQUEST,
                    format!(
                        "stream {stream} ended inside a record ({} bytes left over)",
                        buffer.len()
                    ),
                );
            }
        }
    }
}

/// The body's next chunk of data (trailers skipped).
async fn next_chunk(body: &mut Body) -> Option<Result<axum::body::Bytes, axum::Error>> {
    use http_body::Body as _;
    loop {
        let frame =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
            }
            Err(e) => return Some(Err(e)),
        }
    }
}
