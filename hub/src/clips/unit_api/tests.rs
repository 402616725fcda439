//! The upload protocol over the real router and store (no TLS here: the
//! unit a request acts as is injected as its connection's peer; the TLS
//! listener is tested end to end in the tests crate).

use std::net::SocketAddr;

use axum::body::Body as HttpBody;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use http_body_util::BodyExt;
use picket_proto::clock::{Clock, ManualClock};
use picket_proto::ids::UnitId;
use picket_proto::message::{Event, EventKind};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::clips::storage::LocalDir;
use crate::clips::upload::sha256;
use crate::store::{Incoming, Store};

fn unit(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn camera() -> CameraId {
    CameraId::from_uuid(uuid::Uuid::from_bytes([0xca; 16]))
}

struct Rig {
    dir: tempfile::TempDir,
    clock: ManualClock,
    alarm: EventId,
    activity: EventId,
}

impl Rig {
    fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new("2026-11-23T09:00Z".parse().unwrap());
        let mut store = Store::open(&dir.path().join("hub.db")).unwrap();
        let at = clock.now();
        let event = |n: u8, kind: EventKind| Event {
            id: EventId::v7(at, [n; 10]),
            seq: u64::from(n),
            at,
            kind,
        };
        let alarm = event(
            1,
            EventKind::Alarm {
                sensor: "pir-1".into(),
                sensor_kind: picket_proto::level::SensorKind::Motion,
                camera: Some(camera()),
                state: picket_proto::arming::ArmState::Armed,
            },
        );
        let activity = event(
            2,
            EventKind::Activity {
                sensor: "pir-1".into(),
                sensor_kind: picket_proto::level::SensorKind::Motion,
                state: picket_proto::arming::ArmState::Disarmed,
            },
        );
        let (alarm_id, activity_id) = (alarm.id, activity.id);
        store
            .commit(
                &[
                    Incoming::Event {
                        unit: unit(1),
                        event: alarm,
                    },
                    Incoming::Event {
                        unit: unit(1),
                        event: activity,
                    },
                ],
                at,
            )
            .unwrap();
        Rig {
            dir,
            clock,
            alarm: alarm_id,
            activity: activity_id,
        }
    }

    /// A fresh hub over the same files (as after a restart), serving `as_unit`.
    fn app(&self, as_unit: UnitId) -> Router {
        let store = Store::open(&self.dir.path().join("hub.db")).unwrap();
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        let api = ApiState::new(
            store,
            tx,
            std::sync::Arc::new(self.clock.clone()),
            "t".repeat(32),
        );
        let files = std::sync::Arc::new(LocalDir::open(&self.dir.path().join("clips")).unwrap());
        let peer = UnitPeer {
            addr: SocketAddr::from(([127, 0, 0, 1], 40000)),
            unit: as_unit,
        };
        router(UnitApiState::new(api, files)).layer(MockConnectInfo(peer))
    }
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    offset: Option<u64>,
    body: HttpBody,
    json_body: bool,
) -> (StatusCode, Option<u64>, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(o) = offset {
        req = req.header(UPLOAD_OFFSET, o.to_string());
    }
    if json_body {
        req = req.header("content-type", "application/json");
    }
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let at = resp
        .headers()
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, at, value)
}

fn declaration(id: uuid::Uuid, event: EventId, data: &[u8]) -> Value {
    json!({
        "id": id, "event": event, "camera": camera(), "kind": "clip",
        "size": data.len(), "sha256": crate::clips::upload::hex(&sha256(data)),
        "started_at": "2026-11-23T08:59:50Z", "ended_at": "2026-11-23T09:00:20Z"
    })
}

async fn declare(app: &Router, body: Value) -> (StatusCode, Option<u64>, Value) {
    call(
        app,
        "POST",
        "/unit/v1/uploads",
        None,
        HttpBody::from(body.to_string()),
        true,
    )
    .await
}

async fn chunk(
    app: &Router,
    id: uuid::Uuid,
    at: u64,
    data: &[u8],
) -> (StatusCode, Option<u64>, Value) {
    call(
        app,
        "PATCH",
        &format!("/unit/v1/uploads/{id}"),
        Some(at),
        HttpBody::from(data.to_vec()),
        false,
    )
    .await
}

