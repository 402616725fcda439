//! Relocation through the centre's queue over HTTP: the customer pauses a
//! unit, moves it and asks for activation with its new position; the centre
//! rejects with a reason (the customer reads it) or activates (monitoring
//! resumes, the position is recorded); a withdrawn request leaves the queue.

use axum::http::StatusCode;
use jiff::SignedDuration;
use picket_proto::ids::UnitId;
use picket_proto::message::UnitStatus;
use serde_json::{Value, json};

use super::*;
use crate::store::Incoming;

fn unit() -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([0x71; 16]))
}

struct Setup {
    r: Rig,
    owner: String,
    ann: String,
}

async fn setup() -> Setup {
    let r = rig();
    let Cast {
        centre: ann,
        owner,
        site,
        ..
    } = r.cast().await;
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        let seen = Incoming::Status {
            unit: unit(),
            status: UnitStatus::Online,
        };
        store.commit(&[seen], r.clock.now()).unwrap();
    }
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/units/{}/site", unit()),
            Some(json!({ "site": site })),
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Setup { r, owner, ann }
}

async fn relocate(r: &Rig, body: Value, who: &str) -> (StatusCode, Value) {
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/units/{}/relocation", unit()),
            Some(body),
            Auth::Cookie(who),
        )
        .await;
    (status, body)
}

