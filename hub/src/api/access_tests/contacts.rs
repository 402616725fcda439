//! Site contacts and report recipients over HTTP: what is refused and why,
//! and that a customer's changes are audited under their name.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::*;

/// A customer with a site and its owner's session.
async fn customer_site(r: &Rig) -> (String, String) {
    let customer = r.org("customer", "Harbour Ltd").await;
    let (owner, _) = r
        .member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    let (status, body) = site(r, &customer, "Quay", None, Auth::Cookie(&owner)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (owner, body["id"].as_str().unwrap().to_owned())
}

async fn put(r: &Rig, path: &str, body: Value, owner: &str) -> (StatusCode, Value) {
    let (status, _, body) = r.call("PUT", path, Some(body), Auth::Cookie(owner)).await;
    (status, body)
}

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn contacts_keep_their_order_and_the_last_one_stays() {
    let r = rig();
    let (owner, site) = customer_site(&r).await;
    let path = format!("/api/v1/sites/{site}/contacts");
    let (status, body) = put(
        &r,
        &path,
        json!([
            { "name": " Night guard ", "phone": "+45 2222 3333", "email": "Guard@Example.com" },
            { "name": "Site manager", "phone": "(045) 11-22.33" }
        ]),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["name"], "Night guard", "trimmed");
    assert_eq!(body[0]["email"], "guard@example.com", "lower-cased");
    assert_eq!(body[1]["position"], 2);
    assert_eq!(body[1]["email"], Value::Null);

    for (contacts, says) in [
        (json!([]), "at least one contact"),
        (
            json!([{ "name": "", "phone": "+45 1" }]),
            "contacts[0].name",
        ),
        (
            json!([{ "name": "A", "phone": "call me" }]),
            "contacts[0].phone",
        ),
        (json!([{ "name": "A", "phone": "12" }]), "contacts[0].phone"),
        (
            json!([{ "name": "A", "phone": "45+123456" }]),
            "contacts[0].phone",
        ),
        (
            json!([{ "name": "A", "phone": "123456" }, { "name": "B", "phone": "1234", "email": "nope" }]),
            "contacts[1].email",
        ),
    ] {
        let (status, body) = put(&r, &path, contacts.clone(), &owner).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{contacts}: {body}"
        );
        assert!(error(&body).contains(says), "{contacts}: {body}");
    }
    let (_, _, listed) = r.call("GET", &path, None, Auth::Cookie(&owner)).await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "refusals changed nothing"
    );

    let first = listed[0]["id"].as_i64().unwrap();
    let (status, _, body) = r
        .call(
            "DELETE",
            &format!("{path}/{first}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["name"], "Site manager");
    assert_eq!(body[0]["position"], 1, "moved up");
    let last = body[0]["id"].as_i64().unwrap();
    let (status, _, body) = r
        .call(
            "DELETE",
            &format!("{path}/{last}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(error(&body).contains("last contact"), "{body}");
    let (status, _, _) = r
        .call(
            "DELETE",
            &format!("{path}/{first}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already removed");

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let audited: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("site.contacts"))
        .map(|e| format!("{} by {}", e.action, e.actor_label))
        .collect();
    assert_eq!(
        audited,
        [
            "site.contacts.remove by anna@harbour.example",
            "site.contacts.set by anna@harbour.example",
        ],
        "the two changes, newest first; no entry for refusals"
    );
}

#[tokio::test]
async fn report_recipients_need_a_report_kind_and_distinct_addresses() {
    let r = rig();
    let (owner, site) = customer_site(&r).await;
    let path = format!("/api/v1/sites/{site}/report-recipients");
    let (status, body) = put(
        &r,
        &path,
        json!([
            { "email": "ops@harbour.example", "instant": true },
            { "email": "boss@harbour.example", "instant": true, "daily": true }
        ]),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["email"], "boss@harbour.example");
    assert_eq!(body[0]["daily"], true);
    assert_eq!(body[1]["daily"], false);

    let (status, body) = put(&r, &path, json!([{ "email": "x@harbour.example" }]), &owner).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        error(&body).contains("instant alarm e-mails, the daily summary"),
        "{body}"
    );
    let (status, body) = put(
        &r,
        &path,
        json!([
            { "email": "a@harbour.example", "daily": true },
            { "email": "A@HARBOUR.example", "instant": true }
        ]),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(error(&body).contains("listed twice"), "{body}");
    let (status, body) = put(
        &r,
        &path,
        json!([{ "email": "a@harbour.example", "daily": true, "weekly": true }]),
        &owner,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused: {body}"
    );

    let (_, _, listed) = r.call("GET", &path, None, Auth::Cookie(&owner)).await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "refusals changed nothing"
    );
    let (status, body) = put(&r, &path, json!([]), &owner).await;
    assert_eq!(status, StatusCode::OK, "no recipients is allowed: {body}");
}
