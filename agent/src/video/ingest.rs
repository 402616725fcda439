//! One camera's stream in, as [`Frame`]s out: a GStreamer pipeline that
//! never re-encodes, on its own thread, with reconnects.
//!
//! ```text
//! rtspsrc (TCP, latency 0) → rtph264depay → h264parse
//!   → video/x-h264,stream-format=avc,alignment=au → appsink (sync=false)
//! rtspsrc (TCP, latency 0) → rtph265depay → h265parse
//!   → video/x-h265,stream-format=hvc1,alignment=au → appsink (sync=false)
//! ```
//!
//! The codec is the camera's: the depayloader and parser are added when
//! `rtspsrc` offers its video stream, by the RTP caps' `encoding-name`
//! (`H264` or `H265`); any other video encoding is camera loss with that
//! reason. Each appsink sample is one access unit with 4-byte NAL lengths:
//! its bytes become the frame's payload as they are; a sample without the
//! `DELTA_UNIT` flag is a keyframe and gets the parameter sets parsed from
//! the caps' `codec_data`: SPS/PPS from the avcC record ([`parse_avcc`]),
//! VPS/SPS/PPS from the hvcC record ([`parse_hvcc`]). The sample's caps
//! name the codec (`video/x-h264` or `video/x-h265`).
//!
//! **Capture instant.** A frame's `captured_at` is the unit's wall clock
//! (the clock alarms are stamped with) when its sample reached the appsink,
//! minus the pipeline's reported latency (a latency query once the stream
//! runs; with `latency=0` and no decoder this is about zero) and minus the
//! configured [`IngestConfig::camera_latency`] (the camera's encoding and
//! network delay, which no query sees; 0 by default). So a frame is never
//! stamped before it was captured by more than that configured estimate,
//! and the stamps of a stream never go backwards unless the unit's clock
//! does. Camera timestamps (RTP/RTCP) are not used: a camera's clock is not
//! the unit's, and a clip must line up with the unit's alarms.
//!
//! **Backpressure.** The appsink holds at most [`IngestConfig::queue`]
//! samples and never drops: when the consumer of the channel falls behind,
//! the pipeline stalls (and TCP slows the camera down) rather than losing
//! frames silently. A stall longer than [`IngestConfig::stall_timeout`]
//! counts as camera loss.
//!
//! **Loss.** An error or end of stream from the pipeline, or no frame for
//! `stall_timeout`, is camera loss: [`IngestEvent::Lost`] once, then the
//! thread rebuilds the pipeline after [`Backoff`] delays until frames come
//! again, then [`IngestEvent::Restored`] once before the first new frame. A
//! camera unreachable from the start is reported lost the same way.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use jiff::{SignedDuration, Timestamp};
use picket_proto::backoff::Backoff;
use tokio::sync::mpsc;

pub use super::avcc::{AvccError, parse_avcc};
use super::frame::{Codec, Frame, ParameterSets, minus};
use super::hvcc::parse_hvcc;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// The character-device major number of Video4Linux devices.
const V4L2_MAJOR: u32 = 81;

/// Credentials for the camera's RTSP server (basic or digest auth).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// How to read one camera.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    /// `rtsp://host:port/path` (credentials may be in it, or below), or the
    /// absolute path of a camera on the unit itself: a V4L2 device that
    /// gives H.264, or a pipe carrying an H.264/H.265 elementary stream.
    pub url: String,
    /// Credentials, passed to `rtspsrc` as `user-id`/`user-pw`.
    pub credentials: Option<Credentials>,
    /// Samples the appsink holds before the pipeline waits (default 30).
    pub queue: u32,
    /// Events the channel holds before the pipeline waits (default 64).
    pub channel: usize,
    /// No frame for this long is camera loss (default 5 s).
    pub stall_timeout: Duration,
    /// The camera's own delay from capture to sending, subtracted from
    /// every instant (default 0).
    pub camera_latency: SignedDuration,
}

impl IngestConfig {
    /// Defaults for `url`, without credentials.
    pub fn new(url: impl Into<String>) -> IngestConfig {
        IngestConfig {
            url: url.into(),
            credentials: None,
            queue: 30,
            channel: 64,
            stall_timeout: Duration::from_secs(5),
            camera_latency: SignedDuration::ZERO,
        }
    }
}

/// What the ingest reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestEvent {
    /// The next frame, in stream order.
    Frame(Frame),
    /// The camera's stream ended or failed (once per loss), and why.
    Lost(String),
    /// Frames come again after a loss (once, before the first of them).
    Restored,
}

