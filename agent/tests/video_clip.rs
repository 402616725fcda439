//! The video path against a real simulated camera (`picket-sim camera` as a
//! child process, real RTSP on loopback): ingest frames, cut a clip around
//! an alarm with the clip plan, write it as MP4, and check it with FFmpeg
//! (codec, duration, the stamped capture instants of its first and last
//! frames) and GStreamer's demuxer (its samples are the ingested bytes: no
//! re-encoding). And camera loss: dropped → `Lost`, restored → `Restored`
//! and frames again. Ingest, clip and thumbnail run for H.264 and H.265
//! cameras alike.
//!
//! `picket-sim` is a separate binary here, not a dependency: agent and sim
//! must not depend on each other (tests/tests/architecture.rs). The stamp
//! reader is the simulator's pure module, compiled in from its source.
//! Every wait is bounded.

#[allow(dead_code)]
#[path = "../../hw-sim/src/camera/stamp.rs"]
mod stamp;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use jiff::{SignedDuration, Timestamp};
use picket_agent::video::ingest::{Credentials, Ingest, IngestConfig, IngestEvent};
use picket_agent::video::mp4::ClipWriter;
use picket_agent::video::{Action, ClipPlan, ClipRules, Codec, Frame, ParameterSets, RingLimits};
use picket_proto::ids::EventId;
use tokio::sync::mpsc;

const FPS: u32 = 15;
const KEYINT: usize = 15;
const WIDTH: usize = 640;
const HEIGHT: usize = 360;
/// How far an ingested frame's instant may lie after its stamped capture
/// instant: the camera's frame interval and encoding, RTP over loopback
/// TCP, depayloading (measured: about 90 ms at 15 fps; the bound leaves
/// room for a loaded machine).
const INGEST_DELAY: SignedDuration = SignedDuration::from_millis(300);

/// A camera codec and how each tool names it.
#[derive(Clone, Copy, Debug)]
struct CameraCodec {
    codec: Codec,
    /// `picket-sim camera`'s `codec=`.
    sim: &'static str,
    /// ffprobe's `codec_name`.
    ffprobe: &'static str,
    /// The MP4 sample entry (ffprobe's `codec_tag_string`).
    sample_entry: &'static str,
    /// The demuxer's caps name.
    caps: &'static str,
}

const H264: CameraCodec = CameraCodec {
    codec: Codec::H264,
    sim: "h264",
    ffprobe: "h264",
    sample_entry: "avc1",
    caps: "video/x-h264",
};

const H265: CameraCodec = CameraCodec {
    codec: Codec::H265,
    sim: "h265",
    ffprobe: "hevc",
    sample_entry: "hvc1",
    caps: "video/x-h265",
};

/// Whether a keyframe's parameter sets are of `codec` and each NAL unit is
/// the kind it claims to be.
fn parameter_sets_fit(codec: Codec, params: Option<&ParameterSets>) -> bool {
    let h265_type = |nal: &[u8]| (nal[0] >> 1) & 0x3f;
    match (codec, params) {
        (Codec::H264, Some(ParameterSets::H264 { sps, pps })) => {
            sps[0] & 0x1f == 7 && pps[0] & 0x1f == 8
        }
        (Codec::H265, Some(ParameterSets::H265 { vps, sps, pps })) => {
            h265_type(vps) == 32 && h265_type(sps) == 33 && h265_type(pps) == 34
        }
        _ => false,
    }
}

// ------------------------------------------------------------- the camera

/// `picket-sim camera` with one camera `cam`, killed when dropped.
struct Camera {
    child: Child,
    url: String,
    control: PathBuf,
    _dir: tempfile::TempDir,
}

impl Camera {
    /// An H.264 camera; `extra`: more `picket-sim camera` flags.
    fn start(extra: &[&str]) -> Camera {
        Camera::start_with(H264, extra)
    }

