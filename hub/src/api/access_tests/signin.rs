//! Signing in and out, sessions, throttling and API tokens.

use axum::http::StatusCode;
use jiff::SignedDuration;
use serde_json::json;

use super::*;

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
async fn an_api_token_carries_only_its_permissions_and_dies_with_revocation() {
    let r = rig();
    let harbour = r.org("customer", "Harbour Ltd").await;
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
    site(&r, &harbour, "North quay", None, Auth::Cookie(&admin)).await;
    let (status, _, created) = r
        .call("POST", "/api/v1/tokens", Some(json!({ "name": "wallboard", "permissions": ["view_sites"], "expires_in_days": 30 })), Auth::Cookie(&admin))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pt_"));
    let (status, _, seen) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/sites"),
            None,
            Auth::Bearer(&secret),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&seen), ["North quay"]);
    let (status, body) = site(&r, &harbour, "Via token", None, Auth::Bearer(&secret)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("does not carry"),
        "{body}"
    );
    // Tokens are made from a session, never from a token ...
    let (status, _, _) = r
        .call(
            "POST",
            "/api/v1/tokens",
            Some(json!({ "name": "x", "permissions": ["view_sites"], "expires_in_days": 1 })),
            Auth::Bearer(&secret),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // ... and never with more than the role has (viewers have no tokens).
    let (status, _, _) = r
        .call(
            "POST",
            "/api/v1/tokens",
            Some(json!({ "name": "x", "permissions": ["view_sites"], "expires_in_days": 1 })),
            Auth::Cookie(&viewer),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = r
        .call("POST", "/api/v1/tokens", Some(json!({ "name": "x", "permissions": ["grant_dealer_access"], "expires_in_days": 1 })), Auth::Cookie(&admin))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let id = created["id"].as_str().unwrap();
    let (status, _, _) = r
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            None,
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = r
        .call("GET", "/api/v1/session", None, Auth::Bearer(&secret))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    // Expiry.
    let (_, _, short) = r
        .call(
            "POST",
            "/api/v1/tokens",
            Some(json!({ "name": "day", "permissions": ["view_sites"], "expires_in_days": 1 })),
            Auth::Cookie(&admin),
        )
        .await;
    r.clock.advance(SignedDuration::from_hours(24));
    let (status, _, body) = r
        .call(
            "GET",
            "/api/v1/session",
            None,
            Auth::Bearer(short["secret"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}
