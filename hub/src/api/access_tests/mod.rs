//! The access API over the real router and store (no sockets; the clock is
//! simulated): the rig here, the tests by subject in the submodules.

mod centre;
mod clip_settings;
mod clips;
mod contacts;
mod dealer;
mod fleet;
mod levels;
mod live;
mod matrix;
mod people;
mod relocation;
mod schedule;
mod signin;
mod sites;
mod transmission;

use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use picket_proto::clock::ManualClock;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

use super::*;

pub(super) const TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub(super) const GOOD_PASSWORD: &str = "correct horse battery staple";

pub(super) enum Auth<'a> {
    None,
    Operator,
    Cookie(&'a str),
    Bearer(&'a str),
}

pub(super) struct Rig {
    pub(super) dir: tempfile::TempDir,
    pub(super) app: Router,
    pub(super) clock: ManualClock,
    pub(super) live: crate::live::service::LiveService,
}

pub(super) fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("hub.db")).unwrap();
    let (tx, mut published) = mpsc::channel::<crate::publisher::Outgoing>(64);
    // Nothing here reads what would go to units; drain it so changes that
    // publish never wait on a full channel.
    tokio::spawn(async move { while published.recv().await.is_some() {} });
    let clock = ManualClock::new("2026-11-23T09:00Z".parse().unwrap());
    let files = Arc::new(crate::clips::storage::LocalDir::open(&dir.path().join("clips")).unwrap());
    let (_acks, answered) = tokio::sync::mpsc::unbounded_channel();
    let live = crate::live::service::LiveService::start(
        crate::live::relay::RelayPolicy::default(),
        crate::live::upstream::Upstreams::default(),
        tx.clone(),
        Arc::new(clock.clone()),
        answered,
    );
    let state = ApiState::new(store, tx, Arc::new(clock.clone()), TOKEN.into())
        .with_clips(files)
        .with_live(live.clone());
    Rig {
        dir,
        app: router(state),
        clock,
        live,
    }
}

impl Rig {
    /// `unit` seen online and assigned to `site` (by the operator).
    pub(super) async fn unit_on_site(&self, unit: picket_proto::ids::UnitId, site: &str) {
        Store::open(&self.dir.path().join("hub.db"))
            .unwrap()
            .commit(
                &[crate::store::Incoming::Status {
                    unit,
                    status: picket_proto::message::UnitStatus::Online,
                }],
                self.clock.now(),
            )
            .unwrap();
        let (status, _, body) = self
            .call(
                "PUT",
                &format!("/api/v1/units/{unit}/site"),
                Some(json!({ "site": site })),
                Auth::Operator,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub(super) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        auth: Auth<'_>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut req = Request::builder().method(method).uri(path);
        match auth {
            Auth::None => {}
            Auth::Operator => req = req.header("authorization", format!("Bearer {TOKEN}")),
            Auth::Cookie(c) => req = req.header("cookie", format!("picket_session={c}")),
            Auth::Bearer(t) => req = req.header("authorization", format!("Bearer {t}")),
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
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, value)
    }

    pub(super) async fn org(&self, kind: &str, name: &str) -> String {
        let (status, _, body) = self
            .call(
                "POST",
                "/api/v1/organisations",
                Some(json!({ "kind": kind, "name": name })),
                Auth::Operator,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Invites with `auth`; returns (status, body).
    pub(super) async fn invite(
        &self,
        org: &str,
        email: &str,
        role: &str,
        scope: Value,
        auth: Auth<'_>,
    ) -> (StatusCode, Value) {
        let (status, _, body) = self
            .call(
                "POST",
                &format!("/api/v1/organisations/{org}/users"),
                Some(json!({ "email": email, "name": email, "role": role, "scope": scope })),
                auth,
            )
            .await;
        (status, body)
    }

    /// An active user made by the operator token; returns a session cookie.
    pub(super) async fn member(
        &self,
        org: &str,
        email: &str,
        role: &str,
        scope: Value,
    ) -> (String, String) {
        let (status, body) = self.invite(org, email, role, scope, Auth::Operator).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let link = body["invitation_link"].as_str().unwrap();
        let token = link.split('#').nth(1).unwrap();
        let (status, _, body) = self
            .call(
                "POST",
                "/api/v1/invitations/accept",
                Some(json!({ "token": token, "password": GOOD_PASSWORD })),
                Auth::None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let id = body_id(
            &self
                .call(
                    "GET",
                    &format!("/api/v1/organisations/{org}/users"),
                    None,
                    Auth::Operator,
                )
                .await
                .2,
            email,
        );
        (self.login(email, GOOD_PASSWORD).await.expect("sign in"), id)
    }

    pub(super) async fn login(
        &self,
        email: &str,
        password: &str,
    ) -> Result<String, (StatusCode, HeaderMap, Value)> {
        let (status, headers, body) = self
            .call(
                "POST",
                "/api/v1/session",
                Some(json!({ "email": email, "password": password })),
                Auth::None,
            )
            .await;
        if status != StatusCode::OK {
            return Err((status, headers, body));
        }
        let cookie = headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        Ok(cookie
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("picket_session=")
            .unwrap()
            .to_owned())
    }
}

pub(super) fn body_id(users: &Value, email: &str) -> String {
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {users}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The usual cast of the operations tests: the operator's organisation
/// with a centre operator (ann@centre.example), a customer with its owner
/// (anna@harbour.example), and a site of the customer ("Quay").
pub(super) struct Cast {
    pub(super) operator: String,
    pub(super) customer: String,
    /// The centre operator's session cookie.
    pub(super) centre: String,
    /// The owner's session cookie.
    pub(super) owner: String,
    pub(super) site: String,
}

impl Rig {
    pub(super) async fn cast(&self) -> Cast {
        let operator = self.org("operator", "Picket Security").await;
        let customer = self.org("customer", "Harbour Ltd").await;
        let (centre, _) = self
            .member(
                &operator,
                "ann@centre.example",
                "centre_operator",
                json!("all"),
            )
            .await;
        let (owner, _) = self
            .member(&customer, "anna@harbour.example", "owner", json!("all"))
            .await;
        let (status, body) = site(self, &customer, "Quay", None, Auth::Operator).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let site = body["id"].as_str().unwrap().to_owned();
        Cast {
            operator,
            customer,
            centre,
            owner,
            site,
        }
    }
}

/// `POST /centre/queue/{item}/{step}` as `who`: (status, body).
pub(super) async fn queue_step(
    r: &Rig,
    item: impl std::fmt::Display,
    step: &str,
    body: Option<Value>,
    who: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/centre/queue/{item}/{step}"),
            body,
            Auth::Cookie(who),
        )
        .await;
    (status, body)
}

pub(super) async fn site(
    r: &Rig,
    org: &str,
    name: &str,
    parent: Option<&str>,
    auth: Auth<'_>,
) -> (StatusCode, Value) {
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/organisations/{org}/sites"),
            Some(json!({ "name": name, "parent": parent })),
            auth,
        )
        .await;
    (status, body)
}

pub(super) fn names(sites: &Value) -> Vec<&str> {
    sites
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

/// A valid weekly schedule: armed 18:00-06:00 every day.
pub(super) fn week() -> Value {
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    json!({
        "time_zone": "Europe/Copenhagen",
        "week": days.iter().map(|d| (d.to_string(), json!(["18:00-06:00"]))).collect::<serde_json::Map<_, _>>(),
    })
}
