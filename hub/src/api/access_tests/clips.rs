//! An alarm's clips for people: listed in the alarm's details, fetched
//! whole or by range, every fetch audited; refused where the customer does
//! not share clips, and for another customer.

use axum::http::StatusCode;
use picket_proto::ids::{CameraId, EventId, UnitId};
use picket_proto::message::{Event, EventKind, UnitStatus};
use serde_json::{Value, json};

use super::*;
use crate::clips::storage::ClipStore;
use crate::clips::upload::{ClipKind, sha256};
use crate::store::{ClipDeclaration, Incoming};

fn unit() -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([0x91; 16]))
}

/// An alarm of the unit (on `site`) with a complete clip of `data`.
async fn alarm_with_clip(r: &Rig, site: &str, data: &[u8]) -> (EventId, uuid::Uuid) {
    let db = r.dir.path().join("hub.db");
    Store::open(&db)
        .unwrap()
        .commit(
            &[Incoming::Status {
                unit: unit(),
                status: UnitStatus::Online,
            }],
            r.clock.now(),
        )
        .unwrap();
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/units/{}/site", unit()),
            Some(json!({ "site": site })),
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let now = r.clock.now();
    let event = Event {
        id: EventId::v7(now, [5; 10]),
        seq: 1,
        at: now,
        kind: EventKind::Alarm {
            sensor: "pir-1".into(),
            sensor_kind: picket_proto::level::SensorKind::Motion,
            camera: None,
            state: picket_proto::arming::ArmState::Armed,
        },
    };
    let alarm = event.id;
    let mut store = Store::open(&db).unwrap();
    store
        .commit(
            &[Incoming::Event {
                unit: unit(),
                event,
            }],
            now,
        )
        .unwrap();
    // What a finished upload leaves behind.
    let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0c11);
    let (_, site_id, _) = store.event_origin(alarm).unwrap().unwrap();
    store
        .declare_clip(
            unit(),
            site_id,
            &ClipDeclaration {
                id,
                event: alarm,
                camera: CameraId::from_uuid(uuid::Uuid::from_bytes([0xca; 16])),
                kind: ClipKind::Clip,
                size: data.len() as u64,
                sha256: sha256(data),
                started_at: Some(now - jiff::SignedDuration::from_secs(10)),
                ended_at: Some(now + jiff::SignedDuration::from_secs(20)),
            },
            now,
        )
        .unwrap();
    let files = crate::clips::storage::LocalDir::open(&r.dir.path().join("clips")).unwrap();
    files
        .append(id, 0, axum::body::Bytes::copy_from_slice(data))
        .await
        .unwrap();
    files
        .finish(id, ClipKind::Clip, sha256(data))
        .await
        .unwrap();
    store.complete_clip(id, now).unwrap();
    (alarm, id)
}

