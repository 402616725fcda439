//! Event clips end to end with the real binaries: `picket-sim camera`
//! serves an RTSP camera, `picket-agent run` records it (camera in its
//! agent.toml) and uploads to `picket-hub serve`'s units' HTTPS; a PIR
//! while armed becomes an alarm at the hub with its thumbnail and a clip
//! of pre-roll + post-roll (the hub's defaults: 10 s + 20 s) that ffprobe
//! accepts; and with the hub down for the whole alarm the clip waits on the
//! unit and arrives, byte for byte, when the hub returns.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_proto::message::EventKind;
use picket_tests::cluster::{Cluster, binary, free_port, wait_for};

struct Camera(Child);

impl Drop for Camera {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A simulated camera; its URL.
fn camera() -> (Camera, String) {
    let mut child = Command::new(binary("picket-sim"))
        .args(["camera", "--listen", "127.0.0.1:0", "--no-clock-overlay"])
        .args(["--camera", "cam:640x360@15,keyint=15"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("picket-sim camera");
    let stdout = child.stdout.take().expect("stdout");
    let mut url = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(at) = line.find("rtsp://") {
            url = line[at..].split_whitespace().next().map(str::to_owned);
        }
        if line.starts_with("serving") && url.is_some() {
            break;
        }
    }
    (Camera(child), url.expect("the camera's URL"))
}

/// A cluster whose unit 0 records the camera at `url` and uploads to the
/// hub's units' HTTPS; armed and synced.
fn recording_cluster(url: &str) -> Cluster {
    let mut c = Cluster::start(1);
    let https = free_port();
    c.reconfigure_hub(&format!("[clips]\nlisten = \"127.0.0.1:{https}\"\n"));
    let toml = c.dir.path().join("unit0/agent.toml");
    let text = std::fs::read_to_string(&toml).expect("agent.toml");
    let text = text.replace(
        "https = \"https://127.0.0.1:8443\"",
        &format!("https = \"https://localhost:{https}\""),
    );
    std::fs::write(
        &toml,
        format!("{text}\n[[camera]]\nid = \"019abcde00017000800000000000c001\"\nurl = \"{url}\"\n"),
    )
    .expect("agent.toml");
    c.site_with_schedule(&["00:00-24:00"]);
    c.start_agent(0);
    c.wait_synced(0, "armed");
    c
}

#[test]
fn an_alarm_reaches_the_hub_with_its_thumbnail_and_a_clip_of_pre_and_post_roll() {
    let (_camera, url) = camera();
    let c = recording_cluster(&url);
    // Let the ring hold its 10 s of pre-roll.
    std::thread::sleep(Duration::from_secs(11));
    let raised = Instant::now();
    assert!(c.trigger(0, "pir"));
    let alarm = wait_for("the alarm at the hub", Duration::from_secs(30), || {
        c.hub_store()
            .events(c.units[0], 1_000)
            .ok()?
            .into_iter()
            .find(|r| matches!(r.event.kind, EventKind::Alarm { .. }))
            .map(|r| r.event.id)
    });
    let thumbnail = wait_for("the thumbnail at the hub", Duration::from_secs(10), || {
        c.hub_store()
            .clips_of_event(alarm)
            .ok()?
            .into_iter()
            .find(|r| r.declared.kind == picket_hub::clips::upload::ClipKind::Thumbnail)
    });
    let thumb_after = raised.elapsed();
    let clip = wait_for("the clip at the hub", Duration::from_secs(60), || {
        c.hub_store()
            .clips_of_event(alarm)
            .ok()?
            .into_iter()
            .find(|r| r.declared.kind == picket_hub::clips::upload::ClipKind::Clip)
    });
    println!(
        "thumbnail at the hub {thumb_after:?} after the PIR; clip {:?}",
        raised.elapsed()
    );
    let path = c
        .dir
        .path()
        .join("hub/data/clips")
        .join(format!("{}.mp4", clip.declared.id.simple()));
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .expect("ffprobe");
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let text = String::from_utf8_lossy(&probe.stdout);
    assert!(text.contains("h264"), "{text}");
    let duration: f64 = text
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next()
        .unwrap_or_else(|| panic!("no duration in {text}"));
    assert!(
        (28.0..=32.5).contains(&duration),
        "pre-roll 10 s + post-roll 20 s, from the keyframe before: {duration} s"
    );
    let jpeg = std::fs::read(
        c.dir
            .path()
            .join("hub/data/clips")
            .join(format!("{}.jpg", thumbnail.declared.id.simple())),
    )
    .expect("thumbnail file");
    assert_eq!(&jpeg[..2], &[0xff, 0xd8]);
}

#[test]
fn with_the_hub_down_for_the_whole_alarm_the_clip_waits_on_the_unit_and_arrives_when_it_returns() {
    use picket_agent::clips::quota::ClipState;
    let (_camera, url) = camera();
    let mut c = recording_cluster(&url);
    std::thread::sleep(Duration::from_secs(3));
    c.hub.as_mut().expect("hub").kill9();
    assert!(c.trigger(0, "pir"));
    // The clip is written and kept on the unit (post-roll 20 s).
    let unit_db = c.dir.path().join("unit0/data/unit.db");
    let kept = wait_for(
        "the clip ready on the unit",
        Duration::from_secs(60),
        || {
            let store = picket_agent::store::Store::open(&unit_db).ok()?;
            store
                .clips_in(ClipState::Ready)
                .ok()?
                .into_iter()
                .find(|r| r.kind == "clip")
        },
    );
    let file = c
        .dir
        .path()
        .join("unit0/data/clips")
        .join(format!("{}.mp4", kept.id.simple()));
    assert!(file.exists(), "kept on the unit until the hub has it");
    c.start_hub();
    let at_hub = wait_for(
        "the clip at the hub after it returned",
        Duration::from_secs(120),
        || {
            c.hub_store()
                .clips_of_event(kept.event)
                .ok()?
                .into_iter()
                .find(|r| r.declared.id == kept.id)
        },
    );
    assert_eq!(at_hub.declared.size, kept.bytes);
    let stored = std::fs::read(
        c.dir
            .path()
            .join("hub/data/clips")
            .join(format!("{}.mp4", kept.id.simple())),
    )
    .expect("the clip at the hub");
    assert_eq!(std::fs::read(&file).ok(), Some(stored), "the same bytes");
    wait_for(
        "the unit to mark it uploaded",
        Duration::from_secs(10),
        || {
            let store = picket_agent::store::Store::open(&unit_db).ok()?;
            store
                .clips_in(ClipState::Uploaded)
                .ok()?
                .into_iter()
                .find(|r| r.id == kept.id)
        },
    );
}
