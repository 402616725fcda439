//! The monitoring centre's queue over HTTP: who sees which items, one
//! claim at a time, the lifecycle in order, and every step audited.

use axum::http::StatusCode;
use jiff::SignedDuration;
use picket_proto::ids::{EventId, UnitId};
use serde_json::{Value, json};

use super::*;
use crate::store::Incoming;

fn unit(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([0x60 + n; 16]))
}

/// An alarm from `unit` committed by ingest now.
fn alarm(r: &Rig, unit: UnitId, n: u8) -> EventId {
    let id = EventId::v7(r.clock.now(), [n; 10]);
    let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let event = picket_proto::message::Event {
        id,
        seq: u64::from(n),
        at: r.clock.now(),
        kind: picket_proto::message::EventKind::Alarm {
            sensor: "door-1".into(),
            sensor_kind: picket_proto::level::SensorKind::Door,
            camera: None,
            state: picket_proto::arming::ArmState::Armed,
        },
    };
    store
        .commit(&[Incoming::Event { unit, event }], r.clock.now())
        .unwrap();
    id
}

struct Centre {
    r: Rig,
    customer: String,
    site: String,
    owner: String,
    ann: String,
    bo: String,
}

/// A customer site with a unit, and two centre operators.
async fn centre() -> Centre {
    let r = rig();
    let operator = r.org("operator", "Picket Security").await;
    let customer = r.org("customer", "Harbour Ltd").await;
    let (owner, _) = r
        .member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    let (ann, _) = r
        .member(
            &operator,
            "ann@centre.example",
            "centre_operator",
            json!("all"),
        )
        .await;
    let (bo, _) = r
        .member(
            &operator,
            "bo@centre.example",
            "centre_operator",
            json!("all"),
        )
        .await;
    let (status, body) = site(&r, &customer, "Quay", None, Auth::Operator).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let site = body["id"].as_str().unwrap().to_owned();
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        let seen = Incoming::Status {
            unit: unit(1),
            status: picket_proto::message::UnitStatus::Online,
        };
        store.commit(&[seen], r.clock.now()).unwrap();
    }
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/units/{}/site", unit(1)),
            Some(json!({ "site": site })),
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Centre {
        r,
        customer,
        site,
        owner,
        ann,
        bo,
    }
}

use super::queue_step as post;

