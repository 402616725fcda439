//! One camera's recorder: its ingest feeds its clip plan; alarms open
//! clips; each clip's thumbnail (from its first keyframe) and its MP4 are
//! written to the clips directory and indexed — `writing` before the file,
//! `ready` once it is complete and synced — and `on_ready` is called so
//! delivery can start. Runs on its own thread (GStreamer calls block).
//!
//! While a clip is written its frames also go to its journal
//! (`<id>.frames`, synced at each keyframe), removed once the MP4 is in
//! place: after a power cut, [`super::recovery`] completes the clip from
//! it. The camera's state (streaming at its first frame, lost, streaming
//! again) goes out as [`ClipNews`] for the core's events and health.

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use jiff::Timestamp;
use picket_proto::ids::{CameraId, EventId, StreamId};

use picket_proto::message::CameraStatus;
use tokio::sync::mpsc::UnboundedSender;

use super::ClipNews;
use super::recovery::journal_path;
use crate::store::Store;
use crate::video::ingest::{Ingest, IngestConfig, IngestEvent};
use crate::video::journal::JournalWriter;
use crate::video::mp4::ClipWriter;
use crate::video::{Action, ClipPlan, ClipRules, RingLimits};
use picket_proto::message::ClipSettings;

/// An alarm every camera records around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmNotice {
    /// The alarm event (already in the outbox).
    pub event: EventId,
    /// Its instant (the unit's clock, like the frames').
    pub at: Timestamp,
}

/// What a recorder is told.
#[derive(Debug)]
enum Input {
    Alarm(AlarmNotice),
    Settings(ClipRules, RingLimits),
    /// Send this camera's frames to a live stream, from its latest GOP.
    Live(StreamId, tokio::sync::mpsc::Sender<crate::video::Frame>),
    /// Stop sending them.
    EndLive(StreamId),
}

/// One live stream fed by a recorder.
struct Tap {
    stream: StreamId,
    frames: tokio::sync::mpsc::Sender<crate::video::Frame>,
    /// A frame was dropped (the stream fell behind): wait for a keyframe.
    waiting_for_key: bool,
}

