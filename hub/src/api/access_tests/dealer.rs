//! Dealer access: read-only normally, settings (never video, clips or
//! users) during a grant, back to read-only when it ends or is ended.

use axum::http::StatusCode;
use jiff::SignedDuration;
use serde_json::json;

use super::*;

#[tokio::test]
async fn a_dealer_changes_settings_only_during_a_grant_the_owner_gave() {
    let r = rig();
    let harbour = r.org("customer", "Harbour Ltd").await;
    let dealer = r.org("dealer", "Fix-It Alarms").await;
    let (status, _, _) = r
        .call(
            "PUT",
            &format!("/api/v1/organisations/{harbour}/dealers/{dealer}"),
            None,
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (owner, _) = r
        .member(&harbour, "anna@harbour.example", "owner", json!("all"))
        .await;
    let (admin, _) = r
        .member(
            &harbour,
            "ada@harbour.example",
            "customer_admin",
            json!("all"),
        )
        .await;
    let (_, yard) = site(&r, &harbour, "Yard", None, Auth::Cookie(&owner)).await;
    let yard = yard["id"].as_str().unwrap().to_owned();
    let (tech, _) = r
        .member(
            &dealer,
            "tom@fixit.example",
            "dealer_technician",
            json!("all"),
        )
        .await;
    let schedule = format!("/api/v1/sites/{yard}/schedule");

    // Read-only: sees the sites, cannot change the schedule.
    let (_, _, seen) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/sites"),
            None,
            Auth::Cookie(&tech),
        )
        .await;
    assert_eq!(names(&seen), ["Yard"]);
    assert_eq!(
        r.call("PUT", &schedule, Some(week()), Auth::Cookie(&tech))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Only the owner grants.
    let grant_path = format!("/api/v1/organisations/{harbour}/dealer-access");
    let (status, _, _) = r
        .call(
            "POST",
            &grant_path,
            Some(json!({ "dealer": dealer })),
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, grant) = r
        .call(
            "POST",
            &grant_path,
            Some(json!({ "dealer": dealer })),
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    assert_eq!(grant["kind"], "direct");
    // During it: settings yes; users no.
    let (status, _, body) = r
        .call("PUT", &schedule, Some(week()), Auth::Cookie(&tech))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = r
        .invite(
            &harbour,
            "new@harbour.example",
            "viewer",
            json!("all"),
            Auth::Cookie(&tech),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signing in during the grant is noted once, for the owner to see.
    r.login("tom@fixit.example", GOOD_PASSWORD).await.unwrap();
    let (_, _, grants) = r.call("GET", &grant_path, None, Auth::Cookie(&owner)).await;
    assert!(!grants[0]["dealer_signed_in_at"].is_null(), "{grants}");
    let (_, _, audit) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/audit?limit=50"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    let noted = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "dealer_access.signed_in")
        .count();
    assert_eq!(noted, 1, "{audit}");
    // Two hours later: read-only again.
    r.clock.advance(SignedDuration::from_hours(2));
    let again = r.login("tom@fixit.example", GOOD_PASSWORD).await.unwrap();
    let owner = r
        .login("anna@harbour.example", GOOD_PASSWORD)
        .await
        .unwrap();
    let (status, _, body) = r
        .call("PUT", &schedule, Some(week()), Auth::Cookie(&again))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("ended at"),
        "{body}"
    );
    // A new grant, ended early by the owner.
    let (_, _, grant) = r
        .call(
            "POST",
            &grant_path,
            Some(json!({ "dealer": dealer })),
            Auth::Cookie(&owner),
        )
        .await;
    let again = r.login("tom@fixit.example", GOOD_PASSWORD).await.unwrap();
    assert_eq!(
        r.call("PUT", &schedule, Some(week()), Auth::Cookie(&again))
            .await
            .0,
        StatusCode::OK
    );
    let id = grant["id"].as_str().unwrap();
    let (status, _, _) = r
        .call(
            "DELETE",
            &format!("{grant_path}/{id}"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.call("PUT", &schedule, Some(week()), Auth::Cookie(&again))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_dealer_never_reaches_a_customer_it_does_not_serve() {
    let r = rig();
    let harbour = r.org("customer", "Harbour Ltd").await;
    let dealer = r.org("dealer", "Fix-It Alarms").await;
    let (owner, _) = r
        .member(&harbour, "anna@harbour.example", "owner", json!("all"))
        .await;
    site(&r, &harbour, "Yard", None, Auth::Cookie(&owner)).await;
    let (tech, _) = r
        .member(
            &dealer,
            "tom@fixit.example",
            "dealer_technician",
            json!("all"),
        )
        .await;
    let (status, _, _) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/sites"),
            None,
            Auth::Cookie(&tech),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/organisations/{harbour}/dealer-access"),
            Some(json!({ "dealer": dealer })),
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("dealer:"),
        "{body}"
    );
}
