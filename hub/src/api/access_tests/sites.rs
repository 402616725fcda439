//! Sites with restrictions, the audit log and sharing.

use axum::http::StatusCode;
use serde_json::json;

use super::*;

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
    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
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

#[tokio::test]
async fn site_restrictions_include_sub_sites_and_limit_what_is_seen_and_changed() {
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
    let (status, master) = site(&r, &harbour, "North quay", None, Auth::Cookie(&admin)).await;
    assert_eq!(status, StatusCode::CREATED, "{master}");
    let master = master["id"].as_str().unwrap().to_owned();
    let (status, sub) = site(
        &r,
        &harbour,
        "North quay: gate",
        Some(&master),
        Auth::Cookie(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let sub = sub["id"].as_str().unwrap().to_owned();
    let (_, south) = site(&r, &harbour, "South yard", None, Auth::Cookie(&admin)).await;
    let south = south["id"].as_str().unwrap().to_owned();
    let (north_mgr, _) = r
        .member(
            &harbour,
            "nils@harbour.example",
            "site_manager",
            json!({ "only": [master] }),
        )
        .await;
    let (_, _, seen) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/sites"),
            None,
            Auth::Cookie(&north_mgr),
        )
        .await;
    assert_eq!(names(&seen), ["North quay", "North quay: gate"]);
    // Inside the restriction (a sub-site included): allowed; outside: 404.
    let week = week();
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{sub}/schedule"),
            Some(week.clone()),
            Auth::Cookie(&north_mgr),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{south}/schedule"),
            Some(week.clone()),
            Auth::Cookie(&north_mgr),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A restricted manager cannot create a top-level site, nor invite
    // someone with all sites.
    let (status, _) = site(&r, &harbour, "East", None, Auth::Cookie(&north_mgr)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A keyholder may disarm but not edit the schedule.
    let (keyholder, _) = r
        .member(&harbour, "kai@harbour.example", "keyholder", json!("all"))
        .await;
    let (status, _, _) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{south}/schedule"),
            Some(week),
            Auth::Cookie(&keyholder),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let until = "2026-11-23T18:00:00Z";
    let (status, _, body) = r
        .call(
            "PUT",
            &format!("/api/v1/sites/{south}/disarm"),
            Some(json!({ "until": until, "by": "Kai (keyholder)" })),
            Auth::Cookie(&keyholder),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_audit_log_is_readable_by_administrators_only() {
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
    let (status, _, _) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/audit"),
            None,
            Auth::Cookie(&viewer),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, entries) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/audit?limit=2"),
            None,
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "session.sign_in");
    assert_eq!(entries[0]["actor_label"], "vic@harbour.example");
    // Sharing is the administrator's to set, and is audited too.
    let (status, _, _) = r
        .call("PUT", &format!("/api/v1/organisations/{harbour}/sharing"), Some(json!({ "incident_reports": true, "response_times": true, "clips": false, "live_view": true })), Auth::Cookie(&viewer))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = r
        .call("PUT", &format!("/api/v1/organisations/{harbour}/sharing"), Some(json!({ "incident_reports": true, "response_times": true, "clips": false, "live_view": true })), Auth::Cookie(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, sharing) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/sharing"),
            None,
            Auth::Cookie(&viewer),
        )
        .await;
    assert_eq!(sharing["clips"], false);
    let (_, _, entries) = r
        .call(
            "GET",
            &format!("/api/v1/organisations/{harbour}/audit?limit=1"),
            None,
            Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(entries[0]["action"], "organisation.sharing.set");
}

#[tokio::test]
async fn the_unit_list_pages_with_limit_and_after() {
    use crate::store::Incoming;
    use picket_proto::ids::UnitId;
    use picket_proto::message::UnitStatus;
    let r = rig();
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        let batch: Vec<Incoming> = (0..3u8)
            .map(|n| Incoming::Status {
                unit: UnitId::from_uuid(uuid::Uuid::from_bytes([0x90 + n; 16])),
                status: UnitStatus::Online,
            })
            .collect();
        store.commit(&batch, r.clock.now()).unwrap();
    }
    let (status, headers, first) = r
        .call("GET", "/api/v1/units?limit=2", None, Auth::Operator)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first.as_array().unwrap().len(), 2);
    let next = headers
        .get("x-next-after")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(next, first[1]["id"].as_str().unwrap());
    let (_, headers, rest) = r
        .call(
            "GET",
            &format!("/api/v1/units?limit=2&after={next}"),
            None,
            Auth::Operator,
        )
        .await;
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert!(
        headers.get("x-next-after").is_none(),
        "the last page says so"
    );
    assert!(rest[0]["id"].as_str().unwrap() > next.as_str());
    let (status, _, body) = r
        .call("GET", "/api/v1/units?limit=two", None, Auth::Operator)
        .await;
    assert!(status.is_client_error(), "{body}");
}
