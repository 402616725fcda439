//! What a camera costs the agent, measured: `cargo bench -p picket-tests --bench video`.
//!
//! `picket-sim camera` (release build, a child process) serves one 1080p30
//! H.264 camera at 4 Mbit/s (keyframe every 2 s); this process runs the
//! agent's ingest (`picket_agent::video::ingest`: rtspsrc → depay → parse →
//! appsink) into a clip plan with the default rules (pre-roll 10 s,
//! post-roll 20 s) and the ring's default byte bound. Figures: this
//! process's CPU (utime + stime over wall time, in % of one core) and RSS
//! (a) filling the ring for 20 s with no alarm and (b) over the 20 s of an
//! alarm's clip being written to disk (`video::mp4`); frames per second
//! received; the ring's bytes and span. The targets: ≤ 10 % of one
//! core; memory ≤ 1.1 × bitrate × pre-roll + 8 MB (13.5 MB here).
//!
//! Then (c, d) the same for **two** such cameras through the agent's own
//! per-camera recorders (`clips::recorder`: ingest, plan, thumbnail, MP4,
//! the power-cut journal and the SQLite index), ring only and while both
//! write an alarm's clip.
//!
//! Needs `target/release/picket-sim` (`cargo build --release -p picket-sim`).
//! Run by `cargo test` it prints how to run it and exits.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use picket_agent::video::ingest::{Ingest, IngestConfig, IngestEvent};
use picket_agent::video::mp4::ClipWriter;
use picket_agent::video::{Action, ClipPlan, ClipRules, RingLimits};
use picket_proto::ids::EventId;

fn self_stat() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = after
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + after
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks, rss_kib)
}