async fn queue(r: &Rig, who: &str) -> Value {
    let (status, _, body) = r
        .call("GET", "/api/v1/centre/queue", None, Auth::Cookie(who))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn an_alarm_is_claimed_acknowledged_and_handled_by_one_operator_and_audited() {
    let Centre {
        r, owner, ann, bo, ..
    } = centre().await;
    let first = alarm(&r, unit(1), 1);
    r.clock.advance(SignedDuration::from_secs(5));
    let second = alarm(&r, unit(1), 2);

    let seen = queue(&r, &ann).await;
    assert_eq!(
        seen[0]["id"],
        first.to_string(),
        "oldest first at equal priority"
    );
    assert_eq!(seen[1]["id"], second.to_string());
    assert_eq!(seen[0]["status"]["state"], "waiting");
    assert_eq!(
        queue(&r, &owner).await,
        json!([]),
        "customers do not work the queue"
    );

    let (status, body) = post(&r, first, "claim", None, &ann).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Visible to the other operator, who cannot take it.
    assert_eq!(queue(&r, &bo).await[0]["status"]["state"], "claimed");
    let (status, body) = post(&r, first, "claim", None, &bo).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // One at a time: Ann cannot take the second while holding the first.
    let (status, body) = post(&r, second, "claim", None, &ann).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Handling comes after acknowledging, and only by the claimant.
    let handled = json!({ "outcome": "false_alarm", "notes": "Cat on the quay" });
    let (status, body) = post(&r, first, "handle", Some(handled.clone()), &ann).await;
    assert_eq!(status, StatusCode::CONFLICT, "not acknowledged yet: {body}");
    let (status, body) = post(&r, first, "acknowledge", None, &bo).await;
    assert_eq!(status, StatusCode::CONFLICT, "not Bo's: {body}");

    r.clock.advance(SignedDuration::from_secs(30));
    let (status, body) = post(&r, first, "acknowledge", None, &ann).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let long = json!({ "outcome": "false_alarm", "notes": "x".repeat(4001) });
    let (status, body) = post(&r, first, "handle", Some(long), &ann).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = post(
        &r,
        first,
        "handle",
        Some(json!({ "outcome": "aliens" })),
        &ann,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    r.clock.advance(SignedDuration::from_secs(60));
    let (status, body) = post(&r, first, "handle", Some(handled), &ann).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["outcome"], "false_alarm");
    assert_eq!(body["status"]["notes"], "Cat on the quay");

    let left = queue(&r, &bo).await;
    assert_eq!(
        left.as_array().unwrap().len(),
        1,
        "handled items leave the queue"
    );
    assert_eq!(left[0]["id"], second.to_string());
    let (status, body) = post(&r, second, "claim", None, &ann).await;
    assert_eq!(status, StatusCode::OK, "free again: {body}");

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let steps: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .rev()
        .filter(|e| e.action.starts_with("queue."))
        .map(|e| format!("{} by {}", e.action, e.actor_label))
        .collect();
    assert_eq!(
        steps,
        [
            "queue.claim by ann@centre.example",
            "queue.acknowledge by ann@centre.example",
            "queue.handle by ann@centre.example",
            "queue.claim by ann@centre.example",
        ],
        "each step, and no refused one"
    );
}

#[tokio::test]
async fn an_item_waiting_too_long_is_escalated_and_the_operator_token_cannot_claim() {
    let Centre { r, ann, .. } = centre().await;
    let item = alarm(&r, unit(1), 1);
    assert_eq!(queue(&r, &ann).await[0]["escalated"], false);
    r.clock.advance(SignedDuration::from_secs(119));
    assert_eq!(queue(&r, &ann).await[0]["escalated"], false);
    r.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        queue(&r, &ann).await[0]["escalated"],
        true,
        "at two minutes"
    );
    let (status, body) = post(&r, item, "claim", None, &ann).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["escalated"], true, "claimed is not yet acknowledged");
    post(&r, item, "acknowledge", None, &ann).await;
    assert_eq!(queue(&r, &ann).await[0]["escalated"], false, "acknowledged");

    let other = alarm(&r, unit(1), 2);
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/centre/queue/{other}/claim"),
            None,
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("sign in as a person"),
        "{body}"
    );
    let unknown = EventId::v7(r.clock.now(), [0xee; 10]);
    let (status, body) = post(&r, unknown, "claim", None, &ann).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

async fn get(r: &Rig, path: &str, who: &str) -> (StatusCode, Value) {
    let (status, _, body) = r.call("GET", path, None, Auth::Cookie(who)).await;
    (status, body)
}