/// Why the ingest could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// GStreamer could not be initialised.
    #[error("GStreamer: {0}")]
    Init(String),
    /// A GStreamer element is not installed.
    #[error("GStreamer element {0} is not installed (deploy/setup.sh installs it)")]
    MissingElement(&'static str),
    /// The ingest thread could not be started.
    #[error("starting the ingest thread: {0}")]
    Thread(String),
}

/// One camera's running ingest. Dropping it stops the pipeline and waits
/// for its thread.
#[derive(Debug)]
pub struct Ingest {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ingest {
    /// Starts reading the camera; events arrive on the receiver. Returns at
    /// once: connecting happens on the ingest's thread.
    pub fn start(
        config: IngestConfig,
    ) -> Result<(Ingest, mpsc::Receiver<IngestEvent>), IngestError> {
        gst::init().map_err(|e| IngestError::Init(e.to_string()))?;
        // H.264 is every unit's baseline; an H.265 camera's elements are
        // looked for when its stream shows up (camera loss if missing).
        for element in [
            "rtspsrc",
            "rtph264depay",
            "h264parse",
            "capsfilter",
            "appsink",
        ] {
            if gst::ElementFactory::find(element).is_none() {
                return Err(IngestError::MissingElement(element));
            }
        }
        let (events, receiver) = mpsc::channel(config.channel.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            pipe: std::cell::OnceCell::new(),
            config,
            events,
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name("picket-ingest".into())
            .spawn(move || worker.run())
            .map_err(|e| IngestError::Thread(e.to_string()))?;
        Ok((
            Ingest {
                stop,
                thread: Some(thread),
            },
            receiver,
        ))
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How one connection ended.
enum Ended {
    /// The ingest was stopped or nobody listens any more.
    Stopped,
    /// Camera loss, and why.
    Lost(String),
}

/// The ingest thread's state.
struct Worker {
    config: IngestConfig,
    events: mpsc::Sender<IngestEvent>,
    stop: Arc<AtomicBool>,
    /// A pipe camera, opened once for the worker's life (read and write,
    /// so opening never blocks and its writer never finds the pipe
    /// without a reader while a pipeline is rebuilt).
    pipe: std::cell::OnceCell<OwnedFd>,
}

/// How often the thread looks at the stop flag and the bus.
const POLL: Duration = Duration::from_millis(50);

impl Worker {
    fn run(self) {
        let mut backoff = Backoff::default();
        // Whether a loss was reported and not yet followed by frames.
        let mut lost = false;
        loop {
            let mut got_frames = false;
            let ended = match self.build() {
                Ok((pipeline, _device)) => {
                    let ended = self.stream(&pipeline, &mut lost, &mut got_frames);
                    let _ = pipeline.set_state(gst::State::Null);
                    ended
                }
                Err(reason) => Ended::Lost(reason),
            };
            let reason = match ended {
                Ended::Stopped => return,
                Ended::Lost(reason) => reason,
            };
            if got_frames {
                backoff.reset();
            }
            if !lost {
                tracing::warn!(url = %redact(&self.config.url), %reason, "camera lost");
                if !self.send(IngestEvent::Lost(reason)) {
                    return;
                }
                lost = true;
            }
            let mut random = [0u8; 2];
            let _ = getrandom::fill(&mut random);
            let delay = backoff.next_delay(u16::from_be_bytes(random));
            if !self.sleep(delay) {
                return;
            }
        }
    }

    /// The pipeline for one connection, playing.
    /// The appsink every pipeline ends in: never drops, holds at most
    /// [`IngestConfig::queue`] samples (backpressure).
    fn appsink(&self) -> gst_app::AppSink {
        gst_app::AppSink::builder()
            .sync(false)
            .max_buffers(self.config.queue.max(1))
            .drop(false)
            .build()
    }

    /// The pipeline for one connection, playing, and the device's file
    /// descriptor it reads (kept open while it runs).
    fn build(&self) -> Result<(gst::Pipeline, Option<OwnedFd>), String> {
        if self.config.url.starts_with('/') {
            return self.build_device(Path::new(&self.config.url));
        }
        let make = element;
        let source = make("rtspsrc")?;
        source.set_property("location", &self.config.url);
        source.set_property_from_str("protocols", "tcp");
        source.set_property("latency", 0u32);
        if let Some(c) = &self.config.credentials {
            source.set_property("user-id", &c.user);
            source.set_property("user-pw", &c.password);
        }
        let sink = self.appsink();
        let pipeline = gst::Pipeline::new();
        pipeline
            .add_many([&source, sink.upcast_ref()])
            .map_err(|e| format!("assembling the pipeline: {e}"))?;
        let sink_pad = sink
            .static_pad("sink")
            .ok_or_else(|| "appsink has no sink pad".to_string())?;
        let weak = pipeline.downgrade();
        source.connect_pad_added(move |source, pad| {
            let Some(pipeline) = weak.upgrade() else {
                return;
            };
            // One video stream: a second one (or audio) is left unlinked.
            if sink_pad.is_linked() {
                return;
            }
            let Some(caps) = pad.current_caps() else {
                return;
            };
            let Some(rtp) = caps.structure(0) else {
                return;
            };
            if rtp.get::<&str>("media").ok() != Some("video") {
                return;
            }
            let encoding = rtp.get::<&str>("encoding-name").unwrap_or("");
            let linked = match encoding.to_ascii_uppercase().as_str() {
                "H264" => link_branch(&pipeline, pad, &sink_pad, Codec::H264, true),
                "H265" => link_branch(&pipeline, pad, &sink_pad, Codec::H265, true),
                _ => Err(format!(
                    "the camera sends {encoding:?} video: only H.264 and H.265 are read"
                )),
            };
            if let Err(reason) = linked {
                let error = gst::message::Error::builder(gst::StreamError::CodecNotFound, &reason)
                    .src(source)
                    .build();
                let _ = source.post_message(error);
            }
        });
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("starting the pipeline: {e}"))?;
        Ok((pipeline, None))
    }

    /// A camera on the unit itself: a V4L2 capture device that gives H.264
    /// (`v4l2src`), or a pipe or character device carrying an H.264/H.265
    /// elementary stream (a camera daemon's output; the codec is found by
    /// `typefind`). The pipe stays open across pipelines (see
    /// [`Worker::pipe`]): a writer that stops is a stall, i.e. camera loss;
    /// when one writes again, frames come and the camera is restored.
    fn build_device(&self, path: &Path) -> Result<(gst::Pipeline, Option<OwnedFd>), String> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("camera device {shown}: {e}"))?;
        let make = element;
        let sink = self.appsink();
        let sink_pad = sink
            .static_pad("sink")
            .ok_or_else(|| "appsink has no sink pad".to_string())?;
        let pipeline = gst::Pipeline::new();
        pipeline
            .add(&sink)
            .map_err(|e| format!("assembling the pipeline: {e}"))?;
        let is_v4l2 =
            meta.file_type().is_char_device() && rustix::fs::major(meta.rdev()) == V4L2_MAJOR;
        let device = if is_v4l2 {
            let source = make("v4l2src")?;
            source.set_property("device", path.to_string_lossy().as_ref());
            let filter = gst::ElementFactory::make("capsfilter")
                .property("caps", gst::Caps::builder("video/x-h264").build())
                .build()
                .map_err(|e| format!("making capsfilter: {e}"))?;
            pipeline
                .add_many([&source, &filter])
                .map_err(|e| format!("assembling the pipeline: {e}"))?;
            source
                .link(&filter)
                .map_err(|e| format!("{shown} gives no H.264: {e}"))?;
            let pad = filter
                .static_pad("src")
                .ok_or_else(|| "capsfilter has no src pad".to_string())?;
            link_branch(&pipeline, &pad, &sink_pad, Codec::H264, false)?;
            None
        } else {
            if self.pipe.get().is_none() {
                let opened = rustix::fs::open(
                    path,
                    rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .map_err(|e| format!("opening camera device {shown}: {e}"))?;
                let _ = self.pipe.set(opened);
            }
            let fd = self
                .pipe
                .get()
                .ok_or_else(|| format!("camera device {shown} is not open"))?
                .try_clone()
                .map_err(|e| format!("camera device {shown}: {e}"))?;
            let source = make("fdsrc")?;
            source.set_property("fd", fd.as_raw_fd());
            let find = make("typefind")?;
            pipeline
                .add_many([&source, &find])
                .map_err(|e| format!("assembling the pipeline: {e}"))?;
            source
                .link(&find)
                .map_err(|e| format!("linking the pipeline: {e}"))?;
            let weak = pipeline.downgrade();
            let device = path.display().to_string();
            find.connect("have-type", false, move |args| {
                let (Some(pipeline), Some(find), Some(caps)) = (
                    weak.upgrade(),
                    args.first().and_then(|v| v.get::<gst::Element>().ok()),
                    args.get(2).and_then(|v| v.get::<gst::Caps>().ok()),
                ) else {
                    return None;
                };
                let name = caps.structure(0).map(|s| s.name().to_string()).unwrap_or_default();
                let linked = match name.as_str() {
                    "video/x-h264" => Ok(Codec::H264),
                    "video/x-h265" => Ok(Codec::H265),
                    other => Err(format!(
                        "{device} carries {other:?}: only H.264 and H.265 elementary streams are read"
                    )),
                }
                .and_then(|codec| {
                    let pad = find
                        .static_pad("src")
                        .ok_or_else(|| "typefind has no src pad".to_string())?;
                    link_branch(&pipeline, &pad, &sink_pad, codec, false)
                });
                if let Err(reason) = linked {
                    let error =
                        gst::message::Error::builder(gst::StreamError::CodecNotFound, &reason)
                            .src(&find)
                            .build();
                    let _ = find.post_message(error);
                }
                None
            });
            Some(fd)
        };
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("starting the pipeline: {e}"))?;
        Ok((pipeline, device))
    }

