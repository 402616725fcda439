//! A camera on the unit itself: the ingest reads an H.264 or H.265
//! elementary stream from a pipe (as a camera daemon on a board writes
//! it), finds the codec by itself, and treats the writer stopping as
//! camera loss (no frame for the stall timeout) and a writer again as the
//! camera restored — the same events
//! and frames as a network camera. The writer is a real GStreamer encoder
//! (`gst-launch-1.0 … x264enc / x265enc … ! filesink`) into a real FIFO.
//! (A V4L2 device takes the same parse chain behind `v4l2src`; this
//! machine kind has no video device to test it on.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_agent::video::ingest::{Ingest, IngestConfig, IngestEvent};
use picket_agent::video::{Codec, Frame, ParameterSets};
use tokio::sync::mpsc;

/// A FIFO in a temporary directory.
fn fifo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("camera.h26x");
    let made = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(made.success(), "mkfifo");
    (dir, path)
}

/// A live 320×240 15 fps encoder writing an elementary stream into `path`
/// frame by frame, as a camera daemon does (`encoder`: `x264enc …` or
/// `x265enc …`), killed when dropped.
struct Writer(Child);

impl Writer {
    fn start(path: &Path, encoder: &str, caps: &str) -> Writer {
        let pipeline = format!(
            "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 \
             ! {encoder} ! {caps},stream-format=byte-stream \
             ! filesink buffer-mode=unbuffered location={}",
            path.display()
        );
        let child = Command::new("gst-launch-1.0")
            .arg("-q")
            .args(pipeline.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gst-launch-1.0 (make test installs gstreamer1.0-tools)");
        Writer(child)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The next event within `wait`.
async fn next(events: &mut mpsc::Receiver<IngestEvent>, wait: Duration) -> Option<IngestEvent> {
    tokio::time::timeout(wait, events.recv())
        .await
        .ok()
        .flatten()
}

/// Frames for `span`, skipping other events.
async fn frames_for(events: &mut mpsc::Receiver<IngestEvent>, span: Duration) -> Vec<Frame> {
    let until = Instant::now() + span;
    let mut frames = Vec::new();
    while Instant::now() < until {
        match next(events, Duration::from_millis(200)).await {
            Some(IngestEvent::Frame(f)) => frames.push(f),
            Some(other) => panic!("only frames while the writer runs: {other:?}"),
            None => {}
        }
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h264_pipe_gives_frames_and_its_writer_going_away_is_camera_loss() {
    let (_dir, path) = fifo();
    let mut config = IngestConfig::new(path.to_string_lossy());
    config.stall_timeout = Duration::from_secs(2);
    let (_ingest, mut events) = Ingest::start(config).unwrap();
    // No writer yet: camera loss, retried.
    match next(&mut events, Duration::from_secs(10)).await {
        Some(IngestEvent::Lost(reason)) => println!("before the writer: lost ({reason})"),
        other => panic!("no writer is camera loss: {other:?}"),
    }
    let h264 = "x264enc tune=zerolatency key-int-max=15 threads=1 bitrate=300";
    let writer = Writer::start(&path, h264, "video/x-h264");
    let restored = Instant::now();
    loop {
        match next(&mut events, Duration::from_secs(20)).await {
            Some(IngestEvent::Restored) => break,
            Some(IngestEvent::Lost(_)) => {}
            other => panic!("the writer's stream restores the camera: {other:?}"),
        }
    }
    println!("restored {:?} after the writer started", restored.elapsed());
    let frames = frames_for(&mut events, Duration::from_secs(3)).await;
    assert!(
        frames.len() >= 30,
        "about 15 frames a second: {}",
        frames.len()
    );
    assert!(frames.iter().all(|f| f.codec() == Codec::H264));
    let keys: Vec<&Frame> = frames.iter().filter(|f| f.is_key()).collect();
    assert!(keys.len() >= 2, "a keyframe a second: {}", keys.len());
    assert!(
        keys.iter()
            .all(|k| matches!(k.parameter_sets(), Some(ParameterSets::H264 { .. }))),
        "every keyframe carries its SPS/PPS"
    );
    assert!(
        frames
            .windows(2)
            .all(|w| w[0].captured_at() <= w[1].captured_at())
    );

    drop(writer);
    loop {
        match next(&mut events, Duration::from_secs(10)).await {
            Some(IngestEvent::Lost(reason)) => {
                println!("writer gone: lost ({reason})");
                break;
            }
            Some(IngestEvent::Frame(_)) => {}
            other => panic!("the writer going away is camera loss: {other:?}"),
        }
    }
    let _again = Writer::start(&path, h264, "video/x-h264");
    loop {
        match next(&mut events, Duration::from_secs(20)).await {
            Some(IngestEvent::Restored) => break,
            Some(IngestEvent::Lost(_)) => {}
            other => panic!("a new writer restores the camera: {other:?}"),
        }
    }
    assert!(
        !frames_for(&mut events, Duration::from_secs(1))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h265_pipe_is_recognised_as_h265() {
    let (_dir, path) = fifo();
    let (_ingest, mut events) = Ingest::start(IngestConfig::new(path.to_string_lossy())).unwrap();
    let _writer = Writer::start(
        &path,
        "x265enc tune=zerolatency key-int-max=15 speed-preset=ultrafast bitrate=300",
        "video/x-h265",
    );
    let frames = loop {
        match next(&mut events, Duration::from_secs(20)).await {
            Some(IngestEvent::Restored) | Some(IngestEvent::Lost(_)) => {}
            Some(IngestEvent::Frame(f)) => {
                let mut frames = vec![f];
                frames.extend(frames_for(&mut events, Duration::from_secs(2)).await);
                break frames;
            }
            None => panic!("no frames from the H.265 pipe"),
        }
    };
    assert!(frames.iter().all(|f| f.codec() == Codec::H265));
    assert!(
        frames
            .iter()
            .filter(|f| f.is_key())
            .all(|k| matches!(k.parameter_sets(), Some(ParameterSets::H265 { .. }))),
        "keyframes carry VPS/SPS/PPS"
    );
    assert!(frames.iter().any(|f| f.is_key()));
}