#[tokio::test]
async fn the_customer_sees_alarms_with_times_and_the_incident_report_unless_not_shared() {
    let Centre {
        r,
        customer,
        site,
        owner,
        ann,
        ..
    } = centre().await;
    let start = r.clock.now();
    let handled = alarm(&r, unit(1), 1);
    r.clock.advance(SignedDuration::from_secs(10));
    post(&r, handled, "claim", None, &ann).await;
    r.clock.advance(SignedDuration::from_secs(20));
    post(&r, handled, "acknowledge", None, &ann).await;
    r.clock.advance(SignedDuration::from_secs(60));
    let (status, body) = post(
        &r,
        handled,
        "handle",
        Some(json!({ "outcome": "guard_dispatched", "notes": "Guard found an open gate" })),
        &ann,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let waiting = alarm(&r, unit(1), 2);

    let (status, list) = get(&r, "/api/v1/alarms", &owner).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["id"], waiting.to_string(), "newest first");
    assert_eq!(list[0]["centre"]["state"], "waiting");
    assert_eq!(list[0]["incident_report"], Value::Null);
    let (_, one) = get(&r, &format!("/api/v1/alarms/{handled}"), &owner).await;
    assert_eq!(one["sensor"], "door-1");
    assert_eq!(one["state"], "armed");
    assert_eq!(one["centre"]["response_s"], 30.0, "received → acknowledged");
    assert_eq!(one["centre"]["handling_s"], 60.0, "acknowledged → handled");
    assert_eq!(one["incident_report"]["outcome"], "guard_dispatched");
    assert_eq!(one["incident_report"]["notes"], "Guard found an open gate");

    let (_, handled_only) = get(
        &r,
        "/api/v1/alarms?status=handled&outcome=guard_dispatched",
        &owner,
    )
    .await;
    assert_eq!(handled_only.as_array().unwrap().len(), 1);
    let (status, body) = get(&r, "/api/v1/alarms?status=lost", &owner).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, page) = get(&r, "/api/v1/alarms?limit=1", &owner).await;
    let (_, next) = get(
        &r,
        &format!(
            "/api/v1/alarms?limit=1&before={}",
            page[0]["id"].as_str().unwrap()
        ),
        &owner,
    )
    .await;
    assert_eq!(next[0]["id"], handled.to_string(), "the second page");

    let period = format!(
        "from={}&to={}",
        start,
        start.checked_add(SignedDuration::from_hours(1)).unwrap()
    );
    let (status, times) = get(&r, &format!("/api/v1/response-times?{period}"), &owner).await;
    assert_eq!(status, StatusCode::OK, "{times}");
    assert_eq!(times[0]["site"], Value::Null, "overall first");
    assert_eq!(times[0]["response"]["count"], 1);
    assert_eq!(times[0]["response"]["median_s"], 30.0);
    assert_eq!(times[0]["handling"]["p90_s"], 60.0);
    assert_eq!(times[1]["site"], site);

    // The customer stops sharing incident reports and times with its users.
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/organisations/{customer}/sharing"),
            Some(json!({ "incident_reports": false, "response_times": false, "clips": true, "live_view": true })),
            Auth::Cookie(&owner),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (_, one) = get(&r, &format!("/api/v1/alarms/{handled}"), &owner).await;
    assert_eq!(one["incident_report"], Value::Null, "not shared");
    assert_eq!(one["centre"]["response_s"], Value::Null, "not shared");
    assert_eq!(
        one["centre"]["state"], "handled",
        "that it was handled still shows"
    );
    let (status, _) = get(
        &r,
        &format!("/api/v1/response-times?{period}&site={site}"),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The centre still reads its own report.
    let (_, theirs) = get(&r, &format!("/api/v1/alarms/{handled}"), &ann).await;
    assert_eq!(theirs["incident_report"]["outcome"], "guard_dispatched");
}

