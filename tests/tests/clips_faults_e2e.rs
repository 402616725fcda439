//! Event clips when things go wrong, with the real binaries (`picket-sim
//! camera`, `picket-agent run`, `picket-hub serve`) on loopback:
//!
//! - the camera lost in the middle of a clip: a shorter clip that players
//!   open reaches the hub, with `camera_lost` (and, once it is back,
//!   `camera_restored`) events, and fleet health shows the camera lost;
//! - the agent killed (`kill -9`, as a power cut) in the middle of a clip:
//!   on its next start it completes the clip from its journal and the hub
//!   gets it, ending where the power went;
//! - the hub killed in the middle of an upload: the bytes it confirmed
//!   survive, the unit resumes from there when the hub is back, and the
//!   file at the hub is the unit's, byte for byte.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use picket_hub::clips::upload::ClipKind;
use picket_proto::message::EventKind;
use picket_tests::cameras::{
    SimCameras, clip_at_hub, clip_window, first_alarm, hub_file, probe, recording_cluster,
};
use picket_tests::cluster::{Cluster, wait_for};

const NORTH: &str = "019abcde00017000800000000000c001";
const PRE: i64 = 4;
const POST: i64 = 8;

fn clip_settings() -> serde_json::Value {
    serde_json::json!({ "pre_roll_s": PRE, "post_roll_s": POST, "max_clip_s": 60 })
}

/// Whether the hub has an event of unit 0 that `matches`.
fn hub_has(c: &Cluster, matches: impl Fn(&EventKind) -> bool) -> Option<()> {
    c.hub_store()
        .events(c.units[0], 1_000)
        .ok()?
        .iter()
        .any(|r| matches(&r.event.kind))
        .then_some(())
}

/// Sleeps until `at` (wall clock) has passed.
fn sleep_until(at: Timestamp) {
    let left = at.duration_since(Timestamp::now());
    if left > SignedDuration::ZERO {
        std::thread::sleep(left.unsigned_abs());
    }
}

#[test]
fn a_camera_lost_mid_clip_leaves_a_shorter_valid_clip_and_camera_events() {
    let cams = SimCameras::start(&["north:320x240@15,keyint=15"]);
    let c = recording_cluster(&[(NORTH, cams.url("north"))], Some(clip_settings()), "");
    std::thread::sleep(Duration::from_secs(PRE as u64 + 1));
    assert!(c.trigger(0, "pir"));
    let (alarm, at) = first_alarm(&c, Duration::from_secs(30));
    let cut = at + SignedDuration::from_secs(2);
    sleep_until(cut);
    cams.set_serving("north", false);

    let clip = clip_at_hub(&c, alarm, NORTH, ClipKind::Clip, Duration::from_secs(30));
    let path = hub_file(&c, &clip);
    let (codec, duration) = probe(&path);
    assert_eq!(codec, "h264");
    let (first, last, _) = clip_window(&path, 320, 240);
    assert!(
        first <= at - SignedDuration::from_secs(PRE),
        "the pre-roll is there: {first}"
    );
    assert!(
        last <= cut + SignedDuration::from_millis(300) && last >= at,
        "it ends where the camera went ({cut}): {last}"
    );
    assert!(
        duration < (PRE + POST) as f64 - 3.0,
        "shorter than pre + post: {duration} s"
    );
    wait_for("camera_lost at the hub", Duration::from_secs(20), || {
        hub_has(
            &c,
            |k| matches!(k, EventKind::CameraLost { camera } if camera.to_string() == NORTH),
        )
    });
    let lost = wait_for(
        "the camera lost in fleet health",
        Duration::from_secs(20),
        || {
            let fleet = c.api("GET", "/api/v1/fleet", None);
            (fleet["summary"]["camera_lost"] == 1).then_some(fleet)
        },
    );
    println!("fleet: {}", lost["summary"]);

    // Back after the window: restored, and no second clip for the alarm.
    sleep_until(at + SignedDuration::from_secs(POST + 1));
    cams.set_serving("north", true);
    wait_for(
        "camera_restored at the hub",
        Duration::from_secs(60),
        || hub_has(&c, |k| matches!(k, EventKind::CameraRestored { .. })),
    );
    wait_for(
        "the camera streaming in fleet health",
        Duration::from_secs(20),
        || {
            let fleet = c.api("GET", "/api/v1/fleet", None);
            (fleet["summary"]["camera_lost"] == 0).then_some(())
        },
    );
    let clips = c.hub_store().clips_of_event(alarm).expect("clips");
    assert_eq!(
        clips
            .iter()
            .filter(|r| r.declared.kind == ClipKind::Clip)
            .count(),
        1,
        "the window had closed when the camera came back"
    );
}