fn id(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn an_interrupted_upload_resumes_after_a_restart_and_completes_with_the_same_hash() {
    let r = Rig::new();
    let bytes = data(300_000);
    let app = r.app(unit(1));
    let (status, at, body) = declare(&app, declaration(id(1), r.alarm, &bytes)).await;
    assert_eq!((status, at), (StatusCode::OK, Some(0)), "{body}");
    let (status, at, _) = chunk(&app, id(1), 0, &bytes[..100_000]).await;
    assert_eq!((status, at), (StatusCode::OK, Some(100_000)));

    // The hub restarts; the unit declares again and learns where to resume.
    let app = r.app(unit(1));
    let (status, at, body) = declare(&app, declaration(id(1), r.alarm, &bytes)).await;
    assert_eq!((status, at), (StatusCode::OK, Some(100_000)), "{body}");
    assert_eq!(body["complete"], false);
    let (status, at, body) = chunk(&app, id(1), 100_000, &bytes[100_000..]).await;
    assert_eq!((status, at), (StatusCode::OK, Some(300_000)), "{body}");
    assert_eq!(body["complete"], true);

    let stored = std::fs::read(
        r.dir
            .path()
            .join("clips")
            .join(format!("{}.mp4", id(1).simple())),
    )
    .unwrap();
    assert_eq!(sha256(&stored), sha256(&bytes));
    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let clips = store.clips_of_event(r.alarm).unwrap();
    assert_eq!(clips.len(), 1);
    assert_eq!(clips[0].declared.size, 300_000);
    assert_eq!(clips[0].completed_at, Some(r.clock.now()));
    // Declaring a complete upload again says so; a late chunk changes nothing.
    let (_, at, body) = declare(&app, declaration(id(1), r.alarm, &bytes)).await;
    assert_eq!((at, &body["complete"]), (Some(300_000), &json!(true)));
    let (status, _, body) = chunk(&app, id(1), 0, &bytes[..10]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["complete"], true);
    let (status, at, _) = call(
        &app,
        "HEAD",
        &format!("/unit/v1/uploads/{}", id(1)),
        None,
        HttpBody::empty(),
        false,
    )
    .await;
    assert_eq!((status, at), (StatusCode::OK, Some(300_000)));
}

#[tokio::test]
async fn a_chunk_at_the_wrong_offset_is_refused_with_the_right_one() {
    let r = Rig::new();
    let bytes = data(1_000);
    let app = r.app(unit(1));
    declare(&app, declaration(id(2), r.alarm, &bytes)).await;
    chunk(&app, id(2), 0, &bytes[..400]).await;
    let (status, at, body) = chunk(&app, id(2), 0, &bytes[..400]).await;
    assert_eq!((status, at), (StatusCode::CONFLICT, Some(400)), "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("resume from 400"),
        "{body}"
    );
    let (status, _, body) = chunk(&app, id(2), 400, &data(700)).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "past the end: {body}"
    );
    let (status, _, body) = call(
        &app,
        "PATCH",
        &format!("/unit/v1/uploads/{}", id(2)),
        None,
        HttpBody::from(vec![1u8; 10]),
        false,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no offset: {body}"
    );
}

#[tokio::test]
async fn a_corrupt_upload_is_discarded_and_starts_again_from_zero() {
    let r = Rig::new();
    let bytes = data(2_000);
    let app = r.app(unit(1));
    declare(&app, declaration(id(3), r.alarm, &bytes)).await;
    chunk(&app, id(3), 0, &bytes[..1_000]).await;
    let mut bad = bytes[1_000..].to_vec();
    bad[10] ^= 0xff;
    let (status, _, body) = chunk(&app, id(3), 1_000, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("SHA-256"),
        "{body}"
    );
    let (_, at, body) = declare(&app, declaration(id(3), r.alarm, &bytes)).await;
    assert_eq!(at, Some(0), "{body}");
    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    assert!(
        store.clips_of_event(r.alarm).unwrap().is_empty(),
        "nothing complete"
    );
}

#[tokio::test]
async fn declarations_are_refused_for_foreign_unknown_or_non_alarm_events_and_oversize_files() {
    let r = Rig::new();
    let bytes = data(100);
    let other = r.app(unit(2));
    let (status, _, body) = declare(&other, declaration(id(4), r.alarm, &bytes)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not this unit's"),
        "{body}"
    );

    let app = r.app(unit(1));
    let unknown = EventId::from_uuid(uuid::Uuid::from_u128(77));
    let (status, _, body) = declare(&app, declaration(id(4), unknown, &bytes)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, body) = declare(&app, declaration(id(4), r.activity, &bytes)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut huge = declaration(id(4), r.alarm, &bytes);
    huge["size"] = json!(crate::clips::upload::MAX_CLIP_BYTES + 1);
    let (status, _, body) = declare(&app, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let mut thumb = declaration(id(4), r.alarm, &bytes);
    thumb["kind"] = json!("thumbnail");
    thumb["size"] = json!(crate::clips::upload::MAX_THUMBNAIL_BYTES + 1);
    let (status, _, _) = declare(&app, thumb).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let mut bad_hash = declaration(id(4), r.alarm, &bytes);
    bad_hash["sha256"] = json!("abc");
    let (status, _, body) = declare(&app, bad_hash).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, body) = call(
        &app,
        "POST",
        "/unit/v1/uploads",
        None,
        HttpBody::from("{not json"),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Declared once; the same id with other facts is refused.
    let (status, _, _) = declare(&app, declaration(id(5), r.alarm, &bytes)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = declare(&app, declaration(id(5), r.alarm, &data(101))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Another unit cannot see or feed it.
    let (status, _, _) = chunk(&other, id(5), 0, &bytes).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(
        &other,
        "HEAD",
        &format!("/unit/v1/uploads/{}", id(5)),
        None,
        HttpBody::empty(),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
