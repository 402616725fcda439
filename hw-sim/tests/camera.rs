//! Simulated RTSP cameras over real RTSP on loopback, read back with real
//! GStreamer and FFmpeg: stream parameters, stamps (frame numbers, capture
//! instants, keyframe positions), several cameras at once, drop/restore
//! through the control socket, and refused flags.
//!
//! Every wait is bounded by a deadline; no sleep stands in for a check.

mod support {
    pub mod camera;
}

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use picket_sim::camera::stamp::Stamp;
use picket_sim::camera::{CameraServer, CameraSpec, Codec, Credentials, ServerConfig};
use support::camera::{FfmpegReader, Frame, Killed, Reader, ffprobe, run_bounded, unix_ms_now};

const BIN: &str = env!("CARGO_BIN_EXE_picket-sim");

fn start(cameras: &[&str], credentials: Option<Credentials>) -> CameraServer {
    CameraServer::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        cameras: cameras.iter().map(|c| c.parse().unwrap()).collect(),
        credentials,
        clock_overlay: true,
    })
    .unwrap()
}

fn url(server: &CameraServer, camera: &str) -> String {
    server.url(&camera.parse().unwrap())
}

fn assert_probe(url: &str, codec: &str, width: u64, height: u64, fps: &str) {
    let stream = ffprobe(url).unwrap_or_else(|e| panic!("ffprobe {url}: {e}"));
    assert_eq!(stream["codec_name"], codec, "{stream}");
    assert_eq!(stream["width"], width, "{stream}");
    assert_eq!(stream["height"], height, "{stream}");
    assert_eq!(stream["r_frame_rate"], fps, "{stream}");
}

/// Frame numbers go up by one, instants by 1/fps (to the millisecond
/// rounding), every instant is under a second before the frame arrived,
/// and keyframes are exactly the frames numbered a multiple of `keyint`.
fn assert_stamps(frames: &[Frame], spec: &CameraSpec) {
    let stamps: Vec<Stamp> = frames.iter().map(|f| f.stamp.unwrap()).collect();
    let interval = 1000.0 / f64::from(spec.fps);
    for pair in stamps.windows(2) {
        assert_eq!(pair[1].frame, pair[0].frame + 1, "{pair:?}");
        let step = pair[1].unix_ms as f64 - pair[0].unix_ms as f64;
        assert!(
            (step - interval).abs() <= 2.0,
            "{}: frames {pair:?} are {step} ms apart, not {interval}",
            spec.name
        );
    }
    for frame in frames {
        let stamped = frame.stamp.unwrap();
        let age = frame.received_ms as i64 - stamped.unix_ms as i64;
        assert!(
            (-5..1000).contains(&age),
            "{}: {stamped} arrived {age} ms after its instant",
            spec.name
        );
        let keyframe = frame
            .keyframe
            .unwrap_or_else(|| panic!("no parser flags for {stamped}"));
        assert_eq!(
            keyframe,
            stamped.frame % spec.keyint == 0,
            "{}: {stamped}, keyint {}",
            spec.name,
            spec.keyint
        );
    }
}

// ------------------------------------------------------------------- tests

#[test]
fn ffprobe_sees_the_configured_stream() {
    let server = start(&["north:640x360@15,bitrate=600"], None);
    assert_probe(&url(&server, "north"), "h264", 640, 360, "15/1");
    let stream = ffprobe(&url(&server, "north")).unwrap();
    assert_eq!(stream["profile"], "Constrained Baseline", "{stream}");
    // An unknown path is refused.
    let err = ffprobe(&url(&server, "nowhere")).unwrap_err();
    assert!(err.contains("404"), "{err}");
    server.shutdown();
}

#[test]
fn with_credentials_only_authenticated_clients_get_the_stream() {
    let server = start(
        &["north:320x240@10,bitrate=200"],
        Some(Credentials {
            user: "unit".into(),
            password: "s3cret".into(),
        }),
    );
    let address = server.address();
    assert_probe(
        &format!("rtsp://unit:s3cret@{address}/north"),
        "h264",
        320,
        240,
        "10/1",
    );
    for wrong in [
        format!("rtsp://{address}/north"),
        format!("rtsp://unit:guess@{address}/north"),
    ] {
        let err = ffprobe(&wrong).unwrap_err();
        assert!(err.contains("401"), "{wrong}: {err}");
    }
}