async fn fetch(
    r: &Rig,
    path: &str,
    range: Option<&str>,
    who: &str,
) -> (StatusCode, Vec<u8>, Value) {
    let mut req = axum::http::Request::builder()
        .method("GET")
        .uri(path)
        .header("cookie", format!("picket_session={who}"));
    if let Some(range) = range {
        req = req.header("range", range);
    }
    let resp = r
        .app
        .clone()
        .oneshot(req.body(HttpBody::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    let meta = json!({
        "content-range": headers.get("content-range").and_then(|v| v.to_str().ok()),
        "content-type": headers.get("content-type").and_then(|v| v.to_str().ok()),
    });
    (status, bytes, meta)
}

#[tokio::test]
async fn an_alarms_clip_is_listed_fetched_by_range_and_every_fetch_is_audited() {
    let r = rig();
    let Cast {
        owner,
        centre,
        site,
        ..
    } = r.cast().await;
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 256) as u8).collect();
    let (alarm, clip) = alarm_with_clip(&r, &site, &data).await;

    let (status, _, view) = r
        .call(
            "GET",
            &format!("/api/v1/alarms/{alarm}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["clips"][0]["kind"], "clip");
    assert_eq!(view["clips"][0]["size"], 10_000);
    let url = view["clips"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/api/v1/clips/{}", clip.simple()));

    let (status, bytes, meta) = fetch(&r, &url, None, &owner).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, data);
    assert_eq!(meta["content-type"], "video/mp4");
    let (status, bytes, meta) = fetch(&r, &url, Some("bytes=1000-1999"), &owner).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(bytes, data[1000..2000]);
    assert_eq!(meta["content-range"], "bytes 1000-1999/10000");
    let (status, _, meta) = fetch(&r, &url, Some("bytes=20000-"), &owner).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(meta["content-range"], "bytes */10000");
    let (status, bytes, _) = fetch(&r, &url, None, &centre).await;
    assert_eq!(
        (status, bytes.len()),
        (StatusCode::OK, 10_000),
        "the centre too"
    );

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let views: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "clip.view")
        .map(|e| e.actor_label)
        .collect();
    assert_eq!(
        views,
        [
            "ann@centre.example",
            "anna@harbour.example",
            "anna@harbour.example"
        ],
        "each fetch, newest first (not the refused range)"
    );
}

#[tokio::test]
async fn clips_are_refused_where_the_customer_does_not_share_them_and_to_other_customers() {
    let r = rig();
    let Cast {
        owner,
        site,
        customer,
        ..
    } = r.cast().await;
    let data = b"clip bytes".to_vec();
    let (alarm, clip) = alarm_with_clip(&r, &site, &data).await;
    let url = format!("/api/v1/clips/{}", clip.simple());

    let stranger_org = r.org("customer", "Other Ltd").await;
    let (stranger, _) = r
        .member(&stranger_org, "eve@other.example", "owner", json!("all"))
        .await;
    let (status, _, _) = fetch(&r, &url, None, &stranger).await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}"
    );

    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/organisations/{customer}/sharing"),
            Some(json!({ "clips": false })),
            Auth::Cookie(&owner),
        )
        .await;
    assert!(status.is_success(), "sharing: {status} {body}");
    let (status, _, _) = fetch(&r, &url, None, &owner).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "not shared with the customer's users"
    );
    let (_, _, view) = r
        .call(
            "GET",
            &format!("/api/v1/alarms/{alarm}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(view["clips"], json!([]), "not listed either");
    let (status, _, _) = fetch(&r, "/api/v1/clips/not-a-uuid", None, &owner).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_clip_the_unit_discarded_is_shown_with_its_reason_so_nobody_waits_for_it() {
    let r = rig();
    let Cast { owner, site, .. } = r.cast().await;
    let (alarm, _) = alarm_with_clip(&r, &site, b"clip bytes").await;
    let gate = CameraId::from_uuid(uuid::Uuid::from_bytes([0xcb; 16]));
    let now = r.clock.now() + jiff::SignedDuration::from_secs(40);
    let discarded = |n: u8, of: EventId| Incoming::Event {
        unit: unit(),
        event: Event {
            id: EventId::v7(now, [n; 10]),
            seq: u64::from(n),
            at: now,
            kind: EventKind::ClipDiscarded {
                alarm: of,
                camera: gate,
                reason: "no complete frame was on disk after an unclean stop".into(),
            },
        },
    };
    let other = EventId::v7(now, [0x77; 10]);
    Store::open(&r.dir.path().join("hub.db"))
        .unwrap()
        .commit(&[discarded(2, alarm), discarded(3, other)], now)
        .unwrap();
    let (status, _, view) = r
        .call(
            "GET",
            &format!("/api/v1/alarms/{alarm}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["clips"].as_array().unwrap().len(), 1);
    let lost = view["clips_discarded"].as_array().unwrap();
    assert_eq!(lost.len(), 1, "only this alarm's: {view}");
    assert_eq!(lost[0]["camera"], gate.to_string());
    assert!(
        lost[0]["reason"].as_str().unwrap().contains("unclean stop"),
        "{view}"
    );
}