    /// Pulls frames until loss or stop.
    fn stream(&self, pipeline: &gst::Pipeline, lost: &mut bool, got_frames: &mut bool) -> Ended {
        let Some(sink) = pipeline
            .children()
            .into_iter()
            .find_map(|e| e.downcast::<gst_app::AppSink>().ok())
        else {
            return Ended::Lost("the pipeline has no appsink".into());
        };
        let Some(bus) = pipeline.bus() else {
            return Ended::Lost("the pipeline has no bus".into());
        };
        let mut latency: Option<SignedDuration> = None;
        let mut params: Option<(Vec<u8>, ParameterSets)> = None;
        let mut last_frame = Instant::now();
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Ended::Stopped;
            }
            while let Some(message) = bus.pop() {
                match message.view() {
                    gst::MessageView::Error(e) => {
                        let from = e.src().map(|s| s.name().to_string()).unwrap_or_default();
                        return Ended::Lost(format!("{from}: {}", e.error()));
                    }
                    gst::MessageView::Eos(_) => return Ended::Lost("end of stream".into()),
                    _ => {}
                }
            }
            let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(50)) else {
                if sink.is_eos() {
                    return Ended::Lost("end of stream".into());
                }
                if last_frame.elapsed() > self.config.stall_timeout {
                    return Ended::Lost(format!("no frame for {:?}", self.config.stall_timeout));
                }
                continue;
            };
            let arrived = Timestamp::now();
            last_frame = Instant::now();
            let latency = *latency.get_or_insert_with(|| pipeline_latency(pipeline));
            let captured_at = minus(minus(arrived, latency), self.config.camera_latency);
            let frame = match to_frame(&sample, captured_at, &mut params) {
                Ok(Some(frame)) => frame,
                // Nothing to hand over (an empty sample).
                Ok(None) => continue,
                Err(reason) => return Ended::Lost(reason),
            };
            if *lost {
                tracing::info!(url = %redact(&self.config.url), "camera restored");
                if !self.send(IngestEvent::Restored) {
                    return Ended::Stopped;
                }
                *lost = false;
            }
            *got_frames = true;
            if !self.send(IngestEvent::Frame(frame)) {
                return Ended::Stopped;
            }
        }
    }

    /// Sends an event, waiting while the channel is full; `false` once
    /// stopped or nobody listens.
    fn send(&self, mut event: IngestEvent) -> bool {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            match self.events.try_send(event) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    event = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }

    /// Sleeps `delay` unless stopped first; `false` if stopped.
    fn sleep(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        while Instant::now() < deadline {
            if self.stop.load(Ordering::SeqCst) || self.events.is_closed() {
                return false;
            }
            std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
        }
        !self.stop.load(Ordering::SeqCst)
    }
}