/// This process's resident memory by kind (anonymous: heaps and stacks;
/// file: mapped libraries and files).
fn rss_split() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    ["RssAnon:", "RssFile:", "RssShmem:"]
        .iter()
        .filter_map(|key| {
            let kib: f64 = status
                .lines()
                .find(|l| l.starts_with(key))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some(format!(
                "{} {:.1} MiB",
                key.trim_end_matches(':'),
                kib / 1024.0
            ))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `picket-sim camera` serving `specs`; the child and the URLs.
fn cameras(sim: &std::path::Path, specs: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut cmd = Command::new(sim);
    cmd.args(["camera", "--listen", "127.0.0.1:0", "--no-clock-overlay"]);
    for spec in specs {
        cmd.args(["--camera", spec]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("picket-sim camera");
    let mut urls = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok)
    {
        if let Some(at) = line.find("rtsp://") {
            urls.extend(line[at..].split_whitespace().next().map(str::to_owned));
        }
        if line.starts_with("serving") {
            break;
        }
    }
    assert_eq!(urls.len(), specs.len(), "every camera's URL");
    (child, urls)
}

/// Phases c and d: two cameras through the agent's recorders.
fn two_recorders(sim: &std::path::Path) {
    use picket_agent::clips::recorder::{AlarmNotice, Recorder, plan_limits};
    use picket_proto::ids::CameraId;
    let (mut child, urls) = cameras(
        sim,
        &[
            "north:1920x1080@30,bitrate=4000,keyint=60,picture=noise",
            "gate:1920x1080@30,bitrate=4000,keyint=60,picture=noise",
        ],
    );
    let dir = tempfile::tempdir().expect("tmp");
    let store_path = dir.path().join("unit.db");
    picket_agent::store::Store::open(&store_path).expect("store");
    let (rules, limits) =
        plan_limits(picket_proto::message::ClipSettings::default()).expect("settings");
    let recorders: Vec<Recorder> = urls
        .iter()
        .enumerate()
        .map(|(n, url)| {
            Recorder::spawn(
                CameraId::from_uuid(uuid::Uuid::from_u128(0xc0 + n as u128)),
                IngestConfig::new(url),
                ClipPlan::new(rules, limits).expect("plan"),
                store_path.clone(),
                dir.path().join("clips"),
                Box::new(|| {}),
            )
            .expect("recorder")
        })
        .collect();
    std::thread::sleep(Duration::from_secs(12));
    let rss_before = self_stat().1;
    for phase in [
        "c. two cameras, recorders, ring only",
        "d. two cameras, both writing an alarm's clip",
    ] {
        if phase.starts_with('d') {
            let notice = AlarmNotice {
                event: EventId::v7(jiff::Timestamp::now(), [7; 10]),
                at: jiff::Timestamp::now(),
            };
            recorders.iter().for_each(|r| r.alarm(notice));
        }
        let (t0, _) = self_stat();
        let start = Instant::now();
        let mut peak_rss = 0;
        while start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(200));
            peak_rss = peak_rss.max(self_stat().1);
        }
        let (t1, rss) = self_stat();
        println!(
            "{phase}: CPU {:.1} % of one core; RSS {:.1} MiB (peak {:.1}; {:.1} MiB before; {})",
            (t1 - t0) as f64 / 100.0 / start.elapsed().as_secs_f64() * 100.0,
            rss as f64 / 1024.0,
            peak_rss as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            rss_split(),
        );
    }
    std::thread::sleep(Duration::from_secs(12));
    let clips = picket_agent::store::Store::open(&store_path)
        .expect("store")
        .clips()
        .expect("clips");
    for c in &clips {
        println!("  ({} {:?}: {} bytes)", c.kind, c.state, c.bytes);
    }
    drop(recorders);
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("video: a benchmark, not a test; run `cargo bench -p picket-tests --bench video`");
        return;
    }
    let sim = picket_tests::cluster::bin_dir().join("picket-sim");
    assert!(
        sim.exists(),
        "{} is not built: cargo build --release -p picket-sim",
        sim.display()
    );
    let mut camera = Command::new(&sim)
        .args([
            "camera",
            "--listen",
            "127.0.0.1:0",
            "--no-clock-overlay",
            "--camera",
        ])
        .arg("cam:1920x1080@30,bitrate=4000,keyint=60,picture=noise")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("picket-sim camera");
    let mut url = None;
    for line in BufReader::new(camera.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok)
    {
        if let Some(at) = line.find("rtsp://") {
            url = line[at..].split_whitespace().next().map(str::to_owned);
        }
        if line.starts_with("serving") && url.is_some() {
            break;
        }
    }
    let url = url.expect("the camera's URL");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let rules = ClipRules::new(
            SignedDuration::from_secs(10),
            SignedDuration::from_secs(20),
            SignedDuration::from_secs(120),
        )
        .expect("rules");
        let limits = RingLimits::for_bitrate(SignedDuration::from_secs(10), 4_000_000).expect("limits");
        let mut plan = ClipPlan::new(rules, limits).expect("plan");
        let (ingest, mut events) = Ingest::start(IngestConfig::new(url)).expect("ingest");
        // Warm up until the ring has its pre-roll.
        let warm = Instant::now();
        while warm.elapsed() < Duration::from_secs(12) {
            if let Ok(Some(IngestEvent::Frame(f))) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
                plan.frame(f);
            }
        }
        let (rss_before, _) = (self_stat().1, ());
        let dir = tempfile::tempdir().expect("tmp");
        for phase in ["a. ring only, no alarm", "b. writing an alarm's clip"] {
            let writing = phase.starts_with('b');
            if writing {
                plan.alarm(EventId::v7(jiff::Timestamp::now(), [9; 10]), jiff::Timestamp::now());
            }
            let mut writer: Option<ClipWriter> = None;
            let (t0, _) = self_stat();
            let start = Instant::now();
            let mut frames = 0u64;
            let mut peak_rss = 0u64;
            while start.elapsed() < Duration::from_secs(20) {
                match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
                    Ok(Some(IngestEvent::Frame(f))) => {
                        frames += 1;
                        plan.frame(f);
                    }
                    Ok(Some(other)) => println!("  ({other:?})"),
                    _ => break,
                }
                while let Some(action) = plan.poll_action() {
                    match action {
                        Action::Start(s) => {
                            writer = Some(ClipWriter::start(dir.path().join("clip.mp4"), &s.frames).expect("writer"));
                        }
                        Action::Append(f) => {
                            if let Some(w) = writer.as_mut() {
                                w.append(&f).expect("append");
                            }
                        }
                        Action::Finish(reason) => {
                            if let Some(w) = writer.take() {
                                let clip = w.finish().expect("finish");
                                println!("  (clip finished: {reason:?}, {} frames, {} bytes)", clip.frames, clip.bytes);
                            }
                        }
                        Action::NoVideo { .. } => println!("  (no video for the alarm)"),
                    }
                }
                peak_rss = peak_rss.max(self_stat().1);
            }
            let (t1, rss) = self_stat();
            let wall = start.elapsed().as_secs_f64();
            let ticks_per_s = 100.0;
            println!(
                "{phase}: CPU {:.1} % of one core; {:.1} frames/s received; RSS {:.1} MiB (peak {:.1}; {:.1} MiB before this phase); ring {:.1} MB over {:.1} s",
                (t1 - t0) as f64 / ticks_per_s / wall * 100.0,
                frames as f64 / wall,
                rss as f64 / 1024.0,
                peak_rss as f64 / 1024.0,
                rss_before as f64 / 1024.0,
                plan.ring().held_bytes() as f64 / 1e6,
                plan.ring().span().as_secs_f64(),
            );
        }
        drop(ingest);
    });
    let _ = camera.kill();
    let _ = camera.wait();
    two_recorders(&sim);
}