#[tokio::test]
async fn a_customer_who_takes_reports_after_review_sees_one_only_once_the_centre_shares_it() {
    let Centre {
        r,
        customer,
        owner,
        ann,
        bo,
        ..
    } = centre().await;
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/organisations/{customer}/sharing"),
            Some(json!({ "incident_reports_after_review": true })),
            Auth::Cookie(&owner),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let id = alarm(&r, unit(1), 1);
    // Sharing before it is handled is refused.
    let (status, body) = post(&r, id, "share-report", None, &ann).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    for step in ["claim", "acknowledge"] {
        post(&r, id, step, None, &ann).await;
    }
    let (status, body) = post(
        &r,
        id,
        "handle",
        Some(json!({ "outcome": "intruder", "notes": "Two people at the fence; police called" })),
        &ann,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["status"].get("shared_at").is_none(), "{body}");

    // The customer sees that it was handled, not the report.
    let (_, one) = get(&r, &format!("/api/v1/alarms/{id}"), &owner).await;
    assert_eq!(one["centre"]["state"], "handled");
    assert_eq!(one["incident_report"], Value::Null, "awaiting review");
    // The centre finds what awaits review and reads the report.
    let (status, pending) = get(&r, "/api/v1/alarms?status=awaiting_review", &bo).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["incident_report"]["outcome"], "intruder");
    assert_eq!(pending[0]["incident_report"]["shared_at"], Value::Null);
    // The customer cannot share it; a supervisor-like colleague can.
    let (status, body) = post(&r, id, "share-report", None, &owner).await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status} {body}"
    );
    r.clock.advance(SignedDuration::from_secs(300));
    let (status, body) = post(&r, id, "share-report", None, &bo).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, one) = get(&r, &format!("/api/v1/alarms/{id}"), &owner).await;
    assert_eq!(one["incident_report"]["outcome"], "intruder");
    assert_eq!(
        one["incident_report"]["shared_at"],
        r.clock.now().to_string()
    );
    let (_, pending) = get(&r, "/api/v1/alarms?status=awaiting_review", &bo).await;
    assert_eq!(pending.as_array().unwrap().len(), 0);
    let (status, body) = post(&r, id, "share-report", None, &bo).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("already shared"),
        "{body}"
    );

    // Back to automatic: the next report is shared as it is handled.
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/organisations/{customer}/sharing"),
            Some(json!({})),
            Auth::Cookie(&owner),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let next = alarm(&r, unit(1), 2);
    for step in ["claim", "acknowledge"] {
        post(&r, next, step, None, &ann).await;
    }
    post(
        &r,
        next,
        "handle",
        Some(json!({ "outcome": "false_alarm" })),
        &ann,
    )
    .await;
    let (_, one) = get(&r, &format!("/api/v1/alarms/{next}"), &owner).await;
    assert_eq!(one["incident_report"]["outcome"], "false_alarm");

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let shares: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "queue.share_report")
        .map(|e| e.actor_label)
        .collect();
    assert_eq!(
        shares,
        ["bo@centre.example"],
        "only the review is audited as a share"
    );
}

#[tokio::test]
async fn the_overview_shows_recent_alarms_the_units_and_what_needs_attention() {
    let Centre { r, owner, ann, .. } = centre().await;
    let first = alarm(&r, unit(1), 1);
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        let tamper = picket_proto::message::Event {
            id: EventId::v7(r.clock.now(), [9; 10]),
            seq: 9,
            at: r.clock.now(),
            kind: picket_proto::message::EventKind::Tamper {
                sensor: "lid".into(),
            },
        };
        store
            .commit(
                &[Incoming::Event {
                    unit: unit(1),
                    event: tamper,
                }],
                r.clock.now(),
            )
            .unwrap();
    }
    let (status, body) = get(&r, "/api/v1/overview", &owner).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recent_alarms"][0]["id"], first.to_string());
    assert_eq!(body["units"][0]["id"], unit(1).to_string());
    assert_eq!(body["units"][0]["online"], true);
    assert_eq!(body["attention"][0]["unit"], unit(1).to_string());
    assert_eq!(
        body["attention"][0]["reasons"],
        json!(["tamper", "config_pending"]),
        "the enclosure is open, and the unit never applied its config"
    );
    assert_eq!(body["attention_total"], 1);
    assert_eq!(
        body["times"]["response"],
        Value::Null,
        "nothing acknowledged yet"
    );
    // The centre's operator sees the same unit; a bad period is refused.
    let (_, theirs) = get(&r, "/api/v1/overview", &ann).await;
    assert_eq!(theirs["units"][0]["id"], unit(1).to_string());
    let (status, _) = get(
        &r,
        "/api/v1/overview?from=2026-11-24T00:00:00Z&to=2026-11-23T00:00:00Z",
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
