//! Router tests: the real handlers and store, no sockets.

use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use picket_proto::clock::ManualClock;
use picket_proto::message::Body;
use tokio::sync::mpsc;
use tower::ServiceExt;

use super::*;
use crate::publisher::Outgoing;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const SITE: &str = "019abcde00017000800000000000b001";
const UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b";

struct Rig {
    _dir: tempfile::TempDir,
    app: Router,
    published: mpsc::Receiver<Outgoing>,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("hub.db")).unwrap();
    let (tx, published) = mpsc::channel(64);
    let clock = ManualClock::new("2026-11-23T09:00Z".parse().unwrap());
    let state = ApiState::new(store, tx, Arc::new(clock), TOKEN.into());
    Rig {
        _dir: dir,
        app: router(state),
        published,
    }
}

impl Rig {
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        token: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(HttpBody::from(b.to_string())),
            None => req.body(HttpBody::empty()),
        }
        .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    async fn ok(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let (status, json) = self.call(method, path, body, Some(TOKEN)).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {json}");
        json
    }
}

fn week(windows: &[&str]) -> serde_json::Value {
    let days: serde_json::Map<String, serde_json::Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .into_iter()
    .map(|d| (d.to_owned(), serde_json::json!(windows)))
    .collect();
    serde_json::json!({ "time_zone": "Europe/Copenhagen", "week": days })
}

#[tokio::test]
async fn health_is_open_and_everything_else_needs_the_token() {
    let r = rig();
    let (status, _) = r.call("GET", "/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = r.call("GET", "/api/v1/units", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("sign in first"),
        "{body}"
    );
    let (status, _) = r
        .call(
            "GET",
            "/api/v1/units",
            None,
            Some("0123456789abcdef0123456789abcdeX"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = r.call("GET", "/api/v1/units", None, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_invalid_schedule_is_refused_with_the_reason() {
    let r = rig();
    let (status, body) = r
        .call("PUT", &format!("/api/v1/sites/{SITE}"), Some(serde_json::json!({"name": "Yard", "schedule": week(&["08:00-12:00", "11:00-13:00"])})), Some(TOKEN))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Monday 08:00–12:00 overlaps Monday 11:00–13:00"),
        "{body}"
    );
}

#[tokio::test]
async fn changes_reach_the_units_of_the_site_as_retained_config_with_new_versions() {
    let mut r = rig();
    r.ok(
        "PUT",
        &format!("/api/v1/sites/{SITE}"),
        Some(serde_json::json!({"name": "Yard", "schedule": week(&["18:00-07:00"])})),
    )
    .await;
    r.ok(
        "PUT",
        &format!("/api/v1/units/{UNIT}/site"),
        Some(serde_json::json!({"site": SITE})),
    )
    .await;
    let first = r.published.try_recv().unwrap();
    assert!(first.topic.kind.retained());
    assert_eq!(first.topic.to_string(), format!("/tenants/{UNIT}/v1/cfg"));
    let Body::DesiredConfig(c1) = picket_proto::codec::decode(&first.payload).unwrap().body else {
        panic!()
    };

    let body = r
        .ok(
            "PUT",
            &format!("/api/v1/sites/{SITE}/disarm"),
            Some(serde_json::json!({"until": "2026-11-23T12:00:00Z", "by": "Operator Olsen"})),
        )
        .await;
    assert_eq!(body["units_updated"], 1);
    let Body::DesiredConfig(c2) =
        picket_proto::codec::decode(&r.published.try_recv().unwrap().payload)
            .unwrap()
            .body
    else {
        panic!()
    };
    assert!(c2.version > c1.version);
    assert_eq!(c2.disarm.as_ref().unwrap().by(), "Operator Olsen");

    let units = r.ok("GET", "/api/v1/units", None).await;
    assert_eq!(
        units[0]["pending"], true,
        "the unit has not reported the version yet"
    );

    r.ok("DELETE", &format!("/api/v1/sites/{SITE}/disarm"), None)
        .await;
    let Body::DesiredConfig(c3) =
        picket_proto::codec::decode(&r.published.try_recv().unwrap().payload)
            .unwrap()
            .body
    else {
        panic!()
    };
    assert!(c3.disarm.is_none() && c3.version > c2.version);
}

#[tokio::test]
async fn bad_disarms_and_relocation_moves_are_refused() {
    let r = rig();
    r.ok(
        "PUT",
        &format!("/api/v1/sites/{SITE}"),
        Some(serde_json::json!({"name": "Yard", "schedule": week(&[])})),
    )
    .await;
    r.ok(
        "PUT",
        &format!("/api/v1/units/{UNIT}/site"),
        Some(serde_json::json!({"site": SITE})),
    )
    .await;
    let (status, body) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{SITE}/disarm"),
            Some(serde_json::json!({"until": "2026-12-23T12:00:00Z", "by": "X"})),
            Some(TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("at most 7 days"),
        "{body}"
    );
    let (status, body) = r
        .call(
            "POST",
            &format!("/api/v1/units/{UNIT}/relocation"),
            Some(serde_json::json!({"to": "activation_requested", "actor": "customer"})),
            Some(TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("cannot go to"),
        "{body}"
    );
    let body = r
        .ok(
            "POST",
            &format!("/api/v1/units/{UNIT}/relocation"),
            Some(serde_json::json!({"to": "relocating", "actor": "customer"})),
        )
        .await;
    assert_eq!(body["relocation"], "relocating");
}

#[tokio::test]
async fn unknown_sites_and_bad_ids_say_so() {
    let r = rig();
    let (status, body) = r
        .call(
            "PUT",
            &format!("/api/v1/units/{UNIT}/site"),
            Some(serde_json::json!({"site": SITE})),
            Some(TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"].as_str().unwrap().contains("not found"),
        "{body}"
    );
    let (status, body) = r
        .call("GET", "/api/v1/units/nope/events", None, Some(TOKEN))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().contains("invalid unit id"),
        "{body}"
    );
}