    /// A camera sending `codec`; `extra`: more `picket-sim camera` flags.
    fn start_with(codec: CameraCodec, extra: &[&str]) -> Camera {
        let exe = std::env::current_exe().unwrap();
        let bin = exe.parent().unwrap().parent().unwrap().join("picket-sim");
        assert!(
            bin.exists(),
            "{} is not built: run `cargo build --workspace --bins` (make test does)",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let control = dir.path().join("cams.sock");
        let mut child = Command::new(&bin)
            .args(["camera", "--listen", "127.0.0.1:0", "--no-clock-overlay"])
            .arg("--camera")
            .arg(format!(
                "cam:{WIDTH}x{HEIGHT}@{FPS},bitrate=600,keyint={KEYINT},codec={}",
                codec.sim
            ))
            .arg("--control")
            .arg(&control)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, url_rx) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut url = None;
        let mut serving = false;
        while !(serving && url.is_some()) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = url_rx
                .recv_timeout(left)
                .expect("picket-sim camera printed its URL and `serving`");
            if let Some(at) = line.find("rtsp://") {
                url = line[at..].split_whitespace().next().map(str::to_string);
            }
            serving |= line.starts_with("serving");
        }
        Camera {
            child,
            url: url.unwrap(),
            control,
            _dir: dir,
        }
    }

    /// `{"drop":"cam"}` or `{"restore":"cam"}` over the control socket.
    fn control(&self, verb: &str) {
        let mut socket = UnixStream::connect(&self.control).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        writeln!(socket, "{{\"{verb}\":\"cam\"}}").unwrap();
        let mut answer = String::new();
        BufReader::new(socket).read_line(&mut answer).unwrap();
        assert!(answer.contains("\"ok\":true"), "{verb}: {answer}");
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------ the helpers

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// The next event, or `None` after `limit`.
fn next(
    rt: &tokio::runtime::Runtime,
    events: &mut mpsc::Receiver<IngestEvent>,
    limit: Duration,
) -> Option<IngestEvent> {
    rt.block_on(async { tokio::time::timeout(limit, events.recv()).await })
        .ok()
        .flatten()
}

/// Runs a command to completion within `limit`; its stdout.
fn output(command: &mut Command, limit: Duration) -> Vec<u8> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = std::io::Read::read_to_end(&mut BufReader::new(stdout), &mut bytes);
        bytes
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} ran over {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let bytes = reader.join().unwrap();
    assert!(status.success(), "{command:?}: {status}");
    bytes
}

fn stamp_at(stamp: stamp::Stamp) -> Timestamp {
    Timestamp::from_millisecond(stamp.unix_ms as i64).unwrap()
}

/// The samples of an MP4 file as GStreamer's demuxer gives them; `caps`:
/// the video's caps name.
fn demux(path: &Path, caps: &str) -> Vec<(Vec<u8>, bool)> {
    gst::init().unwrap();
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={} ! qtdemux ! {caps} ! appsink name=out sync=false",
        path.display()
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut samples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(5)) {
        let buffer = sample.buffer().unwrap();
        let key = !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT);
        samples.push((buffer.map_readable().unwrap().to_vec(), key));
        assert!(Instant::now() < deadline, "demuxing took too long");
    }
    assert!(sink.is_eos(), "the demuxer stopped before the end");
    pipeline.set_state(gst::State::Null).unwrap();
    samples
}

/// The body of the (single) `avcC` or `hvcC` box in an MP4 file.
fn codec_record(file: &[u8], codec: Codec) -> &[u8] {
    let name: &[u8] = match codec {
        Codec::H264 => b"avcC",
        Codec::H265 => b"hvcC",
    };
    let at = file
        .windows(4)
        .position(|w| w == name)
        .unwrap_or_else(|| panic!("no {} box", String::from_utf8_lossy(name)));
    let size = u32::from_be_bytes(file[at - 4..at].try_into().unwrap()) as usize;
    &file[at + 4..at - 4 + size]
}

/// The NAL units of a length-prefixed access unit.
fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let len = u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize;
        let nal = data.get(at + 4..at + 4 + len)?;
        at += 4 + len;
        Some(nal)
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ------------------------------------------------------------------ tests

/// Ingest about four seconds, raise an alarm two seconds in, and write its
/// clip (pre-roll 1 s, post-roll 1 s).
#[test]
fn frames_come_in_order_and_an_alarm_clip_holds_them_unchanged() {
    alarm_clip_from(H264);
}

/// The same from an H.265 camera: `Codec::H265` frames, VPS/SPS/PPS on
/// every keyframe, an `hvc1` MP4 whose samples are the ingested bytes.
#[test]
fn an_h265_camera_gives_h265_frames_and_an_alarm_clip_holds_them_unchanged() {
    alarm_clip_from(H265);
}

