//! Event clips end to end with the real binaries: `picket-sim camera`
//! serves two RTSP cameras, `picket-agent run` records them (cameras in its
//! agent.toml, clip settings from the site at the hub) and uploads to
//! `picket-hub serve`'s units' HTTPS. A PIR while armed becomes an alarm
//! at the hub with a thumbnail and a clip per camera; each clip is what
//! ffprobe accepts, in the camera's codec, pre + post long within one
//! keyframe interval, and its first and last frames' burned-in stamps show
//! the window around the alarm. With the hub down for the whole alarm the
//! clip waits on the unit and arrives, byte for byte, when the hub
//! returns.

use std::time::{Duration, Instant};

use jiff::SignedDuration;
use picket_hub::clips::upload::ClipKind;
use picket_tests::cameras::{
    SimCameras, clip_at_hub, clip_window, first_alarm, hub_file, probe, recording_cluster,
};
use picket_tests::cluster::wait_for;

const NORTH: &str = "019abcde00017000800000000000c001";
const GATE: &str = "019abcde00017000800000000000c002";
const PRE: i64 = 4;
const POST: i64 = 6;
/// Frame interval (15 fps) and the longer keyframe interval (the gate's).
const FRAME_MS: i64 = 67;
const KEYINT_MS: i64 = 2_000;
/// Frames are placed on the unit's clock when they arrive; the stamp is the
/// capture instant, this much earlier at most (measured ~90 ms).
const ARRIVAL_MS: i64 = 400;

fn clip_settings() -> serde_json::Value {
    serde_json::json!({ "pre_roll_s": PRE, "post_roll_s": POST, "max_clip_s": 60 })
}

#[test]
fn an_alarm_brings_each_cameras_thumbnail_and_a_clip_of_the_window_around_it() {
    let cams = SimCameras::start(&[
        "north:320x240@15,keyint=15,bitrate=400",
        "gate:320x240@15,keyint=30,bitrate=400,codec=h265",
    ]);
    let c = recording_cluster(
        &[(NORTH, cams.url("north")), (GATE, cams.url("gate"))],
        Some(clip_settings()),
        "",
    );
    // Let the rings hold their pre-roll.
    std::thread::sleep(Duration::from_secs(PRE as u64 + 2));
    let raised = Instant::now();
    assert!(c.trigger(0, "pir"));
    let (alarm, at) = first_alarm(&c, Duration::from_secs(30));
    for camera in [NORTH, GATE] {
        let thumb = clip_at_hub(
            &c,
            alarm,
            camera,
            ClipKind::Thumbnail,
            Duration::from_secs(10),
        );
        let jpeg = std::fs::read(hub_file(&c, &thumb)).expect("thumbnail file");
        assert_eq!(&jpeg[..2], &[0xff, 0xd8], "a JPEG");
    }
    let thumbs_after = raised.elapsed();
    for (camera, keyint_ms, expected) in [(NORTH, 1_000, "h264"), (GATE, KEYINT_MS, "hevc")] {
        let clip = clip_at_hub(&c, alarm, camera, ClipKind::Clip, Duration::from_secs(60));
        let path = hub_file(&c, &clip);
        let (codec, duration) = probe(&path);
        assert_eq!(codec, expected, "{camera}: the camera's codec");
        let window = (PRE + POST) as f64;
        assert!(
            duration >= window - 0.2 && duration <= window + (keyint_ms + FRAME_MS) as f64 / 1e3,
            "{camera}: pre {PRE} s + post {POST} s within one keyframe interval: {duration} s"
        );
        let (first, last, frames) = clip_window(&path, 320, 240);
        let start = at - SignedDuration::from_secs(PRE);
        let end = at + SignedDuration::from_secs(POST);
        assert!(
            first <= start && first >= start - SignedDuration::from_millis(keyint_ms + ARRIVAL_MS),
            "{camera}: the first frame is the keyframe before alarm − pre-roll ({start}): {first}"
        );
        assert!(
            last >= end - SignedDuration::from_millis(ARRIVAL_MS)
                && last <= end + SignedDuration::from_millis(FRAME_MS + ARRIVAL_MS),
            "{camera}: the last frame is the one at alarm + post-roll ({end}): {last}"
        );
        println!(
            "{camera}: {frames} frames, {duration:.2} s, stamps {first} .. {last} around the alarm at {at}"
        );
    }
    println!(
        "both thumbnails at the hub {thumbs_after:?} after the PIR; both clips {:?} after it",
        raised.elapsed()
    );
    // On the unit: only finished files (no journal, partial or muxer
    // temporary file is left behind).
    let mut names: Vec<String> = std::fs::read_dir(c.dir.path().join("unit0/data/clips"))
        .expect("the unit's clips")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with('.') && (n.ends_with(".mp4") || n.ends_with(".jpg"))),
        "{names:?}"
    );
}

#[test]
fn with_the_hub_down_for_the_whole_alarm_the_clip_waits_on_the_unit_and_arrives_when_it_returns() {
    use picket_agent::clips::quota::ClipState;
    let cams = SimCameras::start(&["north:320x240@15,keyint=15"]);
    let mut c = recording_cluster(&[(NORTH, cams.url("north"))], Some(clip_settings()), "");
    std::thread::sleep(Duration::from_secs(3));
    c.hub.as_mut().expect("hub").kill9();
    assert!(c.trigger(0, "pir"));
    // The clip is written and kept on the unit.
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
    let at_hub = clip_at_hub(
        &c,
        kept.event,
        NORTH,
        ClipKind::Clip,
        Duration::from_secs(120),
    );
    assert_eq!(at_hub.declared.id, kept.id);
    assert_eq!(at_hub.declared.size, kept.bytes);
    let stored = std::fs::read(hub_file(&c, &at_hub)).expect("the clip at the hub");
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
