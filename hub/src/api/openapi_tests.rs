//! The OpenAPI document is valid and lists exactly the routes served.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use picket_proto::clock::ManualClock;
use tower::ServiceExt;

use super::openapi::{Access, OPERATIONS, document};
use super::*;

#[test]
fn the_document_is_valid_openapi_and_every_reference_resolves() {
    let doc = document();
    let parsed: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).expect("a valid OpenAPI 3.0 document");
    assert_eq!(
        parsed.paths.paths.len(),
        OPERATIONS
            .iter()
            .map(|o| o.path)
            .collect::<BTreeSet<_>>()
            .len()
    );
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
                "duplicate operationId at {method} {path}"
            );
            let params: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(params, in_path, "{method} {path}");
        }
    }
}

/// The (method, path) pairs the router source declares under `/api/v1`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let source = include_str!("mod.rs");
    let start = source.find("pub fn router(").expect("router()");
    let body = &source[start..];
    let end = body.find("\n}\n").expect("end of router()");
    let body = &body[..end];
    let mut out = BTreeSet::new();
    for chunk in body.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).expect("a quoted path").to_owned();
        if path == "/health" {
            continue; // outside /api/v1
        }
        let chain = chunk.split(".route(").next().unwrap_or(chunk);
        let chain = chain.split(".route_layer").next().unwrap_or(chain);
        let chain = chain.split(".with_state").next().unwrap_or(chain);
        for method in ["get", "post", "put", "patch", "delete"] {
            if chain.contains(&format!("{method}(")) {
                out.insert((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn the_document_lists_every_route_the_router_declares_and_no_other() {
    let documented: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|o| (o.method.to_owned(), o.path.to_owned()))
        .collect();
    let declared = routes_in_source();
    assert!(
        declared.len() > 30,
        "the source scan found only {declared:?}"
    );
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not declared: {unserved:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("hub.db")).unwrap();
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let clock = ManualClock::new("2026-11-23T09:00Z".parse().unwrap());
    let app = router(ApiState::new(store, tx, Arc::new(clock), "t".repeat(32)));
    for operation in OPERATIONS {
        let path = operation
            .path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "019abcde00017000800000000000b001"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let mut req = Request::builder()
            .method(operation.method.to_uppercase().as_str())
            .uri(format!("/api/v1{path}"))
            .header("content-type", "application/json");
        if operation.access == Access::Caller {
            req = req.header("authorization", format!("Bearer {}", "t".repeat(32)));
        }
        let resp = app
            .clone()
            .oneshot(req.body(HttpBody::from("{}")).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        // The router's own "no route" answers are 405, or 404 with no body;
        // every handler answers JSON.
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {}",
            operation.method,
            operation.path
        );
        assert!(
            !(status == StatusCode::NOT_FOUND && body.is_empty()),
            "{} {} is not routed",
            operation.method,
            operation.path
        );
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{} {}: {}",
            operation.method,
            operation.path,
            String::from_utf8_lossy(&body)
        );
    }
}