#[test]
fn stamps_count_frames_follow_the_wall_clock_and_keyframes_come_every_keyint() {
    let spec: CameraSpec = "north:640x360@15,bitrate=500,keyint=10".parse().unwrap();
    let server = start(&[&spec.to_string()], None);
    let reader = Reader::open(&url(&server, "north"), Codec::H264);
    // About two seconds of frames.
    let frames = reader.stamped_frames(30, Duration::from_secs(15));
    assert_stamps(&frames, &spec);
    let keyframes = frames.iter().filter(|f| f.keyframe == Some(true)).count();
    assert!(keyframes >= 2, "{keyframes} keyframes in 30 frames");
    // FFmpeg, joining the running camera, decodes every frame too.
    let ffmpeg = FfmpegReader::start(&url(&server, "north"), 640, 360);
    assert_consecutive(&ffmpeg.stamped_frames(20, Duration::from_secs(15)), 15);
    // The stamp is where the picture starts: the instants are now.
    let first = frames[0].stamp.unwrap();
    let now = unix_ms_now();
    assert!(now.abs_diff(first.unix_ms) < 15_000, "{first} vs now {now}");
}

#[test]
fn two_cameras_with_different_settings_serve_at_once() {
    let east: CameraSpec = "east:320x240@10,bitrate=200,keyint=5".parse().unwrap();
    let west: CameraSpec = "west:480x272@20,bitrate=400,keyint=20,codec=h265"
        .parse()
        .unwrap();
    let server = start(&[&east.to_string(), &west.to_string()], None);
    assert_probe(&url(&server, "east"), "h264", 320, 240, "10/1");
    assert_probe(&url(&server, "west"), "hevc", 480, 272, "20/1");
    // Both read at once; a second client of east shares its pipeline (the
    // same frame numbers at the same instants).
    let east_reader = Reader::open(&url(&server, "east"), Codec::H264);
    let west_reader = Reader::open(&url(&server, "west"), Codec::H265);
    let east_again = Reader::open(&url(&server, "east"), Codec::H264);
    let west_frames = west_reader.stamped_frames(20, Duration::from_secs(15));
    let east_frames = east_reader.stamped_frames(10, Duration::from_secs(15));
    let again_frames = east_again.stamped_frames(10, Duration::from_secs(15));
    assert_stamps(&east_frames, &east);
    assert_stamps(&west_frames, &west);
    assert_stamps(&again_frames, &east);
    let instants: HashMap<u32, u64> = east_frames
        .iter()
        .map(|f| (f.stamp.unwrap().frame, f.stamp.unwrap().unix_ms))
        .collect();
    let shared = again_frames
        .iter()
        .filter_map(|f| f.stamp)
        .filter(|s| instants.get(&s.frame) == Some(&s.unix_ms))
        .count();
    assert!(
        shared > 0,
        "the two clients of east saw different pipelines"
    );
    // FFmpeg decodes every H.265 frame too.
    let ffmpeg = FfmpegReader::start(&url(&server, "west"), 480, 272);
    assert_consecutive(&ffmpeg.stamped_frames(10, Duration::from_secs(15)), 20);
}