fn alarm_clip_from(codec: CameraCodec) {
    let camera = Camera::start_with(codec, &[]);
    let rt = runtime();
    let (ingest, mut events) = Ingest::start(IngestConfig::new(&camera.url)).unwrap();
    let second = SignedDuration::from_secs(1);
    let rules = ClipRules::new(second, second, SignedDuration::from_secs(10)).unwrap();
    let mut plan = ClipPlan::new(rules, RingLimits::new(second, 16 << 20).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");

    let mut frames: Vec<Frame> = Vec::new();
    let mut clip_frames: Vec<Frame> = Vec::new();
    let mut writer: Option<ClipWriter> = None;
    let mut written = None;
    let mut alarm_at = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while written.is_none() {
        assert!(Instant::now() < deadline, "no clip after 15 s");
        let event = next(&rt, &mut events, Duration::from_secs(5)).expect("frames keep coming");
        let IngestEvent::Frame(frame) = event else {
            panic!("unexpected {event:?}");
        };
        frames.push(frame.clone());
        plan.frame(frame.clone());
        let first = frames[0].captured_at();
        if alarm_at.is_none() && frame.captured_at().duration_since(first) >= second * 2 {
            let at = Timestamp::now();
            alarm_at = Some(at);
            plan.alarm(EventId::v7(at, [7; 10]), at);
        }
        while let Some(action) = plan.poll_action() {
            match action {
                Action::Start(start) => {
                    clip_frames.extend(start.frames.iter().cloned());
                    writer = Some(ClipWriter::start(&path, &start.frames).unwrap());
                }
                Action::Append(frame) => {
                    clip_frames.push(frame.clone());
                    writer.as_mut().unwrap().append(&frame).unwrap();
                }
                Action::Finish(reason) => {
                    println!("clip finished: {reason:?}");
                    written = Some(writer.take().unwrap().finish().unwrap());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let started = Instant::now();
    drop(ingest);
    assert!(started.elapsed() < Duration::from_secs(3), "stopping hung");
    let written = written.unwrap();
    let alarm_at = alarm_at.unwrap();
    println!(
        "{} frames ingested, clip {} frames, {} bytes",
        frames.len(),
        written.frames,
        written.bytes
    );

    // Ingested frames: the camera's codec, instants increase, keyframes
    // every KEYINT frames with parameter sets, and every payload is
    // length-prefixed NAL units (4-byte lengths).
    assert!(
        frames.iter().all(|f| f.codec() == codec.codec),
        "{codec:?}: {frames:?}"
    );
    for pair in frames.windows(2) {
        assert!(pair[0].captured_at() <= pair[1].captured_at(), "{pair:?}");
    }
    let keys: Vec<usize> = (0..frames.len()).filter(|&i| frames[i].is_key()).collect();
    assert!(keys.len() >= 3, "keyframes at {keys:?}");
    for pair in keys.windows(2) {
        assert_eq!(pair[1] - pair[0], KEYINT, "keyframes at {keys:?}");
    }
    for &k in &keys {
        assert!(
            parameter_sets_fit(codec.codec, frames[k].parameter_sets()),
            "{:?}: {:?}",
            frames[k],
            frames[k].parameter_sets()
        );
    }
    for frame in &frames {
        let data = frame.data();
        let mut at = 0;
        while at < data.len() {
            let len = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
            at += 4 + len;
        }
        assert_eq!(at, data.len(), "not length-prefixed: {frame:?}");
    }
    let span = frames
        .last()
        .unwrap()
        .captured_at()
        .duration_since(frames[0].captured_at());
    let rate = (frames.len() - 1) as f64 / span.as_secs_f64();
    assert!(
        (rate - f64::from(FPS)).abs() < 1.5,
        "{rate} frames per second"
    );

    // The clip, by its instants on the unit's clock.
    let pre = rules.pre_roll();
    let post = rules.post_roll();
    let key_interval = SignedDuration::from_secs(1);
    let frame_interval = SignedDuration::from_millis(1000 / i64::from(FPS));
    let first = &clip_frames[0];
    let last = clip_frames.last().unwrap();
    assert!(first.is_key());
    assert!(first.captured_at() <= alarm_at - pre);
    assert!(first.captured_at() > alarm_at - pre - key_interval);
    assert!(last.captured_at() >= alarm_at + post);
    assert_eq!(written.frames, clip_frames.len() as u64);
    assert_eq!(written.path, path);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), written.bytes);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "a partial file was left"
    );

    // ffprobe: the camera's codec in its sample entry, pre + post long,
    // within a keyframe interval + a frame.
    let probe = output(
        Command::new("ffprobe")
            .args(["-v", "error", "-of", "json"])
            .args([
                "-show_entries",
                "stream=codec_name,codec_tag_string,profile,width,height,nb_frames:format=duration",
            ])
            .arg(&path),
        Duration::from_secs(10),
    );
    let probe: serde_json::Value = serde_json::from_slice(&probe).unwrap();
    println!("ffprobe: {probe}");
    assert_eq!(probe["streams"][0]["codec_name"], codec.ffprobe, "{probe}");
    assert_eq!(
        probe["streams"][0]["codec_tag_string"], codec.sample_entry,
        "{probe}"
    );
    assert_eq!(probe["streams"][0]["width"], WIDTH, "{probe}");
    assert_eq!(probe["streams"][0]["height"], HEIGHT, "{probe}");
    assert_eq!(
        probe["streams"][0]["nb_frames"],
        clip_frames.len().to_string(),
        "{probe}"
    );
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let nominal = (pre + post).as_secs_f64();
    let slack = (key_interval + frame_interval).as_secs_f64() + 0.05;
    assert!(
        duration >= nominal - 0.01 && duration <= nominal + slack,
        "duration {duration} s, expected {nominal} s + up to {slack} s"
    );

    // FFmpeg decodes it; the stamps say which instants it covers.
    let gray = output(
        Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&path)
            .args([
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "gray",
                "-",
            ]),
        Duration::from_secs(20),
    );
    let plane = WIDTH * HEIGHT;
    assert_eq!(gray.len(), plane * clip_frames.len(), "decoded frame count");
    let read = |i: usize| {
        stamp::read(&gray[i * plane..(i + 1) * plane], WIDTH, WIDTH, HEIGHT)
            .unwrap_or_else(|| panic!("no stamp on decoded frame {i}"))
    };
    let first_stamp = read(0);
    let last_stamp = read(clip_frames.len() - 1);
    println!(
        "alarm {alarm_at}: clip from {first_stamp} (ingested {}) to {last_stamp} (ingested {})",
        first.captured_at(),
        last.captured_at()
    );
    assert_eq!(first_stamp.frame as usize % KEYINT, 0, "{first_stamp}");
    assert_eq!(
        (last_stamp.frame - first_stamp.frame) as usize,
        clip_frames.len() - 1,
        "frames missing from the clip"
    );
    for (stamped, frame) in [(first_stamp, first), (last_stamp, last)] {
        let delay = frame.captured_at().duration_since(stamp_at(stamped));
        assert!(
            delay >= SignedDuration::ZERO && delay <= INGEST_DELAY,
            "{stamped} ingested at {} ({delay:#} later)",
            frame.captured_at()
        );
    }
    assert!(stamp_at(first_stamp) <= alarm_at - pre);
    assert!(stamp_at(first_stamp) > alarm_at - pre - key_interval - INGEST_DELAY);
    assert!(stamp_at(last_stamp) >= alarm_at + post - INGEST_DELAY);

    // The sample entry's record holds the first keyframe's parameter sets.
    let file = std::fs::read(&path).unwrap();
    let record = codec_record(&file, codec.codec);
    println!("{} record: {}", codec.sample_entry, hex(record));
    let parsed = match codec.codec {
        Codec::H264 => picket_agent::video::ingest::parse_avcc(record).unwrap(),
        Codec::H265 => picket_agent::video::hvcc::parse_hvcc(record).unwrap(),
    };
    assert_eq!(Some(&parsed), first.parameter_sets());
    if let Some(ParameterSets::H265 { vps, sps, pps }) = first.parameter_sets() {
        let ours = picket_agent::video::hvcc::hvcc_record(vps, sps, pps).unwrap();
        assert_eq!(hex(record), hex(&ours), "the writer's own hvcC record");
    }
    // `hvc1` with complete arrays: parameter sets only in the sample entry,
    // none in the samples (the ingest's h265parse keeps them out).
    if codec.codec == Codec::H265 {
        for frame in &clip_frames {
            let types: Vec<u8> = nal_units(frame.data())
                .map(|nal| (nal[0] >> 1) & 0x3f)
                .collect();
            assert!(
                types.iter().all(|t| !(32..=34).contains(t)),
                "{frame:?} holds parameter sets: NAL types {types:?}"
            );
        }
    }

    // No re-encoding: the file's samples are the ingested access units.
    let samples = demux(&path, codec.caps);
    assert_eq!(samples.len(), clip_frames.len());
    for (i, ((bytes, key), frame)) in samples.iter().zip(&clip_frames).enumerate() {
        assert_eq!(*key, frame.is_key(), "sample {i}");
        assert!(
            bytes[..] == frame.data()[..],
            "sample {i} differs from {frame:?}"
        );
    }
}

/// A dropped camera is reported lost once; restored, it is reported back
/// once and frames come again.
#[test]
fn camera_loss_and_return_are_reported_once_each() {
    let camera = Camera::start(&[]);
    let rt = runtime();
    let mut config = IngestConfig::new(&camera.url);
    config.stall_timeout = Duration::from_secs(3);
    let (ingest, mut events) = Ingest::start(config).unwrap();
    let mut frames = 0;
    while frames < 10 {
        match next(&rt, &mut events, Duration::from_secs(10)) {
            Some(IngestEvent::Frame(_)) => frames += 1,
            other => panic!("before the drop: {other:?}"),
        }
    }
    camera.control("drop");
    let dropped = Instant::now();
    let reason = loop {
        match next(&rt, &mut events, Duration::from_secs(8)) {
            Some(IngestEvent::Frame(_)) => {}
            Some(IngestEvent::Lost(reason)) => break reason,
            other => panic!("after the drop: {other:?}"),
        }
    };
    println!("lost after {:?}: {reason}", dropped.elapsed());
    // Reconnect attempts fail while it is away, without further reports.
    assert_eq!(next(&rt, &mut events, Duration::from_secs(2)), None);
    camera.control("restore");
    let restored = Instant::now();
    assert_eq!(
        next(&rt, &mut events, Duration::from_secs(10)),
        Some(IngestEvent::Restored)
    );
    println!("restored after {:?}", restored.elapsed());
    for _ in 0..10 {
        match next(&rt, &mut events, Duration::from_secs(5)) {
            Some(IngestEvent::Frame(_)) => {}
            other => panic!("after the restore: {other:?}"),
        }
    }
    let stopping = Instant::now();
    drop(ingest);
    assert!(stopping.elapsed() < Duration::from_secs(3), "stopping hung");
    // Stopped: the channel closes after what was already sent.
    let mut left = 0;
    while let Some(event) = next(&rt, &mut events, Duration::from_secs(3)) {
        assert!(matches!(event, IngestEvent::Frame(_)), "{event:?}");
        left += 1;
        assert!(left <= 64, "events after the stop");
    }
}

/// A camera behind basic auth: credentials open it, none is camera loss.
#[test]
fn credentials_open_a_protected_camera() {
    let camera = Camera::start(&["--user", "unit", "--password", "s3cret"]);
    let rt = runtime();
    let mut config = IngestConfig::new(&camera.url);
    config.credentials = Some(Credentials {
        user: "unit".into(),
        password: "s3cret".into(),
    });
    assert!(!format!("{config:?}").contains("s3cret"), "{config:?}");
    let (with, mut events) = Ingest::start(config).unwrap();
    match next(&rt, &mut events, Duration::from_secs(10)) {
        Some(IngestEvent::Frame(_)) => {}
        other => panic!("with credentials: {other:?}"),
    }
    drop(with);
    let (without, mut events) = Ingest::start(IngestConfig::new(&camera.url)).unwrap();
    match next(&rt, &mut events, Duration::from_secs(10)) {
        Some(IngestEvent::Lost(reason)) => println!("without credentials: {reason}"),
        other => panic!("without credentials: {other:?}"),
    }
    drop(without);
}

#[test]
fn a_thumbnail_is_the_keyframe_as_jpeg_and_shows_its_instant() {
    thumbnail_from(H264);
}

#[test]
fn a_thumbnail_from_an_h265_keyframe_is_a_jpeg_and_shows_its_instant() {
    thumbnail_from(H265);
}

fn thumbnail_from(codec: CameraCodec) {
    use picket_agent::video::thumbnail::jpeg;
    let camera = Camera::start_with(codec, &[]);
    let rt = runtime();
    let (ingest, mut events) = Ingest::start(IngestConfig::new(&camera.url)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut delta = None;
    let mut key: Option<Frame> = None;
    while key.is_none() || delta.is_none() {
        assert!(
            Instant::now() < deadline,
            "no keyframe and delta frame in time"
        );
        if let Some(IngestEvent::Frame(f)) = next(&rt, &mut events, Duration::from_secs(5)) {
            if f.is_key() {
                key = Some(f);
            } else if key.is_some() {
                delta = Some(f);
            }
        }
    }
    let (key, delta) = (key.unwrap(), delta.unwrap());
    drop(ingest);
    assert_eq!((key.codec(), delta.codec()), (codec.codec, codec.codec));
    assert!(
        jpeg(&delta, 640, 85).is_err(),
        "a delta frame cannot stand alone"
    );

    // Full size: decode the JPEG and read the keyframe's stamp from it.
    let bytes = jpeg(&key, WIDTH as u32, 90).unwrap();
    assert_eq!(&bytes[..2], &[0xff, 0xd8], "a JPEG");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("thumb.jpg");
    std::fs::write(&file, &bytes).unwrap();
    let gray = output(
        Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&file)
            .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"]),
        Duration::from_secs(10),
    );
    assert_eq!(gray.len(), WIDTH * HEIGHT, "the picture's full size");
    let seen = stamp::read(&gray, WIDTH, WIDTH, HEIGHT).expect("a readable stamp");
    assert_eq!(
        seen.frame as usize % KEYINT,
        0,
        "the keyframe's own picture"
    );
    let late = key.captured_at().duration_since(stamp_at(seen));
    assert!(
        late >= SignedDuration::ZERO && late <= INGEST_DELAY,
        "captured {late:?} after the stamped instant"
    );

    // Small: scaled down to at most 160 px wide, aspect kept.
    let small = jpeg(&key, 160, 80).unwrap();
    let small_file = dir.path().join("small.jpg");
    std::fs::write(&small_file, &small).unwrap();
    let probe = String::from_utf8(output(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=width,height",
                "-of",
                "csv=p=0",
            ])
            .arg(&small_file),
        Duration::from_secs(10),
    ))
    .unwrap();
    assert_eq!(probe.trim(), "160,90", "{probe}");
    assert!(small.len() < bytes.len());
}