/// A GStreamer element, or why it cannot be made (a missing plugin is
/// named with what installs it).
fn element(name: &str) -> Result<gst::Element, String> {
    if gst::ElementFactory::find(name).is_none() {
        return Err(format!(
            "GStreamer element {name} is not installed (deploy/setup.sh installs it)"
        ));
    }
    gst::ElementFactory::make(name)
        .build()
        .map_err(|e| format!("making {name}: {e}"))
}

/// The depayloader, parser, caps name and stream format of a codec.
fn branch_elements(codec: Codec) -> [&'static str; 4] {
    match codec {
        Codec::H264 => ["rtph264depay", "h264parse", "video/x-h264", "avc"],
        Codec::H265 => ["rtph265depay", "h265parse", "video/x-h265", "hvc1"],
    }
}

/// Adds `depay → parse → capsfilter` for `codec` between the camera's
/// stream `pad` and the appsink's pad, playing (`identity` in place of the
/// depayloader for an elementary stream).
fn link_branch(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    sink_pad: &gst::Pad,
    codec: Codec,
    depayload: bool,
) -> Result<(), String> {
    let [depay, parse, media, format] = branch_elements(codec);
    // An elementary stream (a device) needs no depayloader: parse it.
    let depay = if depayload { depay } else { "identity" };
    let make = element;
    let depay = make(depay)?;
    let parse = make(parse)?;
    let caps = gst::Caps::builder(media)
        .field("stream-format", format)
        .field("alignment", "au")
        .build();
    let filter = gst::ElementFactory::make("capsfilter")
        .property("caps", &caps)
        .build()
        .map_err(|e| format!("making capsfilter: {e}"))?;
    pipeline
        .add_many([&depay, &parse, &filter])
        .map_err(|e| format!("assembling the {codec} branch: {e}"))?;
    gst::Element::link_many([&depay, &parse, &filter])
        .map_err(|e| format!("linking the {codec} branch: {e}"))?;
    filter
        .static_pad("src")
        .ok_or_else(|| "capsfilter has no src pad".to_string())?
        .link(sink_pad)
        .map_err(|e| format!("linking the {codec} branch to the appsink: {e}"))?;
    for element in [&filter, &parse, &depay] {
        element
            .sync_state_with_parent()
            .map_err(|e| format!("starting the {codec} branch: {e}"))?;
    }
    let depay_sink = depay
        .static_pad("sink")
        .ok_or_else(|| "the depayloader has no sink pad".to_string())?;
    pad.link(&depay_sink)
        .map_err(|e| format!("linking the camera's {codec} stream: {e}"))?;
    Ok(())
}