#[test]
fn after_a_power_cut_mid_clip_the_agent_completes_the_clip_from_its_journal() {
    let cams = SimCameras::start(&["north:320x240@15,keyint=15"]);
    let mut c = recording_cluster(&[(NORTH, cams.url("north"))], Some(clip_settings()), "");
    std::thread::sleep(Duration::from_secs(PRE as u64 + 1));
    assert!(c.trigger(0, "pir"));
    let (alarm, at) = first_alarm(&c, Duration::from_secs(30));
    // The journal is being written; the power goes 3 s after the alarm.
    let journal = wait_for(
        "the clip's journal on the unit",
        Duration::from_secs(10),
        || {
            std::fs::read_dir(c.dir.path().join("unit0/data/clips"))
                .ok()?
                .flatten()
                .find(|e| e.file_name().to_string_lossy().ends_with(".frames"))
        },
    );
    let cut = at + SignedDuration::from_secs(3);
    sleep_until(cut);
    c.agents[0].as_mut().expect("agent").kill9();
    assert!(journal.path().exists(), "the journal survives the cut");

    let restarted = Instant::now();
    c.start_agent(0);
    let clip = clip_at_hub(&c, alarm, NORTH, ClipKind::Clip, Duration::from_secs(60));
    println!(
        "recovered clip at the hub {:?} after the restart",
        restarted.elapsed()
    );
    let path = hub_file(&c, &clip);
    let (codec, duration) = probe(&path);
    assert_eq!(codec, "h264");
    let (first, last, frames) = clip_window(&path, 320, 240);
    assert!(first <= at - SignedDuration::from_secs(PRE), "{first}");
    assert!(
        last <= cut + SignedDuration::from_millis(200)
            && last >= cut - SignedDuration::from_millis(1_500),
        "ends where the power went ({cut}), at most a GOP earlier: {last}"
    );
    println!("{frames} frames, {duration:.2} s, up to {last} (cut at {cut})");
    assert!(
        !journal.path().exists(),
        "the journal is gone once recovered"
    );
    assert!(
        hub_has(&c, |k| matches!(k, EventKind::ClipDiscarded { .. })).is_none(),
        "nothing was discarded"
    );
}

#[test]
fn a_hub_killed_mid_upload_keeps_what_it_confirmed_and_the_unit_resumes_from_there() {
    use picket_agent::clips::quota::ClipState;
    // ~2.5 MB of clip through a 1.6 Mbit/s budget (1 MiB at once, then
    // 200 kB/s): the upload takes seconds, in 1 MiB chunks.
    let cams = SimCameras::start(&["north:320x240@15,keyint=15,bitrate=2000,picture=noise"]);
    let mut c = recording_cluster(
        &[(NORTH, cams.url("north"))],
        Some(clip_settings()),
        "[clips]\nupload_kbit_s = 1600\n",
    );
    std::thread::sleep(Duration::from_secs(PRE as u64 + 1));
    assert!(c.trigger(0, "pir"));
    let unit_db = c.dir.path().join("unit0/data/unit.db");
    let partial_dir = c.dir.path().join("hub/data/clips/partial");
    // The first chunk is in; the next waits for the budget: kill the hub.
    let (partial, confirmed) = wait_for(
        "a clip upload half way at the hub",
        Duration::from_secs(60),
        || {
            std::fs::read_dir(&partial_dir)
                .ok()?
                .flatten()
                .map(|e| (e.path(), e.metadata().map(|m| m.len()).unwrap_or(0)))
                .find(|(_, len)| *len >= 1 << 20)
        },
    );
    c.hub.as_mut().expect("hub").kill9();
    let kept = std::fs::metadata(&partial)
        .expect("the partial upload")
        .len();
    assert!(
        kept >= confirmed,
        "what the hub confirmed survives its death"
    );
    let unit_clip = picket_agent::store::Store::open(&unit_db)
        .expect("unit store")
        .clips_in(ClipState::Ready)
        .expect("clips")
        .into_iter()
        .find(|r| r.kind == "clip")
        .expect("the clip waits on the unit");
    assert!(
        unit_clip.bytes > kept,
        "killed mid-upload: {kept} of {}",
        unit_clip.bytes
    );

    // Down long enough for the unit's next chunk to find it gone.
    std::thread::sleep(Duration::from_secs(8));
    c.start_hub();
    let at_hub = clip_at_hub(
        &c,
        unit_clip.event,
        NORTH,
        ClipKind::Clip,
        Duration::from_secs(120),
    );
    let unit_file = c
        .dir
        .path()
        .join("unit0/data/clips")
        .join(format!("{}.mp4", unit_clip.id.simple()));
    assert_eq!(
        std::fs::read(hub_file(&c, &at_hub)).expect("at the hub"),
        std::fs::read(unit_file).expect("on the unit"),
        "the same bytes"
    );
    let log = std::fs::read_to_string(c.dir.path().join("unit0.log")).unwrap_or_default();
    assert!(
        log.contains("clip upload interrupted; resuming"),
        "the unit met the dead hub and resumed: {}",
        &log[log.len().saturating_sub(3000)..]
    );
}
