//! Clients and processes for the camera tests: an RTSP reader on GStreamer
//! (stamps and keyframe flags of every frame), one on FFmpeg, `ffprobe`, and
//! child processes bounded in time.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use picket_sim::camera::Codec;
use picket_sim::camera::stamp::{self, Stamp};

/// The wall clock now, in Unix milliseconds (as stamps count).
pub fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

// ---------------------------------------------------------------- processes

/// Runs a command to completion, killing it after `limit`. (Its output is
/// small: read once it exits.)
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} ran over {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A child process killed when the test ends, however it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    /// Waits up to `limit` for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `ffprobe`'s view of a stream's video: codec, profile, size, frame rate.
pub fn ffprobe(url: &str) -> Result<serde_json::Value, String> {
    let output = run_bounded(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-timeout",
            "5000000",
            "-show_entries",
            "stream=codec_name,profile,width,height,r_frame_rate",
            "-of",
            "json",
            url,
        ]),
        Duration::from_secs(20),
    );
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    Ok(json["streams"][0].clone())
}

// ------------------------------------------------------------ GStreamer reader

/// One decoded frame.
#[derive(Debug)]
pub struct Frame {
    pub stamp: Option<Stamp>,
    /// From the parser's flags on the encoded access unit.
    pub keyframe: Option<bool>,
    /// When the test got it.
    pub received_ms: u64,
}

#[derive(Debug)]
pub enum Next {
    Frame(Frame),
    /// End of stream or an error: the stream is over.
    Ended(String),
    TimedOut,
}

/// An RTSP client: rtspsrc over TCP, decoded to grey frames in an appsink
/// whose callback reads each frame's stamp as it arrives; a probe after the
/// parser records which access units are keyframes.
pub struct Reader {
    pipeline: gst::Pipeline,
    frames: mpsc::Receiver<Frame>,
}

impl Reader {
    pub fn open(url: &str, codec: Codec) -> Reader {
        gst::init().unwrap();
        let (depay, parse, decode) = match codec {
            Codec::H264 => ("rtph264depay", "h264parse", "avdec_h264"),
            Codec::H265 => ("rtph265depay", "h265parse", "avdec_h265"),
        };
        let description = format!(
            "rtspsrc location={url} protocols=tcp latency=0 ! {depay} ! {parse} name=parse ! \
             {decode} ! videoconvert ! video/x-raw,format=GRAY8 ! \
             appsink name=sink sync=false"
        );
        let pipeline = gst::parse::launch(&description)
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        let keyframes: Arc<Mutex<HashMap<u64, bool>>> = Arc::default();
        let seen = keyframes.clone();
        pipeline
            .by_name("parse")
            .unwrap()
            .static_pad("src")
            .unwrap()
            .add_probe(gst::PadProbeType::BUFFER, move |_, probe| {
                if let Some(buffer) = probe.buffer()
                    && let Some(pts) = buffer.pts()
                {
                    let key = !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT);
                    seen.lock().unwrap().insert(pts.nseconds(), key);
                }
                gst::PadProbeReturn::Ok
            });
        let (tx, frames) = mpsc::channel();
        let tx = Mutex::new(tx);
        let sink = pipeline
            .by_name("sink")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let received_ms = unix_ms_now();
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
                    let buffer = sample.buffer().unwrap();
                    let keyframe = buffer
                        .pts()
                        .and_then(|pts| keyframes.lock().unwrap().get(&pts.nseconds()).copied());
                    let map = buffer.map_readable().unwrap();
                    let stamp = stamp::read(
                        &map,
                        info.stride()[0] as usize,
                        info.width() as usize,
                        info.height() as usize,
                    );
                    let frame = Frame {
                        stamp,
                        keyframe,
                        received_ms,
                    };
                    // The test may have stopped listening: fine.
                    let _ = tx.lock().unwrap().send(frame);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline.set_state(gst::State::Playing).unwrap();
        Reader { pipeline, frames }
    }

    pub fn next(&self, timeout: Duration) -> Next {
        match self.frames.recv_timeout(timeout) {
            Ok(frame) => Next::Frame(frame),
            Err(_) => match self.ended() {
                Some(ended) => Next::Ended(ended),
                None => Next::TimedOut,
            },
        }
    }

    /// An error or end of stream posted on the bus, if any.
    pub fn ended(&self) -> Option<String> {
        let bus = self.pipeline.bus().unwrap();
        let message = bus.pop_filtered(&[gst::MessageType::Error, gst::MessageType::Eos])?;
        Some(match message.view() {
            gst::MessageView::Error(e) => format!("error: {}", e.error()),
            _ => "end of stream".into(),
        })
    }

    /// Stamped frames until `count` consecutive readable ones were seen after
    /// the first readable one, or `limit` passed. Frames before the first
    /// readable stamp (a client joining between keyframes) are skipped;
    /// after it every frame must read.
    pub fn stamped_frames(&self, count: usize, limit: Duration) -> Vec<Frame> {
        let deadline = Instant::now() + limit;
        let mut frames: Vec<Frame> = Vec::new();
        while frames.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} stamped frames within {limit:?}",
                frames.len()
            );
            match self.next(left.min(Duration::from_secs(1))) {
                Next::Frame(frame) if frame.stamp.is_some() => frames.push(frame),
                Next::Frame(frame) => assert!(
                    frames.is_empty(),
                    "an unreadable stamp after {} good frames: {frame:?}",
                    frames.len()
                ),
                Next::Ended(why) => panic!("the stream ended: {why}"),
                Next::TimedOut => {}
            }
        }
        frames
    }

    /// Waits up to `limit` for the stream to end (EOS or error).
    pub fn wait_end(&self, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the stream did not end within {limit:?}");
            if let Next::Ended(why) = self.next(left.min(Duration::from_millis(200))) {
                return why;
            }
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// An FFmpeg client decoding to raw grey frames (every frame, none
/// duplicated or dropped); what it reads from each frame's stamp comes out
/// of `stamps`, which closes when FFmpeg's output ends.
pub struct FfmpegReader {
    pub process: Killed,
    pub stamps: mpsc::Receiver<Option<Stamp>>,
}

impl FfmpegReader {
    pub fn start(url: &str, width: usize, height: usize) -> FfmpegReader {
        let mut child = Command::new("ffmpeg")
            .args(["-v", "error", "-rtsp_transport", "tcp", "-i", url])
            .args([
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "gray",
                "-",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, stamps) = mpsc::channel();
        std::thread::spawn(move || {
            let mut frame = vec![0u8; width * height];
            while stdout.read_exact(&mut frame).is_ok() {
                if tx.send(stamp::read(&frame, width, width, height)).is_err() {
                    return;
                }
            }
        });
        FfmpegReader {
            process: Killed(child),
            stamps,
        }
    }

    /// `count` stamps in a row, skipping unreadable frames before the first
    /// readable one (FFmpeg may join between keyframes); after it every
    /// frame must read.
    pub fn stamped_frames(&self, count: usize, limit: Duration) -> Vec<Stamp> {
        let deadline = Instant::now() + limit;
        let mut stamps = Vec::new();
        while stamps.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stamps.recv_timeout(left) {
                Ok(Some(stamp)) => stamps.push(stamp),
                Ok(None) => assert!(
                    stamps.is_empty(),
                    "FFmpeg decoded an unreadable stamp after {stamps:?}"
                ),
                Err(e) => panic!("{} stamps from FFmpeg, then {e:?}", stamps.len()),
            }
        }
        stamps
    }
}
