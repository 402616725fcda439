//! Editing a site's week over HTTP: one day, copy a day to the week, dated
//! exceptions; invalid input refused with the reason and nothing changed.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::*;

async fn owner_and_site(r: &Rig) -> (String, String) {
    let customer = r.org("customer", "Harbour Ltd").await;
    let (owner, _) = r
        .member(&customer, "anna@harbour.example", "owner", json!("all"))
        .await;
    let (status, body) = site(r, &customer, "Quay", None, Auth::Cookie(&owner)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (owner, body["id"].as_str().unwrap().to_owned())
}

async fn send(
    r: &Rig,
    method: &str,
    path: &str,
    body: Option<Value>,
    who: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = r.call(method, path, body, Auth::Cookie(who)).await;
    (status, body)
}

#[tokio::test]
async fn a_day_is_edited_copied_to_the_week_and_a_holiday_overrides_it() {
    let r = rig();
    let (owner, site) = owner_and_site(&r).await;
    let base = format!("/api/v1/sites/{site}/schedule");

    let (status, body) = send(
        &r,
        "PUT",
        &format!("{base}/days/Monday"),
        Some(json!(["18:00-07:00"])),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["schedule"]["week"]["monday"], json!(["18:00-07:00"]));
    assert_eq!(body["schedule"]["week"]["tuesday"], json!([]));

    let (status, body) = send(
        &r,
        "POST",
        &format!("{base}/copy-day"),
        Some(json!({ "day": "monday" })),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for day in [
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ] {
        assert_eq!(
            body["schedule"]["week"][day],
            json!(["18:00-07:00"]),
            "{day}"
        );
    }

    let (status, body) = send(
        &r,
        "PUT",
        &format!("{base}/exceptions/2026-12-24"),
        Some(json!("armed_all_day")),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        &r,
        "PUT",
        &format!("{base}/exceptions/2026-12-31"),
        Some(json!({ "windows": ["14:00-24:00"] })),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["schedule"]["exceptions"]["2026-12-24"],
        "armed_all_day"
    );
    assert_eq!(
        body["schedule"]["exceptions"]["2026-12-31"],
        json!({ "windows": ["14:00-24:00"] })
    );

    let (status, body) = send(
        &r,
        "DELETE",
        &format!("{base}/exceptions/2026-12-24"),
        None,
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, site_now) = send(&r, "GET", &format!("/api/v1/sites/{site}"), None, &owner).await;
    assert_eq!(
        site_now["schedule"]["exceptions"],
        json!({ "2026-12-31": { "windows": ["14:00-24:00"] } }),
        "what was stored"
    );

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let actions: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| e.action)
        .filter(|a| a.starts_with("site.schedule"))
        .collect();
    assert_eq!(
        actions,
        [
            "site.schedule.day",
            "site.schedule.copy_day",
            "site.schedule.exception.set",
            "site.schedule.exception.set",
            "site.schedule.exception.remove",
        ]
    );
}

#[tokio::test]
async fn invalid_edits_are_refused_with_the_reason_and_change_nothing() {
    let r = rig();
    let (owner, site) = owner_and_site(&r).await;
    let base = format!("/api/v1/sites/{site}/schedule");
    let (_, before) = send(&r, "GET", &format!("/api/v1/sites/{site}"), None, &owner).await;
    for (method, path, body, says) in [
        (
            "PUT",
            format!("{base}/days/funday"),
            Some(json!([])),
            "monday",
        ),
        (
            "PUT",
            format!("{base}/days/monday"),
            Some(json!(["25:00-26:00"])),
            "",
        ),
        (
            "PUT",
            format!("{base}/days/monday"),
            Some(json!("18:00-07:00")),
            "",
        ),
        (
            "POST",
            format!("{base}/copy-day"),
            Some(json!({ "day": "someday" })),
            "monday",
        ),
        (
            "PUT",
            format!("{base}/exceptions/2026-13-40"),
            Some(json!("armed_all_day")),
            "date",
        ),
        (
            "PUT",
            format!("{base}/exceptions/2026-12-24"),
            Some(json!("armed_sometimes")),
            "",
        ),
    ] {
        let (status, answer) = send(&r, method, &path, body.clone(), &owner).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body:?}: {answer}"
        );
        assert!(
            answer["error"].as_str().unwrap().contains(says),
            "{path}: {answer}"
        );
    }
    let (status, _) = send(
        &r,
        "DELETE",
        &format!("{base}/exceptions/2026-12-24"),
        None,
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such exception");
    let (_, after) = send(&r, "GET", &format!("/api/v1/sites/{site}"), None, &owner).await;
    assert_eq!(before["schedule"], after["schedule"]);
}

#[tokio::test]
async fn a_site_shows_its_security_status_and_why() {
    let r = rig();
    let (owner, site) = owner_and_site(&r).await;
    // The rig's clock: Monday 2026-11-23 09:00 UTC = 10:00 in Copenhagen.
    let base = format!("/api/v1/sites/{site}/schedule");
    send(
        &r,
        "PUT",
        &format!("{base}/days/monday"),
        Some(json!(["08:00-18:00"])),
        &owner,
    )
    .await;
    let (_, body) = send(&r, "GET", &format!("/api/v1/sites/{site}"), None, &owner).await;
    assert_eq!(body["status"]["state"], "armed", "{body}");
    assert_eq!(body["status"]["reason"], "armed by schedule until 18:00");
    assert_eq!(body["status"]["changes_at"], "2026-11-23T17:00:00Z");
    let (status, body) = send(
        &r,
        "PUT",
        &format!("/api/v1/sites/{site}/disarm"),
        Some(json!({ "until": "2026-11-23T12:00:00Z" })),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = send(&r, "GET", &format!("/api/v1/sites/{site}"), None, &owner).await;
    assert_eq!(body["status"]["state"], "disarmed");
    assert!(
        body["status"]["reason"]
            .as_str()
            .unwrap()
            .contains("anna@harbour.example"),
        "who disarmed: {body}"
    );
}
