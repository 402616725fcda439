//! Inviting, editing and revoking users; who may grant what; bad input.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

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