/// The pipeline's minimum latency (0 if it cannot say).
fn pipeline_latency(pipeline: &gst::Pipeline) -> SignedDuration {
    let mut query = gst::query::Latency::new();
    if pipeline.query(&mut query) {
        let (_live, min, _max) = query.result();
        SignedDuration::from_nanos(i64::try_from(min.nseconds()).unwrap_or(i64::MAX))
    } else {
        SignedDuration::ZERO
    }
}

/// One sample as a frame, of the codec its caps name. `params` caches the
/// parameter sets of the last `codec_data` seen. `Err` when the stream
/// cannot be used (caps of neither codec, no or a broken avcC/hvcC record
/// on a keyframe).
fn to_frame(
    sample: &gst::Sample,
    captured_at: Timestamp,
    params: &mut Option<(Vec<u8>, ParameterSets)>,
) -> Result<Option<Frame>, String> {
    let Some(buffer) = sample.buffer() else {
        return Ok(None);
    };
    let data = match buffer.map_readable() {
        Ok(map) => Bytes::copy_from_slice(map.as_slice()),
        Err(_) => return Ok(None),
    };
    if data.is_empty() {
        return Ok(None);
    }
    let caps = sample.caps().and_then(|caps| caps.structure(0));
    let codec = match caps.map(|s| s.name().as_str()) {
        Some("video/x-h264") => Codec::H264,
        Some("video/x-h265") => Codec::H265,
        other => return Err(format!("a sample with caps {other:?}, not H.264 or H.265")),
    };
    if buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) {
        return Ok(Some(Frame::delta(captured_at, codec, data)));
    }
    let codec_data = caps
        .and_then(|s| s.get::<gst::Buffer>("codec_data").ok())
        .ok_or_else(|| "a keyframe without codec_data in its caps".to_string())?;
    let map = codec_data
        .map_readable()
        .map_err(|_| "unreadable codec_data".to_string())?;
    let fresh = match params {
        Some((seen, sets)) if seen[..] == map[..] && sets.codec() == codec => sets.clone(),
        _ => {
            let sets = match codec {
                Codec::H264 => parse_avcc(map.as_slice()).map_err(|e| e.to_string()),
                Codec::H265 => parse_hvcc(map.as_slice()).map_err(|e| e.to_string()),
            }
            .map_err(|e| format!("codec_data: {e}"))?;
            *params = Some((map.to_vec(), sets.clone()));
            sets
        }
    };
    Ok(Some(Frame::key(captured_at, fresh, data)))
}

/// The URL without credentials, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_never_show_credentials() {
        assert_eq!(
            redact("rtsp://unit:s3cret@10.0.0.5:554/cam"),
            "rtsp://…@10.0.0.5:554/cam"
        );
        assert_eq!(redact("rtsp://10.0.0.5/cam"), "rtsp://10.0.0.5/cam");
    }
}
