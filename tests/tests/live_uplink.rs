//! The live uplink, unit to hub, with real parts: a simulated RTSP camera,
//! the agent's own recorder handing its frames to a live stream, the
//! agent's uplink dialling out to the hub's units' HTTPS with the unit's
//! certificate, and the hub decoding the media records of a stream it
//! expects. The first frame the hub gets is a keyframe (the ring's latest
//! GOP goes first), frames come in order, and the hub dropping the stream
//! ends the unit's upload. Refused with a clear answer: a stream the hub
//! did not ask for, a stream asked of another unit, and garbage. And the
//! whole loop with the real agent: a viewer watching a camera makes the
//! hub command the unit over MQTT, the unit dials out, the viewer gets a
//! keyframe first; a camera the unit lacks is refused with its reason;
//! the upstream stops after the linger.

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

/// The agent, in this process, for `unit` with one camera at `url`, on
/// the hub's MQTT and units' HTTPS; stopped when the sender is dropped.
fn agent(
    hub: &TestHub,
    unit: &TestUnit,
    units: SocketAddr,
    camera: CameraId,
    url: &str,
    dir: &std::path::Path,
) -> tokio::sync::watch::Sender<bool> {
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("tls file");
    write(
        "ca.pem",
        &std::fs::read_to_string(hub.dir().join("ca.pem")).expect("ca.pem"),
    );
    write("unit.pem", &unit.cert.cert_pem);
    write("unit.key", &unit.cert.key_pem);
    let toml = format!(
        "unit = \"{}\"\nsite = \"019abcde00017000800000000000b001\"\ndata_dir = \"{}\"\n\
         [hub]\nmqtt = \"localhost:{}\"\nhttps = \"https://localhost:{}\"\n\
         [tls]\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n\
         [hardware]\nbackend = \"sim\"\nsim_socket = \"{}\"\n\
         [[camera]]\nid = \"{camera}\"\nurl = \"{url}\"\n",
        unit.id,
        dir.join("data").display(),
        hub.addr.port(),
        units.port(),
        dir.join("ca.pem").display(),
        dir.join("unit.pem").display(),
        dir.join("unit.key").display(),
        dir.join("sim.sock").display(),
    );
    let config = picket_agent::config::AgentConfig::parse(&toml).expect("agent.toml");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // The agent's main loop is single-threaded (its store is not Sync).
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let clock: Arc<dyn picket_agent::clock::Clock> = Arc::new(picket_agent::clock::SystemClock);
        if let Err(e) = runtime.block_on(picket_agent::run::run(config, clock, stopped)) {
            panic!("the agent stopped: {e}");
        }
    });
    stop
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_makes_the_unit_stream_sees_a_keyframe_first_and_leaving_stops_the_unit() {
    let cams = SimCameras::start(&["north:320x240@15,keyint=15"]);
    let (hub, units) = hub().await;
    let unit = hub.unit();
    let camera = CameraId::from_uuid(uuid::Uuid::from_u128(0xc1));
    let dir = tempfile::tempdir().expect("tmp");
    let _agent = agent(&hub, &unit, units, camera, cams.url("north"), dir.path());
    // The unit connects and its camera fills the ring.
    tokio::time::sleep(Duration::from_secs(4)).await;

    // A camera the unit does not have: the unit refuses, the viewer is
    // told why instead of waiting.
    let nowhere = CameraId::from_uuid(uuid::Uuid::from_u128(0xc9));
    let mut lost = hub.live().watch(unit.id, nowhere).await.expect("watch");
    let got = tokio::time::timeout(Duration::from_secs(10), lost.next())
        .await
        .expect("an answer within 10 s");
    assert!(got.is_none(), "no frames from a camera the unit lacks");
    let why = lost.refused().expect("the unit's reason");
    assert!(why.contains("no camera"), "{why}");
    drop(lost);

    let asked = Instant::now();
    let mut watcher = hub.live().watch(unit.id, camera).await.expect("watch");
    let first = tokio::time::timeout(Duration::from_secs(15), watcher.next())
        .await
        .expect("frames within 15 s")
        .expect("not cut off");
    println!(
        "cold start: first frames at the viewer {:?} after asking",
        asked.elapsed()
    );
    assert!(first[0].is_key(), "a viewer's first frame is a keyframe");
    let mut count = first.len();
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        if let Ok(Some(frames)) =
            tokio::time::timeout(Duration::from_millis(500), watcher.next()).await
        {
            count += frames.len();
        }
    }
    assert!(count >= 30, "frames keep coming: {count}");
    assert_eq!(hub.live().active_upstreams(), 1);

    // A second viewer joins the running stream: warm, one upstream.
    let joined = Instant::now();
    let mut second = hub.live().watch(unit.id, camera).await.expect("watch");
    let frames = tokio::time::timeout(Duration::from_secs(5), second.next())
        .await
        .expect("frames")
        .expect("not cut off");
    println!(
        "warm start: first frames {:?} after asking",
        joined.elapsed()
    );
    assert!(frames[0].is_key(), "from the cached GOP's keyframe");
    assert_eq!(hub.live().active_upstreams(), 1, "one upstream");

    // Both leave: after the 10 s linger the unit is told to stop.
    drop(watcher);
    drop(second);
    let left = Instant::now();
    loop {
        assert!(
            left.elapsed() < Duration::from_secs(20),
            "the upstream stops after the linger"
        );
        if hub.live().active_upstreams() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let lingered = left.elapsed();
    println!("upstream stopped {lingered:?} after the last viewer left");
    assert!(lingered >= Duration::from_secs(9), "not before the linger");
}
