//! One camera's recorder: its ingest feeds its clip plan; alarms open
//! clips; each clip's thumbnail (from its first keyframe) and its MP4 are
//! written to the clips directory and indexed — `writing` before the file,
//! `ready` once it is complete and synced — and `on_ready` is called so
//! delivery can start. Runs on its own thread (GStreamer calls block).

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use jiff::Timestamp;
use picket_proto::ids::{CameraId, EventId};

use crate::store::Store;
use crate::video::ingest::{Ingest, IngestConfig, IngestEvent};
use crate::video::mp4::ClipWriter;
use crate::video::{Action, ClipPlan};

/// An alarm every camera records around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmNotice {
    /// The alarm event (already in the outbox).
    pub event: EventId,
    /// Its instant (the unit's clock, like the frames').
    pub at: Timestamp,
}

/// A running recorder; dropping the sender side of its alarms (or the
/// handle) stops it.
#[derive(Debug)]
pub struct Recorder {
    alarms: std_mpsc::Sender<AlarmNotice>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    /// Records `camera` from `ingest` with `plan`, writing into `dir` and
    /// indexing in the store at `store_path`.
    pub fn spawn(
        camera: CameraId,
        ingest: IngestConfig,
        plan: ClipPlan,
        store_path: PathBuf,
        dir: PathBuf,
        on_ready: Box<dyn Fn() + Send>,
    ) -> std::io::Result<Recorder> {
        let (alarms, notices) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("recorder {camera}"))
            .spawn(move || {
                if let Err(e) = record(
                    camera,
                    ingest,
                    plan,
                    &store_path,
                    &dir,
                    &notices,
                    &*on_ready,
                ) {
                    tracing::error!(%camera, error = %e, "the camera's recorder stopped");
                }
            })?;
        Ok(Recorder {
            alarms,
            thread: Some(thread),
        })
    }

    /// Records around an alarm.
    pub fn alarm(&self, notice: AlarmNotice) {
        let _ = self.alarms.send(notice);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let (stop, _) = std_mpsc::channel();
        self.alarms = stop;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn new_id(at: Timestamp) -> uuid::Uuid {
    let mut random = [0u8; 10];
    let _ = getrandom::fill(&mut random);
    *EventId::v7(at, random).as_uuid()
}

/// A clip being written.
struct Open {
    id: uuid::Uuid,
    writer: ClipWriter,
    first_at: Timestamp,
    last_at: Timestamp,
}

fn record(
    camera: CameraId,
    ingest: IngestConfig,
    mut plan: ClipPlan,
    store_path: &std::path::Path,
    dir: &std::path::Path,
    notices: &std_mpsc::Receiver<AlarmNotice>,
    on_ready: &dyn Fn(),
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut store = Store::open(store_path).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| e.to_string())?;
    let (_ingest, mut events) = runtime
        .block_on(async { Ingest::start(ingest) })
        .map_err(|e| e.to_string())?;
    let mut open: Option<Open> = None;
    loop {
        loop {
            match notices.try_recv() {
                Ok(n) => plan.alarm(n.event, n.at),
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => return Ok(()),
            }
        }
        let event = runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(200), events.recv()).await
        });
        match event {
            Ok(Some(IngestEvent::Frame(frame))) => plan.frame(frame),
            Ok(Some(IngestEvent::Lost(reason))) => {
                tracing::warn!(%camera, reason, "camera lost");
                plan.camera_lost();
            }
            Ok(Some(IngestEvent::Restored)) => tracing::info!(%camera, "camera back"),
            Ok(None) => return Err("the ingest stopped".into()),
            Err(_) => {}
        }
        while let Some(action) = plan.poll_action() {
            match action {
                Action::Start(start) => {
                    let Some(first) = start.frames.first() else {
                        continue;
                    };
                    let now = Timestamp::now();
                    // The first picture goes ahead of the clip.
                    match crate::video::thumbnail::jpeg(first, 640, 80) {
                        Ok(jpeg) => {
                            let id = new_id(now);
                            let path = dir.join(format!("{}.jpg", id.simple()));
                            let written = store
                                .clip_begin(id, start.event, camera, "thumbnail", now)
                                .map_err(|e| e.to_string())
                                .and_then(|()| write_synced(&path, &jpeg))
                                .and_then(|()| {
                                    store
                                        .clip_ready(
                                            id,
                                            jpeg.len() as u64,
                                            Some(first.captured_at()),
                                            Some(first.captured_at()),
                                        )
                                        .map_err(|e| e.to_string())
                                });
                            match written {
                                Ok(()) => on_ready(),
                                Err(e) => {
                                    tracing::error!(%camera, error = %e, "cannot keep a thumbnail")
                                }
                            }
                        }
                        Err(e) => tracing::warn!(%camera, error = %e, "no thumbnail"),
                    }
                    let id = new_id(now);
                    let path = dir.join(format!("{}.mp4", id.simple()));
                    if let Err(e) = store.clip_begin(id, start.event, camera, "clip", now) {
                        tracing::error!(%camera, error = %e, "cannot index a clip; not recording it");
                        continue;
                    }
                    match ClipWriter::start(&path, &start.frames) {
                        Ok(writer) => {
                            open = Some(Open {
                                id,
                                writer,
                                first_at: first.captured_at(),
                                last_at: start
                                    .frames
                                    .last()
                                    .map(|f| f.captured_at())
                                    .unwrap_or(first.captured_at()),
                            });
                        }
                        Err(e) => {
                            tracing::error!(%camera, error = %e, "cannot start a clip");
                            let _ = store.clip_forget(id);
                        }
                    }
                }
                Action::Append(frame) => {
                    if let Some(o) = open.as_mut() {
                        o.last_at = frame.captured_at();
                        if let Err(e) = o.writer.append(&frame) {
                            tracing::error!(%camera, error = %e, "cannot append to a clip");
                        }
                    }
                }
                Action::Finish(reason) => {
                    if let Some(o) = open.take() {
                        match o.writer.finish() {
                            Ok(clip) => {
                                match store.clip_ready(
                                    o.id,
                                    clip.bytes,
                                    Some(o.first_at),
                                    Some(o.last_at),
                                ) {
                                    Ok(()) => on_ready(),
                                    Err(e) => {
                                        tracing::error!(%camera, error = %e, "cannot mark a clip ready")
                                    }
                                }
                                tracing::info!(%camera, clip = %o.id, ?reason, frames = clip.frames, bytes = clip.bytes, "clip written");
                            }
                            Err(e) => {
                                tracing::error!(%camera, error = %e, "a clip could not be finished; dropped");
                                let _ = store.clip_forget(o.id);
                            }
                        }
                    }
                }
                Action::NoVideo { event, .. } => {
                    tracing::warn!(%camera, %event, "no video for an alarm");
                }
            }
        }
    }
}

fn write_synced(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let partial = path.with_extension("partial");
    let mut file = std::fs::File::create(&partial).map_err(|e| e.to_string())?;
    file.write_all(bytes).map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    std::fs::rename(&partial, path).map_err(|e| e.to_string())
}
