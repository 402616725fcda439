//! Simulated cameras for the end-to-end clip tests: `picket-sim camera`
//! as a child process (real RTSP on loopback, stamped frames), a cluster
//! whose unit 0 records them, and reading which instants a clip at the hub
//! covers by decoding its first and last frames' stamps.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use picket_hub::clips::upload::ClipKind;
use picket_hub::store::ClipRow;
use picket_proto::ids::EventId;
use picket_proto::message::EventKind;
use picket_sim::camera::stamp;

use crate::cluster::{Cluster, SITE, binary, free_port};

/// `picket-sim camera` serving some cameras, killed when dropped.
#[derive(Debug)]
pub struct SimCameras {
    child: Child,
    urls: Vec<(String, String)>,
    control: PathBuf,
    _dir: tempfile::TempDir,
}

impl SimCameras {
    /// Serves `specs` (`NAME:WxH@FPS,keyint=N,...`, see `picket-sim camera
    /// --help`) with a control socket for dropping and restoring them.
    pub fn start(specs: &[&str]) -> SimCameras {
        let dir = tempfile::tempdir().expect("tempdir");
        let control = dir.path().join("cameras.sock");
        let mut cmd = Command::new(binary("picket-sim"));
        cmd.args(["camera", "--listen", "127.0.0.1:0", "--no-clock-overlay"])
            .arg("--control")
            .arg(&control);
        for spec in specs {
            cmd.args(["--camera", spec]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("picket-sim camera");
        let stdout = child.stdout.take().expect("stdout");
        let mut urls = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // "camera NAME: rtsp://… (…)"
            if let (Some(name), Some(at)) = (
                line.strip_prefix("camera ")
                    .and_then(|l| l.split(':').next()),
                line.find("rtsp://"),
            ) {
                let url = line[at..].split_whitespace().next().unwrap_or_default();
                urls.push((name.to_owned(), url.to_owned()));
            }
            if line.starts_with("serving") || Instant::now() > deadline {
                break;
            }
        }
        assert_eq!(urls.len(), specs.len(), "every camera's URL: {urls:?}");
        SimCameras {
            child,
            urls,
            control,
            _dir: dir,
        }
    }

    /// The RTSP URL of camera `name`.
    pub fn url(&self, name: &str) -> &str {
        self.urls
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, u)| u.as_str())
            .unwrap_or_else(|| panic!("no camera {name} in {:?}", self.urls))
    }

    /// Cuts camera `name`'s stream (`restore: false`) or serves it again.
    pub fn set_serving(&self, name: &str, serving: bool) {
        let ok = Command::new(binary("picket-sim"))
            .arg("camera-control")
            .arg("--socket")
            .arg(&self.control)
            .args([if serving { "--restore" } else { "--drop" }, name])
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "camera-control for {name}");
    }
}

impl Drop for SimCameras {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A cluster whose unit 0 records `cameras` (id, RTSP URL) and uploads to
/// the hub's units' HTTPS; its site armed around the clock, with `clips`
/// (`{"pre_roll_s", "post_roll_s", "max_clip_s"}`) if given; `agent_toml`
/// appended to the unit's agent.toml (e.g. a `[clips]` section); synced.
pub fn recording_cluster(
    cameras: &[(&str, &str)],
    clips: Option<serde_json::Value>,
    agent_toml: &str,
) -> Cluster {
    let mut c = Cluster::start(1);
    let https = free_port();
    c.reconfigure_hub(&format!("[clips]\nlisten = \"127.0.0.1:{https}\"\n"));
    let toml = c.dir.path().join("unit0/agent.toml");
    let text = std::fs::read_to_string(&toml).expect("agent.toml");
    let mut text = text.replace(
        "https = \"https://127.0.0.1:8443\"",
        &format!("https = \"https://localhost:{https}\""),
    );
    for (id, url) in cameras {
        text.push_str(&format!("\n[[camera]]\nid = \"{id}\"\nurl = \"{url}\"\n"));
    }
    text.push('\n');
    text.push_str(agent_toml);
    std::fs::write(&toml, text).expect("agent.toml");
    c.site_with_schedule(&["00:00-24:00"]);
    if let Some(clips) = clips {
        c.api(
            "PUT",
            &format!("/api/v1/sites/{SITE}/clip-settings"),
            Some(clips),
        );
    }
    c.start_agent(0);
    c.wait_synced(0, "armed");
    c
}

/// The stamped capture instants of a clip's first and last frames, and
/// how many frames it has (decoded to grey with `ffmpeg`).
pub fn clip_window(path: &Path, width: usize, height: usize) -> (Timestamp, Timestamp, usize) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg decodes {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let plane = width * height;
    let frames = out.stdout.len() / plane;
    assert!(frames > 0, "{} has frames", path.display());
    let at = |n: usize| {
        let s = stamp::read(
            &out.stdout[n * plane..(n + 1) * plane],
            width,
            width,
            height,
        )
        .unwrap_or_else(|| panic!("frame {n} of {} has a stamp", path.display()));
        Timestamp::from_millisecond(s.unix_ms as i64).expect("a stamp's instant")
    };
    (at(0), at(frames - 1), frames)
}

/// `ffprobe`'s codec name and duration (seconds) of a file's video.
pub fn probe(path: &Path) -> (String, f64) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name:format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success(),
        "ffprobe accepts {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let codec = lines.next().unwrap_or_default().to_owned();
    let duration = lines
        .filter_map(|l| l.parse().ok())
        .next()
        .unwrap_or_else(|| panic!("no duration in {text}"));
    (codec, duration)
}

/// The first alarm of unit 0 at the hub: its id and instant (unit clock).
pub fn first_alarm(c: &Cluster, timeout: Duration) -> (EventId, Timestamp) {
    crate::cluster::wait_for("the alarm at the hub", timeout, || {
        c.hub_store()
            .events(c.units[0], 1_000)
            .ok()?
            .into_iter()
            .filter(|r| matches!(r.event.kind, EventKind::Alarm { .. }))
            .min_by_key(|r| r.event.seq)
            .map(|r| (r.event.id, r.event.at))
    })
}

/// Waits for the complete clip (or thumbnail) of `alarm` from `camera` at
/// the hub.
pub fn clip_at_hub(
    c: &Cluster,
    alarm: EventId,
    camera: &str,
    kind: ClipKind,
    timeout: Duration,
) -> ClipRow {
    crate::cluster::wait_for(
        &format!("the {kind:?} of camera {camera} at the hub"),
        timeout,
        || {
            c.hub_store()
                .clips_of_event(alarm)
                .ok()?
                .into_iter()
                .find(|r| r.declared.kind == kind && r.declared.camera.to_string() == camera)
        },
    )
}

/// Where the hub keeps a clip's bytes.
pub fn hub_file(c: &Cluster, clip: &ClipRow) -> PathBuf {
    c.dir.path().join("hub/data/clips").join(format!(
        "{}.{}",
        clip.declared.id.simple(),
        clip.declared.kind.extension()
    ))
}
