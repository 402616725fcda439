//! The transmission report over HTTP, on known timestamps: delivery times
//! from the events' unit and hub instants, availability from the status log.

use axum::http::StatusCode;
use jiff::SignedDuration;
use picket_proto::ids::{EventId, UnitId};
use picket_proto::message::UnitStatus;
use serde_json::json;

use super::*;
use crate::store::Incoming;

fn unit() -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([0x66; 16]))
}

fn alarm_at(n: u8, at: jiff::Timestamp) -> Incoming {
    Incoming::Event {
        unit: unit(),
        event: picket_proto::message::Event {
            id: EventId::v7(at, [n; 10]),
            seq: u64::from(n),
            at,
            kind: picket_proto::message::EventKind::Alarm {
                sensor: "pir-1".into(),
                sensor_kind: picket_proto::level::SensorKind::Motion,
                camera: None,
                state: picket_proto::arming::ArmState::Armed,
            },
        },
    }
}

#[tokio::test]
async fn delivery_and_availability_are_computed_from_what_happened() {
    let r = rig();
    let Cast {
        centre: ole,
        owner,
        site,
        ..
    } = r.cast().await;
    let start = r.clock.now();
    let store_path = r.dir.path().join("hub.db");
    let commit = |batch: &[Incoming]| {
        let mut store = Store::open(&store_path).unwrap();
        store.commit(batch, r.clock.now()).unwrap();
    };
    let online = Incoming::Status {
        unit: unit(),
        status: UnitStatus::Online,
    };
    commit(std::slice::from_ref(&online));
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/units/{}/site", unit()),
            Some(json!({ "site": site })),
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Alarms raised at +10 s and +20 s reach the hub 200 ms and 600 ms later.
    for (n, at, delay) in [(1u8, 10, 200), (2, 20, 600)] {
        let raised = start.checked_add(SignedDuration::from_secs(at)).unwrap();
        r.clock.set(
            raised
                .checked_add(SignedDuration::from_millis(delay))
                .unwrap(),
        );
        commit(&[alarm_at(n, raised)]);
    }
    // Silent from +60 s (supervision), back at +80 s.
    {
        let mut store = Store::open(&store_path).unwrap();
        let gone = start.checked_add(SignedDuration::from_secs(60)).unwrap();
        assert!(store.mark_offline(unit(), gone).unwrap());
    }
    r.clock
        .set(start.checked_add(SignedDuration::from_secs(80)).unwrap());
    commit(&[online]);

    let end = start.checked_add(SignedDuration::from_secs(100)).unwrap();
    let path = format!("/api/v1/transmission?from={start}&to={end}&site={site}");
    let (status, _, report) = r.call("GET", &path, None, Auth::Cookie(&ole)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let u = &report["units"][0];
    assert_eq!(u["unit"], unit().to_string());
    assert_eq!(u["delivery"]["count"], 2);
    assert_eq!(u["delivery"]["mean_ms"], 400.0);
    assert_eq!(u["delivery"]["p95_ms"], 600.0);
    assert_eq!(
        u["availability"], 0.8,
        "online 0-60 s and 80-100 s of 100 s"
    );
    assert_eq!(report["sites"][0]["site"], site);
    assert_eq!(report["sites"][0]["availability"], 0.8);

    // Customers do not get the fleet report; bad periods are refused.
    let (status, _, _) = r.call("GET", &path, None, Auth::Cookie(&owner)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let backwards = format!("/api/v1/transmission?from={end}&to={start}");
    let (status, _, body) = r.call("GET", &backwards, None, Auth::Cookie(&ole)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
