//! Clip uploads over the units' real HTTPS listener (mutual TLS with the
//! hub's CA, unit = certificate), against a hub in this process:
//!
//! - an upload cut off mid-chunk resumes from the offset the hub reports
//!   and completes with the same hash;
//! - no client certificate: the TLS handshake is refused;
//! - another unit's certificate cannot upload for this unit's alarm.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;

use picket_hub::config::ClipsConfig;
use picket_hub::store::Incoming;
use picket_proto::arming::ArmState;
use picket_proto::ids::{CameraId, EventId};
use picket_proto::level::SensorKind;
use picket_proto::message::{Event, EventKind};
use picket_tests::harness::{TestHub, TestUnit, client_tls, free_port};
use serde_json::{Value, json};

struct Answer {
    status: u16,
    offset: Option<u64>,
    body: Value,
}

/// One HTTP/1.1 request over a fresh TLS connection; `cut` sends only that
/// many body bytes and then closes (a connection lost mid-upload).
fn https(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    request: (&str, &str, Option<u64>, &[u8]),
    cut: Option<usize>,
) -> std::io::Result<Answer> {
    let (method, path, offset, body) = request;
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(tls, name).map_err(std::io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(conn, TcpStream::connect(addr)?);
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(o) = offset {
        head.push_str(&format!("Upload-Offset: {o}\r\n"));
    }
    if method == "POST" {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    match cut {
        Some(n) => {
            stream.write_all(&body[..n])?;
            stream.flush()?;
            stream.sock.shutdown(std::net::Shutdown::Both)?;
            return Ok(Answer {
                status: 0,
                offset: None,
                body: Value::Null,
            });
        }
        None => stream.write_all(body)?,
    }
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // The hub closes without close_notify after `Connection: close`.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&raw);
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let offset = headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("upload-offset:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok());
    Ok(Answer {
        status,
        offset,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    picket_hub::clips::upload::hex(&ring_sha256(bytes))
}

fn ring_sha256(bytes: &[u8]) -> [u8; 32] {
    picket_hub::clips::upload::sha256(bytes)
}

/// A hub with clip uploads on, and an alarm of `unit` in its store.
async fn hub_with_alarm() -> (TestHub, SocketAddr, TestUnit, EventId) {
    let clips = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let hub = TestHub::start_configured(|c| c.clips = Some(ClipsConfig { listen: clips })).await;
    let unit = hub.unit();
    let now = jiff::Timestamp::now();
    let alarm = Event {
        id: EventId::v7(now, [7; 10]),
        seq: 1,
        at: now,
        kind: EventKind::Alarm {
            sensor: "pir-1".into(),
            sensor_kind: SensorKind::Motion,
            camera: None,
            state: ArmState::Armed,
        },
    };
    let id = alarm.id;
    hub.store()
        .commit(
            &[Incoming::Event {
                unit: unit.id,
                event: alarm,
            }],
            now,
        )
        .expect("commit the alarm");
    (hub, clips, unit, id)
}

fn declaration(id: uuid::Uuid, event: EventId, data: &[u8]) -> Vec<u8> {
    json!({
        "id": id, "event": event,
        "camera": CameraId::from_uuid(uuid::Uuid::from_u128(0xca)),
        "kind": "clip", "size": data.len(), "sha256": sha256_hex(data)
    })
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_off_mid_chunk_resumes_over_mutual_tls_and_completes() {
    let (hub, addr, unit, alarm) = hub_with_alarm().await;
    let ca = std::fs::read_to_string(hub.dir().join("ca.pem")).expect("ca.pem");
    let tls = client_tls(&ca, Some(&unit.cert));
    let data: Vec<u8> = (0..600_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00c1);
    let path = format!("/unit/v1/uploads/{id}");
    let result = tokio::task::spawn_blocking(move || {
        let decl = declaration(id, alarm, &data);
        let a = https(
            addr,
            tls.clone(),
            ("POST", "/unit/v1/uploads", None, &decl),
            None,
        )
        .unwrap();
        assert_eq!((a.status, a.offset), (200, Some(0)), "{}", a.body);
        let a = https(
            addr,
            tls.clone(),
            ("PATCH", &path, Some(0), &data[..250_000]),
            None,
        )
        .unwrap();
        assert_eq!((a.status, a.offset), (200, Some(250_000)), "{}", a.body);
        // The link drops halfway through the second chunk.
        https(
            addr,
            tls.clone(),
            ("PATCH", &path, Some(250_000), &data[250_000..]),
            Some(100_000),
        )
        .unwrap();
        let a = https(addr, tls.clone(), ("HEAD", &path, None, b""), None).unwrap();
        assert_eq!(a.offset, Some(250_000), "nothing of the cut chunk was kept");
        let a = https(
            addr,
            tls,
            ("PATCH", &path, Some(250_000), &data[250_000..]),
            None,
        )
        .unwrap();
        assert_eq!((a.status, a.offset), (200, Some(600_000)), "{}", a.body);
        assert_eq!(a.body["complete"], true);
        data
    })
    .await
    .expect("client");
    let stored = std::fs::read(
        hub.dir()
            .join("data/clips")
            .join(format!("{}.mp4", id.simple())),
    )
    .expect("the clip in place");
    assert_eq!(ring_sha256(&stored), ring_sha256(&result));
    assert_eq!(hub.store().clips_of_event(alarm).expect("clips").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_certificate_is_refused_and_another_units_certificate_cannot_upload_for_this_alarm() {
    let (hub, addr, _unit, alarm) = hub_with_alarm().await;
    let ca = std::fs::read_to_string(hub.dir().join("ca.pem")).expect("ca.pem");
    let stranger = hub.unit();
    let anonymous = client_tls(&ca, None);
    let other = client_tls(&ca, Some(&stranger.cert));
    tokio::task::spawn_blocking(move || {
        let decl = declaration(uuid::Uuid::from_u128(0xd1), alarm, b"video");
        match https(
            addr,
            anonymous,
            ("POST", "/unit/v1/uploads", None, &decl),
            None,
        ) {
            Err(_) => {}
            Ok(a) => assert_eq!(a.status, 0, "served without a certificate: {}", a.body),
        }
        let a = https(addr, other, ("POST", "/unit/v1/uploads", None, &decl), None).unwrap();
        assert_eq!(a.status, 403, "{}", a.body);
        assert!(
            a.body["error"]
                .as_str()
                .unwrap_or_default()
                .contains("not this unit's"),
            "{}",
            a.body
        );
    })
    .await
    .expect("client");
    assert!(hub.store().clips_of_event(alarm).expect("clips").is_empty());
}

/// A TCP relay to the hub that cuts its `cut_on`-th connection after
/// forwarding `cut_after` bytes towards the hub; counts connections and
/// bytes sent towards the hub.
struct Relay {
    addr: SocketAddr,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    upstream_bytes: Arc<std::sync::atomic::AtomicU64>,
}

async fn relay(to: SocketAddr, cut_on: usize, cut_after: u64) -> Relay {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind relay");
    let addr = listener.local_addr().expect("relay addr");
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let upstream_bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (count, bytes) = (connections.clone(), upstream_bytes.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            let bytes = bytes.clone();
            tokio::spawn(async move {
                let Ok(hub) = tokio::net::TcpStream::connect(to).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut hr, mut hw) = hub.into_split();
                let limit = if n == cut_on { cut_after } else { u64::MAX };
                let up = async move {
                    let mut sent = 0u64;
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(k) = cr.read(&mut buf).await {
                        if k == 0 {
                            break;
                        }
                        let k = k.min((limit - sent) as usize);
                        if hw.write_all(&buf[..k]).await.is_err() {
                            break;
                        }
                        sent += k as u64;
                        bytes.fetch_add(k as u64, Ordering::SeqCst);
                        if sent >= limit {
                            break;
                        }
                    }
                    let _ = hw.shutdown().await;
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut hr, &mut cw).await;
                };
                if limit == u64::MAX {
                    tokio::join!(up, down);
                } else {
                    // Cut: the client's link dies, both ways.
                    tokio::select! { _ = up => {}, _ = down => {} }
                }
            });
        }
    });
    Relay {
        addr,
        connections,
        upstream_bytes,
    }
}

fn agent_tls(hub: &TestHub, unit: &TestUnit) -> Arc<rustls::ClientConfig> {
    let ca = std::fs::read_to_string(hub.dir().join("ca.pem")).expect("ca.pem");
    client_tls(&ca, Some(&unit.cert))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_uploader_resumes_after_a_cut_link_and_the_hub_gets_the_same_bytes() {
    use picket_agent::upload::https::HubHttps;
    use picket_agent::upload::pace::Budget;
    use picket_agent::upload::resumable::{Declaration, Delivery, Outcome, upload_with_retries};
    let (hub, addr, unit, alarm) = hub_with_alarm().await;
    let size = 2_500_000usize;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("clip.mp4");
    let data: Vec<u8> = (0..size as u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(&path, &data).expect("clip file");
    // The third connection (the second chunk) dies 300 kB in.
    let relay = relay(addr, 3, 300_000).await;
    let https = HubHttps::new(
        &format!("https://localhost:{}", relay.addr.port()),
        agent_tls(&hub, &unit),
    )
    .expect("https");
    let declared = Declaration {
        id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0a01),
        event: alarm,
        camera: CameraId::from_uuid(uuid::Uuid::from_u128(0xca)),
        kind: "clip",
        started_at: None,
        ended_at: None,
    };
    let mut budget = Budget::new(100_000_000, 8_000_000);
    let delivery = upload_with_retries(
        &https,
        &path,
        &declared,
        &mut budget,
        &picket_agent::clock::SystemClock,
    )
    .await;
    assert_eq!(delivery, Delivery::Done(Outcome::Complete));
    let stored = std::fs::read(
        hub.dir()
            .join("data/clips")
            .join(format!("{}.mp4", declared.id.simple())),
    )
    .expect("stored");
    assert_eq!(ring_sha256(&stored), ring_sha256(&data));
    use std::sync::atomic::Ordering;
    assert!(
        relay.connections.load(Ordering::SeqCst) >= 6,
        "declare, chunk, cut, declare, chunk, chunk"
    );
    let up = relay.upstream_bytes.load(Ordering::SeqCst);
    assert!(
        up < size as u64 + 400_000 + 50_000,
        "resumed, not restarted: {up} bytes sent for {size}"
    );
    // A clip for another unit's alarm is refused, with the hub's reason.
    let stranger = hub.unit();
    let https = HubHttps::new(
        &format!("https://localhost:{}", addr.port()),
        agent_tls(&hub, &stranger),
    )
    .expect("https");
    let foreign = Declaration {
        id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0a02),
        ..declared
    };
    let delivery = upload_with_retries(
        &https,
        &path,
        &foreign,
        &mut budget,
        &picket_agent::clock::SystemClock,
    )
    .await;
    assert!(
        matches!(&delivery, Delivery::Done(Outcome::Refused { status: 403, reason }) if reason.contains("not this unit's")),
        "{delivery:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_round_uploads_ready_clips_waits_for_unknown_alarms_and_keeps_the_quota() {
    use picket_agent::clips::delivery::{Deliverer, Round, clip_path};
    use picket_agent::clips::quota::ClipState;
    use picket_agent::store::Store as UnitStore;
    use picket_agent::upload::https::HubHttps;
    use picket_agent::upload::pace::Budget;
    let (hub, addr, unit, alarm) = hub_with_alarm().await;
    let dir = tempfile::tempdir().expect("tmp");
    let clips_dir = dir.path().join("clips");
    std::fs::create_dir_all(&clips_dir).expect("clips dir");
    let mut store = UnitStore::open(&dir.path().join("unit.db")).expect("unit store");
    let camera = CameraId::from_uuid(uuid::Uuid::from_u128(0xca));
    let unknown = EventId::v7(jiff::Timestamp::now(), [9; 10]);
    let t0 = jiff::Timestamp::now();
    let mut add =
        |n: u128, event: EventId, kind: &str, bytes: usize, at: jiff::Timestamp, uploaded: bool| {
            let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0b00 + n);
            store
                .clip_begin(id, event, camera, kind, at)
                .expect("begin");
            let row = store
                .clips()
                .expect("clips")
                .into_iter()
                .find(|c| c.id == id)
                .expect("row");
            std::fs::write(clip_path(&clips_dir, &row), vec![n as u8; bytes]).expect("file");
            store
                .clip_ready(id, bytes as u64, None, None)
                .expect("ready");
            if uploaded {
                store.clip_uploaded(id, at).expect("uploaded");
            }
            id
        };
    let old = add(
        1,
        alarm,
        "clip",
        500_000,
        t0 - jiff::SignedDuration::from_hours(2),
        true,
    );
    let thumb = add(2, alarm, "thumbnail", 50_000, t0, false);
    let clip = add(3, alarm, "clip", 1_000_000, t0, false);
    let waiting = add(4, unknown, "clip", 200_000, t0, false);
    drop(store);
    let https = HubHttps::new(
        &format!("https://localhost:{}", addr.port()),
        agent_tls(&hub, &unit),
    )
    .expect("https");
    let mut deliverer = Deliverer::new(
        UnitStore::open(&dir.path().join("unit.db")).expect("unit store"),
        clips_dir.clone(),
        https,
        Budget::new(100_000_000, 8_000_000),
        1_300_000,
    );
    let round = deliverer
        .round(&picket_agent::clock::SystemClock)
        .await
        .expect("round");
    assert_eq!(
        round,
        Round {
            uploaded: 2,
            later: 1,
            refused: 0,
            deleted: 1,
            over_quota_by: 0,
            pending: 1,
        }
    );
    let store = UnitStore::open(&dir.path().join("unit.db")).expect("unit store");
    let uploaded: Vec<_> = store
        .clips_in(ClipState::Uploaded)
        .expect("clips")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(uploaded, [thumb, clip]);
    assert_eq!(
        store.clips_in(ClipState::Ready).expect("clips")[0].id,
        waiting,
        "waits for its alarm"
    );
    assert!(
        store.clips().expect("clips").iter().all(|c| c.id != old),
        "the old uploaded clip made room"
    );
    assert!(!clips_dir.join(format!("{}.mp4", old.simple())).exists());
    assert_eq!(
        hub.store().clips_of_event(alarm).expect("hub clips").len(),
        2
    );

    // Under pressure (a quota smaller than the clip the hub lacks): every
    // uploaded clip goes, the waiting one stays, and the round says by how
    // much the quota is exceeded (the unit's health warning).
    let https = HubHttps::new(
        &format!("https://localhost:{}", addr.port()),
        agent_tls(&hub, &unit),
    )
    .expect("https");
    let mut squeezed = Deliverer::new(
        UnitStore::open(&dir.path().join("unit.db")).expect("unit store"),
        clips_dir.clone(),
        https,
        Budget::new(100_000_000, 8_000_000),
        150_000,
    );
    let round = squeezed
        .round(&picket_agent::clock::SystemClock)
        .await
        .expect("round");
    assert_eq!((round.deleted, round.pending), (2, 1), "{round:?}");
    assert_eq!(round.over_quota_by, 50_000);
    let left: Vec<_> = store
        .clips()
        .expect("clips")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(left, [waiting]);
    assert!(clip_path(&clips_dir, &store.clips().expect("clips")[0]).exists());
}