/// The whole command: URLs printed, a reading client (FFmpeg) cut off by a
/// drop through `camera-control`, new clients refused until the restore,
/// then a fresh pipeline; SIGTERM stops it and removes the socket.
#[test]
fn drop_cuts_the_stream_and_refuses_clients_until_restore() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("cams.sock");
    let mut server = Killed(
        Command::new(BIN)
            .args(["camera", "--listen", "127.0.0.1:0"])
            .args(["--camera", "north:320x240@10,bitrate=300,keyint=10"])
            .args(["--camera", "south:320x240@5,bitrate=200"])
            .arg("--control")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let urls = printed_urls(server.0.stdout.take().unwrap());
    let north = urls["north"].clone();
    let south = urls["south"].clone();
    assert!(socket.exists());

    let mut ffmpeg = FfmpegReader::start(&north, 320, 240);
    let stamps = ffmpeg.stamped_frames(5, Duration::from_secs(15));
    assert_consecutive(&stamps, 10);
    // FFmpeg buffers while it probes the stream: its frames come late.
    assert!(
        stamps[0].unix_ms.abs_diff(unix_ms_now()) < 10_000,
        "{stamps:?}"
    );
    let south_reader = Reader::open(&south, Codec::H264);
    south_reader.stamped_frames(2, Duration::from_secs(15));

    camera_control(&socket, "--drop", "north").unwrap();
    // The reading client's stream ends within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ffmpeg.stamps.recv_timeout(left) {
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("FFmpeg still reads after the drop"),
        }
    }
    ffmpeg.process.wait_exit(Duration::from_secs(5));
    // New clients are refused; the other camera is untouched.
    let err = ffprobe(&north).unwrap_err();
    assert!(err.contains("404"), "{err}");
    south_reader.stamped_frames(2, Duration::from_secs(5));
    // Dropping again is fine; an unknown camera is not.
    camera_control(&socket, "--drop", "north").unwrap();
    let err = camera_control(&socket, "--drop", "nowhere").unwrap_err();
    assert!(err.contains("unknown camera \"nowhere\""), "{err}");

    camera_control(&socket, "--restore", "north").unwrap();
    let reader = Reader::open(&north, Codec::H264);
    let frames = reader.stamped_frames(5, Duration::from_secs(15));
    let spec: CameraSpec = "north:320x240@10,bitrate=300,keyint=10".parse().unwrap();
    assert_stamps(&frames, &spec);
    // A fresh pipeline counts from 0 again.
    assert!(frames[0].stamp.unwrap().frame < 50, "{:?}", frames[0]);

    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "the control socket is removed on exit");
    // And its clients' streams end.
    reader.wait_end(Duration::from_secs(5));
}

/// Reads the `camera NAME: rtsp://...` lines `picket-sim camera` prints,
/// up to "serving".
fn printed_urls(stdout: impl Read + Send + 'static) -> HashMap<String, String> {
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut urls = HashMap::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("picket-sim camera prints its URLs");
        if line.starts_with("serving") {
            return urls;
        }
        if let Some(rest) = line.strip_prefix("camera ") {
            let (name, rest) = rest.split_once(": ").unwrap();
            let url = rest.split_whitespace().next().unwrap();
            let address: SocketAddr = url
                .strip_prefix("rtsp://")
                .and_then(|u| u.split('/').next())
                .unwrap()
                .parse()
                .unwrap();
            assert_ne!(address.port(), 0, "{line}");
            urls.insert(name.to_owned(), url.to_owned());
        }
    }
}

fn camera_control(socket: &Path, action: &str, camera: &str) -> Result<String, String> {
    let output = run_bounded(
        Command::new(BIN)
            .args(["camera-control", "--socket"])
            .arg(socket)
            .args([action, camera])
            .env("RUST_BACKTRACE", "0"),
        Duration::from_secs(15),
    );
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Stamps as FFmpeg read them: consecutive frames, 1/fps apart.
fn assert_consecutive(stamps: &[Stamp], fps: u32) {
    let interval = 1000.0 / f64::from(fps);
    for pair in stamps.windows(2) {
        assert_eq!(pair[1].frame, pair[0].frame + 1, "{pair:?}");
        let step = pair[1].unix_ms as f64 - pair[0].unix_ms as f64;
        assert!((step - interval).abs() <= 2.0, "{pair:?}: {step} ms apart");
    }
}

#[test]
fn bad_flags_are_refused_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--camera", "north,codec=vp8"],
            "unknown codec \"vp8\": use h264 or h265",
        ),
        (&["--camera", "north@0"], "fps 0 is out of range 1-60"),
        (
            &["--camera", "north", "--camera", "north:320x240"],
            "camera name \"north\" is given twice",
        ),
        (
            &["--camera", "north:641x360"],
            "width 641 is odd: 4:2:0 video needs an even width",
        ),
        (
            &["--camera", "north:320x100"],
            "height 100 is out of range 128-2160",
        ),
        (&["--camera", "no/rth"], "camera name \"no/rth\" is not"),
        (&["--camera", "north", "--user", "admin"], "--password"),
        (&[], "--camera <SPEC>"),
    ];
    for (args, message) in cases {
        let output = run_bounded(
            Command::new(BIN)
                .args(["camera", "--listen", "127.0.0.1:0"])
                .args(*args)
                .env("RUST_BACKTRACE", "0"),
            Duration::from_secs(10),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} started serving");
    }
    let output = run_bounded(
        Command::new(BIN).args([
            "camera-control",
            "--socket",
            "/nonexistent",
            "--drop",
            "a",
            "--restore",
            "a",
        ]),
        Duration::from_secs(10),
    );
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot be used with"),
        "{output:?}"
    );
}
