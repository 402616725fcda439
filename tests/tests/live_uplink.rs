//! The live uplink, unit to hub, with real parts: a simulated RTSP camera,
//! the agent's own recorder handing its frames to a live stream, the
//! agent's uplink dialling out to the hub's units' HTTPS with the unit's
//! certificate, and the hub decoding the media records of a stream it
//! expects. The first frame the hub gets is a keyframe (the ring's latest
//! GOP goes first), frames come in order, and the hub dropping the stream
//! ends the unit's upload. Refused with a clear answer: a stream the hub
//! did not ask for, a stream asked of another unit, and garbage.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use picket_agent::clips::recorder::{Recorder, plan_limits};
use picket_agent::upload::https::HubHttps;
use picket_agent::video::ClipPlan;
use picket_agent::video::ingest::IngestConfig;
use picket_hub::config::ClipsConfig;
use picket_proto::ids::{CameraId, StreamId};
use picket_tests::cameras::SimCameras;
use picket_tests::cluster::free_port;
use picket_tests::harness::{TestHub, TestUnit, client_tls};

async fn hub() -> (TestHub, SocketAddr) {
    let units = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let hub = TestHub::start_configured(|c| c.clips = Some(ClipsConfig { listen: units })).await;
    (hub, units)
}

fn https(hub: &TestHub, unit: &TestUnit, addr: SocketAddr) -> HubHttps {
    let ca = std::fs::read_to_string(hub.dir().join("ca.pem")).expect("ca.pem");
    let tls: Arc<rustls::ClientConfig> = client_tls(&ca, Some(&unit.cert));
    HubHttps::new(&format!("https://localhost:{}", addr.port()), tls).expect("https")
}

fn stream_id(n: u128) -> StreamId {
    StreamId::from_uuid(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_5000 | n,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cameras_frames_reach_the_hub_keyframe_first_and_in_order() {
    let cams = SimCameras::start(&["north:320x240@15,keyint=15"]);
    let (hub, addr) = hub().await;
    let unit = hub.unit();
    let camera = CameraId::from_uuid(uuid::Uuid::from_u128(0xc1));
    let dir = tempfile::tempdir().expect("tmp");
    let (rules, limits) = plan_limits(Default::default()).expect("settings");
    let recorder = Recorder::spawn(
        camera,
        IngestConfig::new(cams.url("north")),
        ClipPlan::new(rules, limits).expect("plan"),
        dir.path().join("unit.db"),
        dir.path().join("clips"),
        Box::new(|| {}),
    )
    .expect("recorder");
    // Let the ring hold a few GOPs.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let stream = stream_id(1);
    let mut at_hub = hub.upstreams().expect(stream, unit.id, camera);
    let (frames_tx, frames) = tokio::sync::mpsc::channel(picket_agent::live::QUEUE_FRAMES);
    let asked = Instant::now();
    recorder.live(stream, frames_tx);
    let uplink = https(&hub, &unit, addr);
    let sending =
        tokio::spawn(async move { picket_agent::live::send(&uplink, stream, frames).await });

    let first = tokio::time::timeout(Duration::from_secs(10), at_hub.recv())
        .await
        .expect("a frame within 10 s")
        .expect("the stream");
    println!("first frame at the hub {:?} after asking", asked.elapsed());
    assert!(first.is_key(), "the stream starts with a keyframe");
    assert_eq!(first.parameter_sets.len(), 2, "with its SPS and PPS");
    let mut last = first.captured_at;
    let mut count = 1;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        if let Ok(Some(f)) = tokio::time::timeout(Duration::from_millis(500), at_hub.recv()).await {
            assert!(f.captured_at >= last, "in order");
            last = f.captured_at;
            count += 1;
        }
    }
    assert!(count >= 30, "the GOP and then 15 frames a second: {count}");

    // The hub drops the stream: the unit's upload ends.
    drop(at_hub);
    let ended = tokio::time::timeout(Duration::from_secs(15), sending).await;
    assert!(ended.is_ok(), "the unit stops sending once the hub ends it");
    drop(recorder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unasked_foreign_and_garbage_upstreams_are_refused_with_a_reason() {
    let (hub, addr) = hub().await;
    let unit = hub.unit();
    let other = hub.unit();
    let camera = CameraId::from_uuid(uuid::Uuid::from_u128(0xc1));
    let send = |chunks: Vec<Vec<u8>>, stream: StreamId, who: &TestUnit| {
        let uplink = https(&hub, who, addr);
        async move {
            let (tx, rx) = tokio::sync::mpsc::channel(8);
            for c in chunks {
                tx.send(c).await.expect("queued");
            }
            drop(tx);
            uplink
                .stream(&picket_agent::live::upstream_path(stream), rx)
                .await
                .expect("an answer")
        }
    };
    let a = send(vec![b"x".to_vec()], stream_id(2), &unit).await;
    assert_eq!(a.status, 404, "{:?}", a.body);

    let _for_other = hub.upstreams().expect(stream_id(3), other.id, camera);
    let a = send(vec![b"x".to_vec()], stream_id(3), &unit).await;
    assert_eq!(a.status, 403, "another unit's stream");

    let mut garbage_stream = hub.upstreams().expect(stream_id(4), unit.id, camera);
    let a = send(vec![vec![0xff; 64]], stream_id(4), &unit).await;
    assert_eq!(a.status, 400, "garbage");
    assert!(
        garbage_stream.try_recv().is_err(),
        "nothing reached the relay"
    );
}