impl Tap {
    /// Offers `frame`; false once the stream has gone.
    fn offer(&mut self, frame: &crate::video::Frame) -> bool {
        use tokio::sync::mpsc::error::TrySendError;
        if self.waiting_for_key && !frame.is_key() {
            return true;
        }
        match self.frames.try_send(frame.clone()) {
            Ok(()) => {
                self.waiting_for_key = false;
                true
            }
            Err(TrySendError::Full(_)) => {
                self.waiting_for_key = true;
                true
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }
}

/// The clip rules and the camera's ring limits for `settings` (the ring's
/// byte bound is for a camera of up to 8 Mbit/s).
pub fn plan_limits(settings: ClipSettings) -> Result<(ClipRules, RingLimits), String> {
    let rules = ClipRules::from_settings(settings).map_err(|e| e.to_string())?;
    let limits = RingLimits::for_bitrate(
        jiff::SignedDuration::from_secs(i64::from(settings.pre_roll_s)),
        8_000_000,
    )
    .map_err(|e| e.to_string())?;
    Ok((rules, limits))
}

/// A running recorder; dropping the sender side of its alarms (or the
/// handle) stops it.
#[derive(Debug)]
pub struct Recorder {
    alarms: std_mpsc::Sender<Input>,
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
        let (news, _) = tokio::sync::mpsc::unbounded_channel();
        Recorder::spawn_reporting(camera, ingest, plan, store_path, dir, on_ready, news)
    }

    /// [`Recorder::spawn`], telling `news` of the camera's state.
    pub fn spawn_reporting(
        camera: CameraId,
        ingest: IngestConfig,
        plan: ClipPlan,
        store_path: PathBuf,
        dir: PathBuf,
        on_ready: Box<dyn Fn() + Send>,
        news: UnboundedSender<ClipNews>,
    ) -> std::io::Result<Recorder> {
        let (alarms, notices) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("recorder {camera}"))
            .spawn(move || {
                let camera_files = CameraFiles {
                    camera,
                    store_path: &store_path,
                    dir: &dir,
                };
                if let Err(e) = record(camera_files, ingest, plan, &notices, &*on_ready, &news) {
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
        let _ = self.alarms.send(Input::Alarm(notice));
    }

    /// Sends the camera's frames to `frames` — first its latest GOP (so the
    /// stream starts with a keyframe at once), then each frame as it comes;
    /// a stream that falls behind skips to the next keyframe. Ends when
    /// `frames` closes or [`Recorder::end_live`].
    pub fn live(&self, stream: StreamId, frames: tokio::sync::mpsc::Sender<crate::video::Frame>) {
        let _ = self.alarms.send(Input::Live(stream, frames));
    }

    /// Stops sending to `stream`.
    pub fn end_live(&self, stream: StreamId) {
        let _ = self.alarms.send(Input::EndLive(stream));
    }

    /// New clip settings, from the next alarm on (refused with a log line
    /// if they cannot work; the old ones stay).
    pub fn settings(&self, settings: ClipSettings) {
        match plan_limits(settings) {
            Ok((rules, limits)) => {
                let _ = self.alarms.send(Input::Settings(rules, limits));
            }
            Err(e) => tracing::error!(error = %e, "clip settings refused"),
        }
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
    /// The alarm that opened it.
    event: EventId,
    writer: ClipWriter,
    /// The frames again, for recovery after a power cut (none if it could
    /// not be created: the clip is still written).
    journal: Option<JournalWriter>,
    first_at: Timestamp,
    last_at: Timestamp,
}

/// Which camera a recorder records, and where its clips go.
struct CameraFiles<'a> {
    camera: CameraId,
    store_path: &'a std::path::Path,
    dir: &'a std::path::Path,
}

fn record(
    files: CameraFiles<'_>,
    ingest: IngestConfig,
    mut plan: ClipPlan,
    notices: &std_mpsc::Receiver<Input>,
    on_ready: &dyn Fn(),
    news: &UnboundedSender<ClipNews>,
) -> Result<(), String> {
    let CameraFiles {
        camera,
        store_path,
        dir,
    } = files;
    let status = |status| {
        let _ = news.send(ClipNews::Camera { camera, status });
    };
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
    let mut streaming = false;
    let mut taps: Vec<Tap> = Vec::new();
    loop {
        loop {
            match notices.try_recv() {
                Ok(Input::Alarm(n)) => plan.alarm(n.event, n.at),
                Ok(Input::Settings(rules, limits)) => match plan.set_rules(rules, limits) {
                    Ok(()) => tracing::info!(%camera, ?rules, "clip settings applied"),
                    Err(e) => tracing::error!(%camera, error = %e, "clip settings refused"),
                },
                Ok(Input::Live(stream, frames)) => {
                    let mut tap = Tap {
                        stream,
                        frames,
                        waiting_for_key: false,
                    };
                    let gop: Vec<_> = plan.ring().latest_gop().cloned().collect();
                    tap.waiting_for_key = gop.is_empty();
                    if gop.iter().all(|f| tap.offer(f)) {
                        tracing::info!(%camera, %stream, frames = gop.len(), "live stream starts");
                        taps.push(tap);
                    }
                }
                Ok(Input::EndLive(stream)) => taps.retain(|t| t.stream != stream),
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => {
                    // Stopping: a clip being written ends here, whole.
                    if let Some(o) = open.take() {
                        finish(o, &mut store, camera, on_ready, news);
                    }
                    return Ok(());
                }
            }
        }
        let event = runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(200), events.recv()).await
        });
        match event {
            Ok(Some(IngestEvent::Frame(frame))) => {
                if !streaming {
                    streaming = true;
                    status(CameraStatus::Streaming);
                }
                taps.retain_mut(|t| t.offer(&frame));
                plan.frame(frame);
            }
            Ok(Some(IngestEvent::Lost(reason))) => {
                tracing::warn!(%camera, reason, "camera lost");
                streaming = false;
                status(CameraStatus::Lost);
                // Whatever comes after the loss starts a new GOP.
                taps.iter_mut().for_each(|t| t.waiting_for_key = true);
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
                    let journal = start_journal(dir, id, &start.frames);
                    match ClipWriter::start(&path, &start.frames) {
                        Ok(writer) => {
                            open = Some(Open {
                                id,
                                event: start.event,
                                writer,
                                journal,
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
                            if let Some(j) = journal {
                                let _ = j.remove();
                            }
                        }
                    }
                }
                Action::Append(frame) => {
                    if let Some(o) = open.as_mut() {
                        o.last_at = frame.captured_at();
                        if let Some(Err(e)) = o.journal.as_mut().map(|j| j.append(&frame)) {
                            tracing::warn!(%camera, error = %e, "clip journal stopped");
                            o.journal = None;
                        }
                        if let Err(e) = o.writer.append(&frame) {
                            tracing::error!(%camera, error = %e, "cannot append to a clip");
                        }
                    }
                }
                Action::Finish(reason) => {
                    if let Some(o) = open.take() {
                        tracing::debug!(%camera, ?reason, "clip ends");
                        finish(o, &mut store, camera, on_ready, news);
                    }
                }
                Action::NoVideo { event, .. } => {
                    tracing::warn!(%camera, %event, "no video for an alarm");
                }
            }
        }
    }
}

/// Ends a clip: the MP4 into place, its row `ready`, its journal gone.
fn finish(
    o: Open,
    store: &mut Store,
    camera: CameraId,
    on_ready: &dyn Fn(),
    news: &UnboundedSender<ClipNews>,
) {
    match o.writer.finish() {
        Ok(clip) => {
            match store.clip_ready(o.id, clip.bytes, Some(o.first_at), Some(o.last_at)) {
                Ok(()) => on_ready(),
                Err(e) => tracing::error!(%camera, error = %e, "cannot mark a clip ready"),
            }
            // Once indexed ready the journal has done its job.
            if let Some(Err(e)) = o.journal.map(JournalWriter::remove) {
                tracing::warn!(%camera, error = %e, "cannot remove a clip journal");
            }
            tracing::info!(%camera, clip = %o.id, frames = clip.frames, bytes = clip.bytes, "clip written");
        }
        Err(e) => {
            tracing::error!(%camera, error = %e, "a clip could not be finished; dropped");
            let _ = store.clip_forget(o.id);
            if let Some(j) = o.journal {
                let _ = j.remove();
            }
            let _ = news.send(ClipNews::Discarded {
                alarm: o.event,
                camera,
                reason: format!("the clip could not be finished: {e}"),
            });
        }
    }
}

/// The journal of a new clip with its first frames, or `None` (logged) if
/// it cannot be written.
fn start_journal(
    dir: &std::path::Path,
    id: uuid::Uuid,
    frames: &[crate::video::Frame],
) -> Option<JournalWriter> {
    let written = JournalWriter::create(journal_path(dir, id)).and_then(|mut j| {
        for frame in frames {
            j.append(frame)?;
        }
        j.sync()?;
        Ok(j)
    });
    match written {
        Ok(j) => Some(j),
        Err(e) => {
            tracing::warn!(error = %e, "no clip journal: a power cut would lose this clip");
            None
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
