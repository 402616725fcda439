//! Security levels over HTTP: the operator's administrators define the
//! profiles, a customer chooses one for a site, the unit config follows,
//! and everyone else is refused with a reason.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::*;

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

fn construction() -> Value {
    json!({
        "name": "Construction 24/7",
        "arming": "always_armed",
        "sensors": ["motion", "video_analytics", "tamper", "motion"],
        "warnings": { "siren": true, "strobe": true, "voice": false },
        "centre_priority": 2
    })
}

#[tokio::test]
async fn the_operator_defines_levels_and_the_customer_chooses_one() {
    let r = rig();
    let Cast {
        operator,
        centre,
        owner,
        site,
        ..
    } = r.cast().await;
    let (admin, _) = r
        .member(
            &operator,
            "olga@picket.example",
            "operator_admin",
            json!("all"),
        )
        .await;

    // Everyone signed in reads the list; only the operator sees site counts.
    let (status, _, list) = r
        .call("GET", "/api/v1/levels", None, Auth::Cookie(&owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let keys: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["standard", "high", "silent"]);
    assert_eq!(list[0]["sites"], 0, "counts are the operator's business");
    let (_, _, list) = r
        .call("GET", "/api/v1/levels", None, Auth::Cookie(&admin))
        .await;
    assert_eq!(list[0]["sites"], 1, "the new site is on standard");
    let (_, _, view) = r
        .call(
            "GET",
            &format!("/api/v1/sites/{site}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(view["level_profile"], "standard");

    // Defining levels: the operator's administrator only.
    for who in [&owner, &centre] {
        let (status, _, body) = r
            .call(
                "PUT",
                "/api/v1/levels/construction",
                Some(construction()),
                Auth::Cookie(who),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, _, body) = r
        .call(
            "PUT",
            "/api/v1/levels/construction",
            Some(construction()),
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Bad profiles are refused naming the field.
    for (key, level, says) in [
        ("Bad_Key", construction(), "level key"),
        (
            "empty",
            json!({ "name": " ", "arming": "by_schedule", "sensors": ["motion"], "warnings": { "siren": false, "strobe": false, "voice": false }, "centre_priority": 3 }),
            "name",
        ),
        (
            "zero",
            json!({ "name": "Zero", "arming": "by_schedule", "sensors": ["motion"], "warnings": { "siren": false, "strobe": false, "voice": false }, "centre_priority": 0 }),
            "centre_priority",
        ),
        (
            "deaf",
            json!({ "name": "Deaf", "arming": "by_schedule", "sensors": [], "warnings": { "siren": false, "strobe": false, "voice": false }, "centre_priority": 3 }),
            "sensors",
        ),
    ] {
        let (status, _, body) = r
            .call(
                "PUT",
                &format!("/api/v1/levels/{key}"),
                Some(level),
                Auth::Cookie(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key}: {body}");
        assert!(error(&body).contains(says), "{key}: {body}");
    }

    // The customer chooses it; the unit config carries the level.
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{site}/level"),
            Some(json!({ "profile": "construction" })),
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, view) = r
        .call(
            "GET",
            &format!("/api/v1/sites/{site}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(view["level_profile"], "construction");
    assert_eq!(view["level"]["arming"], "always_armed");
    assert_eq!(
        view["level"]["sensors"],
        json!(["motion", "video_analytics", "tamper"]),
        "sorted, without the repeat"
    );
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{site}/level"),
            Some(json!({ "profile": "gold" })),
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(error(&body).contains("/api/v1/levels"), "{body}");
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{site}/level"),
            Some(serde_json::to_value(picket_proto::level::SecurityLevel::standard()).unwrap()),
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a customer cannot invent a level: {body}"
    );

    // The operator changes the profile: the site follows.
    let mut quieter = construction();
    quieter["warnings"]["siren"] = json!(false);
    let (status, _, body) = r
        .call(
            "PUT",
            "/api/v1/levels/construction",
            Some(quieter),
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, view) = r
        .call(
            "GET",
            &format!("/api/v1/sites/{site}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(view["level"]["warnings"]["siren"], false);

    // In use: cannot be removed; unused: can.
    let (status, _, body) = r
        .call(
            "DELETE",
            "/api/v1/levels/construction",
            None,
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(error(&body).contains("in use by 1 site"), "{body}");
    let (status, _, body) = r
        .call(
            "DELETE",
            "/api/v1/levels/silent",
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = r
        .call(
            "DELETE",
            "/api/v1/levels/silent",
            None,
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let audited: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("level.") || e.action == "site.level.set")
        .map(|e| format!("{} {} by {}", e.action, e.target, e.actor_label))
        .collect();
    assert_eq!(
        audited,
        [
            "level.remove level:silent by olga@picket.example".to_owned(),
            "level.put level:construction by olga@picket.example".to_owned(),
            format!("site.level.set site:{site} by anna@harbour.example"),
            "level.put level:construction by olga@picket.example".to_owned(),
        ],
        "each change, newest first; none for refusals"
    );
}
