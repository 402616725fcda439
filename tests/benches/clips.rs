//! Clip delivery to the hub, measured: `cargo bench -p picket-tests --bench clips`.
//!
//! A hub in this process (units' HTTPS with mutual TLS on loopback, SQLite,
//! clip files in a temporary directory) and the agent's uploader
//! (`picket_agent::upload`, one TLS connection per 1 MiB chunk, unpaced):
//!
//! - a thumbnail (60 kB): declare → complete, p50/max over 20;
//! - a 30 s clip at 4 Mbit/s (15 MB): declare → complete (the "end of
//!   post-roll → clip at the hub" budget is 2 s), p50/max over 5, and the
//!   throughput.
//!
//! Run by `cargo test` (no `--bench` argument) it prints how to run it and
//! exits: it is not a test.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use picket_agent::upload::https::HubHttps;
use picket_agent::upload::pace::Budget;
use picket_agent::upload::resumable::{Declaration, Delivery, Outcome, upload_with_retries};
use picket_hub::config::ClipsConfig;
use picket_hub::store::Incoming;
use picket_proto::ids::{CameraId, EventId};
use picket_proto::message::{Event, EventKind};
use picket_tests::harness::{TestHub, client_tls, free_port};

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.1} ms, max {:.1} ms (n={})",
        ms(v[v.len() / 2]),
        ms(*v.last().expect("samples")),
        v.len()
    )
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("clips: a benchmark, not a test; run `cargo bench -p picket-tests --bench clips`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let clips = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        let hub =
            TestHub::start_configured(|c| c.clips = Some(ClipsConfig { listen: clips })).await;
        let unit = hub.unit();
        let now = jiff::Timestamp::now();
        let alarm = Event {
            id: EventId::v7(now, [1; 10]),
            seq: 1,
            at: now,
            kind: EventKind::Alarm {
                sensor: "pir-1".into(),
                sensor_kind: picket_proto::level::SensorKind::Motion,
                camera: None,
                state: picket_proto::arming::ArmState::Armed,
            },
        };
        let event = alarm.id;
        hub.store()
            .commit(
                &[Incoming::Event {
                    unit: unit.id,
                    event: alarm,
                }],
                now,
            )
            .expect("alarm");
        let ca = std::fs::read_to_string(hub.dir().join("ca.pem")).expect("ca.pem");
        let https = HubHttps::new(
            &format!("https://localhost:{}", clips.port()),
            client_tls(&ca, Some(&unit.cert)),
        )
        .expect("https");
        let dir = tempfile::tempdir().expect("tmp");
        let mut budget = Budget::new(u64::MAX / 4, u64::MAX / 4);
        let clock = picket_agent::clock::SystemClock;
        let mut n = 0u128;
        for (label, bytes, kind, rounds) in [
            ("thumbnail, 60 kB", 60_000usize, "thumbnail", 20),
            ("30 s clip at 4 Mbit/s, 15 MB", 15_000_000, "clip", 5),
        ] {
            let mut times = Vec::new();
            for _ in 0..rounds {
                n += 1;
                let path = dir.path().join(format!("{n}"));
                let data: Vec<u8> = (0..bytes).map(|i| (i as u128 * 31 + n) as u8).collect();
                std::fs::write(&path, &data).expect("file");
                let declared = Declaration {
                    id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n),
                    event,
                    camera: CameraId::from_uuid(uuid::Uuid::from_u128(0xca)),
                    kind,
                    started_at: None,
                    ended_at: None,
                };
                let start = Instant::now();
                let delivery =
                    upload_with_retries(&https, &path, &declared, &mut budget, &clock).await;
                times.push(start.elapsed());
                assert_eq!(delivery, Delivery::Done(Outcome::Complete), "{label}");
            }
            let mean = times.iter().sum::<Duration>() / times.len() as u32;
            println!(
                "{label}: declare → complete at the hub {}; {:.1} MB/s",
                percentiles(times),
                bytes as f64 / mean.as_secs_f64() / 1e6
            );
        }
    });
}
