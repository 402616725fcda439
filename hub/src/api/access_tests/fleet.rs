//! Fleet health over HTTP: the summary counts each problem, the filter and
//! paging walk the units, a tamper shows while the enclosure is open, and
//! only roles that watch the fleet may ask.

use axum::http::StatusCode;
use picket_proto::ids::{EventId, UnitId};
use picket_proto::message::{CameraHealth, CameraStatus, Event, EventKind, Health, UnitStatus};
use serde_json::{Value, json};

use super::*;
use crate::store::Incoming;

fn unit(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([0x80 + n; 16]))
}

fn health(free: u64, camera: CameraStatus) -> Health {
    Health {
        disk_free_bytes: free,
        disk_total_bytes: 1_000,
        temperature_c: None,
        cameras: vec![CameraHealth {
            camera: picket_proto::ids::CameraId::from_uuid(uuid::Uuid::from_bytes([9; 16])),
            status: camera,
        }],
        clock_skew_ms: None,
        outbox_events: 0,
        clips_pending: 0,
        clips_over_quota_bytes: 0,
    }
}

fn tamper(r: &Rig, n: u8, restored: bool) -> Incoming {
    let kind = if restored {
        EventKind::TamperRestored {
            sensor: "lid".into(),
        }
    } else {
        EventKind::Tamper {
            sensor: "lid".into(),
        }
    };
    Incoming::Event {
        unit: unit(1),
        event: Event {
            id: EventId::v7(r.clock.now(), [n; 10]),
            seq: u64::from(n),
            at: r.clock.now(),
            kind,
        },
    }
}

async fn get(r: &Rig, path: &str, who: &str) -> (StatusCode, Value) {
    let (status, _, body) = r.call("GET", path, None, Auth::Cookie(who)).await;
    (status, body)
}

#[tokio::test]
async fn the_centre_sees_each_problem_counted_filtered_and_paged() {
    let r = rig();
    let Cast {
        centre: ann,
        owner,
        site,
        ..
    } = r.cast().await;
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        let mut batch = Vec::new();
        for n in 1..=4 {
            batch.push(Incoming::Status {
                unit: unit(n),
                status: UnitStatus::Online,
            });
        }
        batch.push(Incoming::Heartbeat {
            unit: unit(2),
            health: health(50, CameraStatus::Lost),
        });
        batch.push(Incoming::Status {
            unit: unit(3),
            status: UnitStatus::Offline,
        });
        batch.push(tamper(&r, 1, false));
        store.commit(&batch, r.clock.now()).unwrap();
    }
    for n in 1..=3 {
        let (status, _, body) = r
            .call(
                "PUT",
                &format!("/api/v1/units/{}/site", unit(n)),
                Some(json!({ "site": site })),
                Auth::Operator,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, fleet) = get(&r, "/api/v1/fleet", &ann).await;
    assert_eq!(status, StatusCode::OK, "{fleet}");
    let summary = &fleet["summary"];
    assert_eq!(summary["units"], 4);
    assert_eq!(summary["online"], 3);
    assert_eq!(summary["unassigned"], 1, "unit 4 is stock");
    assert_eq!(summary["offline"], 1);
    assert_eq!(summary["tamper"], 1);
    assert_eq!(summary["camera_lost"], 1);
    assert_eq!(summary["disk_low"], 1);
    assert_eq!(
        summary["config_pending"], 3,
        "no unit confirmed its site's config"
    );
    assert_eq!(summary["needing_attention"], 3);
    assert_eq!(fleet["units"].as_array().unwrap().len(), 4);

    let (_, lost) = get(&r, "/api/v1/fleet?problem=camera_lost", &ann).await;
    let ids: Vec<&str> = lost["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [unit(2).to_string()]);
    assert_eq!(lost["units"][0]["cameras"][0]["status"], "lost");
    assert_eq!(lost["units"][0]["disk_free_bytes"], 50);
    assert_eq!(
        lost["summary"]["units"], 4,
        "the summary ignores the filter"
    );

    // Paging by id, two at a time.
    let (_, first) = get(&r, "/api/v1/fleet?limit=2", &ann).await;
    assert_eq!(first["units"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap().to_owned();
    let (_, second) = get(&r, &format!("/api/v1/fleet?limit=2&after={next}"), &ann).await;
    assert_eq!(second["units"].as_array().unwrap().len(), 2);
    assert_eq!(second["next"], Value::Null);
    assert_eq!(second["units"][1]["id"], unit(4).to_string());

    // The enclosure closes: the tamper no longer shows.
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        store.commit(&[tamper(&r, 2, true)], r.clock.now()).unwrap();
        store
            .raise_tamper_items(r.clock.now(), jiff::SignedDuration::from_secs(10))
            .unwrap();
    }
    let (_, fleet) = get(&r, "/api/v1/fleet?problem=tamper", &ann).await;
    assert_eq!(fleet["summary"]["tamper"], 0);
    assert!(fleet["units"].as_array().unwrap().is_empty());

    // Bad filters are named; a customer does not watch the fleet.
    let (status, body) = get(&r, "/api/v1/fleet?problem=smoke", &ann).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("camera_lost"),
        "{body}"
    );
    let (status, body) = get(&r, "/api/v1/fleet", &owner).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}