#[test]
fn a_recorder_writes_and_indexes_an_alarms_thumbnail_and_clip() {
    use picket_agent::clips::quota::ClipState;
    use picket_agent::clips::recorder::{AlarmNotice, Recorder};
    use picket_agent::store::Store;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let camera = Camera::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("unit.db");
    drop(Store::open(&store_path).unwrap());
    let rules = ClipRules::new(
        SignedDuration::from_secs(1),
        SignedDuration::from_secs(1),
        SignedDuration::from_secs(10),
    )
    .unwrap();
    let plan = ClipPlan::new(
        rules,
        RingLimits::for_bitrate(SignedDuration::from_secs(1), 1_000_000).unwrap(),
    )
    .unwrap();
    let ready = Arc::new(AtomicUsize::new(0));
    let counter = ready.clone();
    let camera_id = picket_proto::ids::CameraId::from_uuid(uuid::Uuid::from_u128(0xca));
    let recorder = Recorder::spawn(
        camera_id,
        IngestConfig::new(&camera.url),
        plan,
        store_path.clone(),
        dir.path().join("clips"),
        Box::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .unwrap();
    // Let the ring fill past the pre-roll, then raise the alarm.
    std::thread::sleep(Duration::from_secs(2));
    let alarm = EventId::v7(Timestamp::now(), [1; 10]);
    recorder.alarm(AlarmNotice {
        event: alarm,
        at: Timestamp::now(),
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let rows = loop {
        let store = Store::open(&store_path).unwrap();
        let rows = store.clips_in(ClipState::Ready).unwrap();
        if rows.len() == 2 {
            break rows;
        }
        assert!(
            Instant::now() < deadline,
            "no thumbnail and clip in time: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(recorder);
    assert_eq!(ready.load(Ordering::SeqCst), 2);
    assert_eq!(
        rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
        ["thumbnail", "clip"],
        "the picture first"
    );
    assert!(
        rows.iter()
            .all(|r| r.event == alarm && r.camera == camera_id)
    );
    let clips = dir.path().join("clips");
    let jpeg = std::fs::read(clips.join(format!("{}.jpg", rows[0].id.simple()))).unwrap();
    assert_eq!(&jpeg[..2], &[0xff, 0xd8]);
    let mp4 = clips.join(format!("{}.mp4", rows[1].id.simple()));
    assert_eq!(std::fs::metadata(&mp4).unwrap().len(), rows[1].bytes);
    let codec = String::from_utf8(output(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
            ])
            .arg(&mp4),
        Duration::from_secs(10),
    ))
    .unwrap();
    assert_eq!(codec.trim(), "h264");
    let span = rows[1]
        .ended_at
        .unwrap()
        .duration_since(rows[1].started_at.unwrap());
    assert!(
        span >= SignedDuration::from_millis(1800) && span <= SignedDuration::from_secs(4),
        "pre + post, from the keyframe before: {span:?}"
    );
}