async fn relocation(r: &Rig, who: &str) -> Value {
    let (status, _, body) = r
        .call(
            "GET",
            &format!("/api/v1/units/{}/relocation", unit()),
            None,
            Auth::Cookie(who),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn queue(r: &Rig, who: &str) -> Vec<Value> {
    let (status, _, body) = r
        .call("GET", "/api/v1/centre/queue", None, Auth::Cookie(who))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

use super::queue_step as step;

async fn support(r: &Rig, supported: bool, who: &str) -> (StatusCode, Value) {
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/units/{}/relocation-support", unit()),
            Some(json!({ "supported": supported })),
            Auth::Cookie(who),
        )
        .await;
    (status, body)
}

fn desired_version(r: &Rig) -> u64 {
    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    store.desired_config(unit()).unwrap().unwrap().version.0
}

#[tokio::test]
async fn a_rejected_request_tells_the_customer_why_and_an_activation_records_the_new_position() {
    let Setup { r, owner, ann } = setup().await;
    let (status, body) = relocate(&r, json!({ "to": "relocating" }), &owner).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(relocation(&r, &owner).await["state"], "relocating");
    assert!(
        queue(&r, &ann).await.is_empty(),
        "pausing asks nothing of the centre"
    );

    // Asking for activation with a position puts an item in the queue,
    // less urgent than the site's alarms.
    let there = json!({ "latitude": 55.6761, "longitude": 12.5683 });
    let (status, body) = relocate(
        &r,
        json!({ "to": "activation_requested", "position": there }),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = queue(&r, &ann).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "activation");
    assert_eq!(
        items[0]["priority"], 5,
        "standard level 3, two steps less urgent"
    );
    assert_eq!(items[0]["requested_position"], there);
    assert_eq!(
        items[0]["unit_health"]["online"], true,
        "the centre sees the unit's health with the request"
    );
    let item = items[0]["id"].as_str().unwrap().to_owned();

    // The centre checks it: an alarm's outcome does not fit, a rejection
    // needs a reason.
    let (status, body) = step(&r, &item, "claim", None, &ann).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = step(
        &r,
        &item,
        "handle",
        Some(json!({ "outcome": "false_alarm" })),
        &ann,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("outcome"),
        "{body}"
    );
    let (status, body) = step(
        &r,
        &item,
        "handle",
        Some(json!({ "outcome": "rejected", "notes": "  " })),
        &ann,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].as_str().unwrap().contains("why"), "{body}");
    r.clock.advance(SignedDuration::from_secs(90));
    let before = desired_version(&r);
    let (status, body) = step(
        &r,
        &item,
        "handle",
        Some(json!({ "outcome": "rejected", "notes": "Camera 1 faces the wall; turn it towards the gate" })),
        &ann,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        desired_version(&r) > before,
        "the unit is told it relocates again"
    );
    let seen = relocation(&r, &owner).await;
    assert_eq!(seen["state"], "relocating");
    assert_eq!(
        seen["position"],
        Value::Null,
        "a rejected position is not recorded"
    );
    assert_eq!(seen["last_request"]["decision"], "rejected");
    assert_eq!(
        seen["last_request"]["reason"],
        "Camera 1 faces the wall; turn it towards the gate"
    );
    assert!(queue(&r, &ann).await.is_empty());

    // Fixed; asked again from a slightly different spot; activated.
    let here = json!({ "latitude": 55.6762, "longitude": 12.5681 });
    r.clock.advance(SignedDuration::from_secs(600));
    let (status, body) = relocate(
        &r,
        json!({ "to": "activation_requested", "position": here }),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let item = queue(&r, &ann).await[0]["id"].as_str().unwrap().to_owned();
    step(&r, &item, "claim", None, &ann).await;
    let (status, body) = step(
        &r,
        &item,
        "handle",
        Some(json!({ "outcome": "activated" })),
        &ann,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "decided straight from the claim: {body}"
    );
    let seen = relocation(&r, &owner).await;
    assert_eq!(seen["state"], "active");
    assert_eq!(seen["position"], here);
    assert_eq!(seen["last_request"]["decision"], "activated");
    let (_, _, overview) = r
        .call("GET", "/api/v1/overview", None, Auth::Cookie(&owner))
        .await;
    assert_eq!(overview["units"][0]["position"], here, "on the map");
    let config = {
        let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        store.desired_config(unit()).unwrap().unwrap()
    };
    assert_eq!(
        config.relocation,
        picket_proto::relocation::RelocationState::Active
    );

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let audited: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("unit.relocation") || e.action == "queue.handle")
        .map(|e| format!("{} by {}", e.action, e.actor_label))
        .collect();
    assert_eq!(
        audited,
        [
            "queue.handle by ann@centre.example",
            "unit.relocation by anna@harbour.example",
            "queue.handle by ann@centre.example",
            "unit.relocation by anna@harbour.example",
            "unit.relocation by anna@harbour.example",
        ]
    );
}

#[tokio::test]
async fn a_withdrawn_request_leaves_the_queue_and_a_customer_cannot_activate() {
    let Setup { r, owner, ann } = setup().await;
    relocate(&r, json!({ "to": "relocating" }), &owner).await;
    let (status, body) = relocate(
        &r,
        json!({ "to": "relocating", "position": { "latitude": 1.0, "longitude": 2.0 } }),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = relocate(
        &r,
        json!({ "to": "activation_requested", "position": { "latitude": 91.0, "longitude": 2.0 } }),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("latitude"),
        "{body}"
    );
    let (status, body) = relocate(&r, json!({ "to": "activation_requested" }), &owner).await;
    assert_eq!(status, StatusCode::OK, "a position is optional: {body}");
    assert_eq!(queue(&r, &ann).await.len(), 1);
    let (status, body) = relocate(&r, json!({ "to": "active" }), &owner).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only the centre activates: {body}"
    );
    let (status, body) = relocate(&r, json!({ "to": "relocating" }), &owner).await;
    assert_eq!(status, StatusCode::OK, "withdrawn: {body}");
    assert!(
        queue(&r, &ann).await.is_empty(),
        "the request left the queue"
    );
    assert_eq!(relocation(&r, &owner).await["last_request"], Value::Null);

    // The centre may also activate without a request; no item is left.
    let (status, body) = relocate(&r, json!({ "to": "active" }), &ann).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(relocation(&r, &owner).await["state"], "active");
}

#[tokio::test]
async fn a_model_that_cannot_move_is_refused() {
    let Setup { r, owner, ann } = setup().await;
    let (status, body) = support(&r, false, &owner).await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "the customer cannot declare its hardware: {status} {body}"
    );
    let (status, body) = support(&r, false, &ann).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = relocate(&r, json!({ "to": "relocating" }), &owner).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("does not support"),
        "{body}"
    );
    assert_eq!(relocation(&r, &owner).await["supported"], false);
    let config = Store::open(&r.dir.path().join("hub.db"))
        .unwrap()
        .desired_config(unit())
        .unwrap()
        .unwrap();
    assert!(!config.relocation_supported, "the unit is told too");

    // Supported again; while it relocates, its support cannot change.
    support(&r, true, &ann).await;
    let (status, _) = relocate(&r, json!({ "to": "relocating" }), &owner).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = support(&r, false, &ann).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}
