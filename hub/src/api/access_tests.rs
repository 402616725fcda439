//! Sign-in, invitations, revocation, throttling and user management over
//! the real router and store (no sockets; the clock is simulated).

use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use picket_proto::clock::ManualClock;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

use super::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const GOOD_PASSWORD: &str = "correct horse battery staple";

enum Auth<'a> {
    None,
    Operator,
    Cookie(&'a str),
}

struct Rig {
    _dir: tempfile::TempDir,
    app: Router,
    clock: ManualClock,
    _published: mpsc::Receiver<crate::publisher::Outgoing>,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("hub.db")).unwrap();
    let (tx, published) = mpsc::channel(64);
    let clock = ManualClock::new("2026-11-23T09:00Z".parse().unwrap());
    let state = ApiState::new(store, tx, Arc::new(clock.clone()), TOKEN.into());
    Rig {
        _dir: dir,
        app: router(state),
        clock,
        _published: published,
    }
}

impl Rig {
    async fn call(
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

    async fn org(&self, kind: &str, name: &str) -> String {
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
    async fn invite(
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
    async fn member(&self, org: &str, email: &str, role: &str, scope: Value) -> (String, String) {
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

    async fn login(
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

fn body_id(users: &Value, email: &str) -> String {
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

#[tokio::test]
async fn an_invitation_is_accepted_once_and_the_session_cookie_is_locked_down() {
    let r = rig();
    let customer = r.org("customer", "Harbour Ltd").await;
    let (status, body) = r
        .invite(
            &customer,
            "anna@harbour.example",
            "owner",
            json!("all"),
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "invited");
    let token = body["invitation_link"]
        .as_str()
        .unwrap()
        .split('#')
        .nth(1)
        .unwrap()
        .to_owned();
    // An invited user cannot sign in yet.
    assert_eq!(
        r.login("anna@harbour.example", GOOD_PASSWORD)
            .await
            .unwrap_err()
            .0,
        StatusCode::UNAUTHORIZED
    );
    // A weak password is refused and the link still works afterwards.
    let (status, _, body) = r
        .call(
            "POST",
            "/api/v1/invitations/accept",
            Some(json!({ "token": token, "password": "short" })),
            Auth::None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"].as_str().unwrap().starts_with("password:"),
        "{body}"
    );
    let (status, _, _) = r
        .call(
            "POST",
            "/api/v1/invitations/accept",
            Some(json!({ "token": token, "password": GOOD_PASSWORD })),
            Auth::None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = r
        .call(
            "POST",
            "/api/v1/invitations/accept",
            Some(json!({ "token": token, "password": GOOD_PASSWORD })),
            Auth::None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Sign in: the cookie is HttpOnly, Secure and SameSite=Strict.
    let (status, headers, _) = r
        .call(
            "POST",
            "/api/v1/session",
            Some(json!({ "email": "ANNA@harbour.example", "password": GOOD_PASSWORD })),
            Auth::None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let set = headers.get("set-cookie").unwrap().to_str().unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    let cookie = set
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("picket_session=")
        .unwrap();
    let (status, _, me) = r
        .call("GET", "/api/v1/session", None, Auth::Cookie(cookie))
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["via"], "session");
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("grant_dealer_access"))
    );
    // Sign out ends it at once.
    let (status, headers, _) = r
        .call("DELETE", "/api/v1/session", None, Auth::Cookie(cookie))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _, body) = r
        .call("GET", "/api/v1/session", None, Auth::Cookie(cookie))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("ended"), "{body}");
}

#[tokio::test]
async fn revoking_a_user_ends_their_live_session_at_once() {
    let r = rig();
    let customer = r.org("customer", "Harbour Ltd").await;
    let (owner, _) = r
        .member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    let (viewer, viewer_id) = r
        .member(&customer, "bo@harbour.example", "viewer", json!("all"))
        .await;
    assert_eq!(
        r.call("GET", "/api/v1/session", None, Auth::Cookie(&viewer))
            .await
            .0,
        StatusCode::OK
    );
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/users/{viewer_id}/revoke"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _, body) = r
        .call("GET", "/api/v1/session", None, Auth::Cookie(&viewer))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("ended"), "{body}");
    assert_eq!(
        r.login("bo@harbour.example", GOOD_PASSWORD)
            .await
            .unwrap_err()
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn nobody_grants_more_than_they_have_or_reaches_another_organisation() {
    let r = rig();
    let harbour = r.org("customer", "Harbour Ltd").await;
    let other = r.org("customer", "Other Co").await;
    let (admin, _) = r
        .member(
            &harbour,
            "ada@harbour.example",
            "customer_admin",
            json!("all"),
        )
        .await;
    let (viewer, _) = r
        .member(&harbour, "vic@harbour.example", "viewer", json!("all"))
        .await;
    let (_, other_user) = r
        .member(&other, "olga@other.example", "owner", json!("all"))
        .await;
    // A viewer cannot invite at all.
    let (status, body) = r
        .invite(
            &harbour,
            "x@harbour.example",
            "viewer",
            json!("all"),
            Auth::Cookie(&viewer),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // An administrator cannot make an owner (above their role) ...
    let (status, body) = r
        .invite(
            &harbour,
            "y@harbour.example",
            "owner",
            json!("all"),
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // ... nor give an operator role to a customer user ...
    let (status, body) = r
        .invite(
            &harbour,
            "z@harbour.example",
            "centre_operator",
            json!("all"),
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("role:"),
        "{body}"
    );
    // ... but can invite a keyholder.
    let (status, body) = r
        .invite(
            &harbour,
            "k@harbour.example",
            "keyholder",
            json!("all"),
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        body.get("invitation_link").is_none(),
        "only the operator token sees the link"
    );
    // Another organisation's users and ids are not there for them.
    let (status, _, _) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{other}/users"),
            None,
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = r
        .call(
            "PATCH",
            &format!("/api/v1/users/{other_user}"),
            Some(json!({ "role": "viewer" })),
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = r
        .invite(
            &other,
            "w@other.example",
            "viewer",
            json!("all"),
            Auth::Cookie(&admin),
        )
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "{status} {body}"
    );
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_with_retry_after() {
    let r = rig();
    let customer = r.org("customer", "Harbour Ltd").await;
    r.member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    for _ in 0..6 {
        let (status, _, _) = r
            .login("anna@harbour.example", "wrong password!")
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = r
        .login("anna@harbour.example", GOOD_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(headers.get("retry-after").unwrap(), "1");
    r.clock.advance(SignedDuration::from_secs(1));
    assert!(r.login("anna@harbour.example", GOOD_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn an_idle_session_expires_and_a_used_one_does_not() {
    let r = rig();
    let customer = r.org("customer", "Harbour Ltd").await;
    let (cookie, _) = r
        .member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    for _ in 0..3 {
        r.clock.advance(SignedDuration::from_mins(29));
        assert_eq!(
            r.call("GET", "/api/v1/session", None, Auth::Cookie(&cookie))
                .await
                .0,
            StatusCode::OK
        );
    }
    r.clock.advance(SignedDuration::from_mins(30));
    let (status, _, body) = r
        .call("GET", "/api/v1/session", None, Auth::Cookie(&cookie))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("inactivity"),
        "{body}"
    );
}

#[tokio::test]
async fn a_user_lists_and_ends_their_other_sessions() {
    let r = rig();
    let customer = r.org("customer", "Harbour Ltd").await;
    let (phone, _) = r
        .member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    let desk = r
        .login("anna@harbour.example", GOOD_PASSWORD)
        .await
        .unwrap();
    let (_, _, list) = r
        .call("GET", "/api/v1/sessions", None, Auth::Cookie(&desk))
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let other = list.iter().find(|s| s["current"] == false).unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, _) = r
        .call(
            "DELETE",
            &format!("/api/v1/sessions/{other}"),
            None,
            Auth::Cookie(&desk),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.call("GET", "/api/v1/session", None, Auth::Cookie(&phone))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        r.call("GET", "/api/v1/session", None, Auth::Cookie(&desk))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_input_is_a_4xx_naming_the_field_never_a_500() {
    let r = rig();
    let customer = r.org("customer", "Harbour Ltd").await;
    let cases = [
        (
            json!({ "email": "a@b.example", "name": "A", "role": "viewer", "colour": "red" }),
            "colour",
        ),
        (
            json!({ "email": "not-an-address", "name": "A", "role": "viewer" }),
            "email",
        ),
        (
            json!({ "email": "a@b.example", "name": "", "role": "viewer" }),
            "name",
        ),
        (
            json!({ "email": "a@b.example", "name": "x".repeat(500), "role": "viewer" }),
            "name",
        ),
        (
            json!({ "email": "a@b.example", "name": "A", "role": "emperor" }),
            "role",
        ),
        (
            json!({ "email": 7, "name": "A", "role": "viewer" }),
            "email",
        ),
    ];
    for (body, field) in cases {
        let (status, _, answer) = r
            .call(
                "POST",
                &format!("/api/v1/organisations/{customer}/users"),
                Some(body.clone()),
                Auth::Operator,
            )
            .await;
        assert!(status.is_client_error(), "{body} -> {status}");
        assert!(
            answer["error"].as_str().unwrap().contains(field),
            "{body} -> {answer}"
        );
    }
    let (status, _) = r
        .invite(
            &customer,
            "dup@b.example",
            "viewer",
            json!("all"),
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answer) = r
        .invite(
            &customer,
            "DUP@b.example",
            "viewer",
            json!("all"),
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        answer["error"].as_str().unwrap().starts_with("email:"),
        "{answer}"
    );
    let (status, _, answer) = r
        .call("POST", "/api/v1/session", Some(json!("{")), Auth::None)
        .await;
    assert!(status.is_client_error(), "{answer}");
}

#[tokio::test]
async fn every_change_a_person_makes_is_in_the_audit_chain() {
    let r = rig();
    let customer = r.org("customer", "Harbour Ltd").await;
    let (owner, _) = r
        .member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    r.invite(
        &customer,
        "k@harbour.example",
        "keyholder",
        json!("all"),
        Auth::Cookie(&owner),
    )
    .await;
    let store = Store::open(&r._dir.path().join("hub.db")).unwrap();
    let actions: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| format!("{} by {}", e.action, e.actor_label))
        .collect();
    assert_eq!(
        actions,
        [
            "organisation.create by operator token",
            "user.invite by operator token",
            "user.accept_invitation by anna@harbour.example",
            "session.sign_in by anna@harbour.example",
            "user.invite by anna@harbour.example",
        ]
    );
    assert!(matches!(
        store.verify_audit().unwrap(),
        crate::store::AuditCheck::Intact { entries: 5, .. }
    ));
}
