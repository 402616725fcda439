//! A site's clip recording over HTTP: the owner reads and sets pre-roll,
//! post-roll and the longest clip; out-of-range settings are refused
//! naming the ranges; a change re-versions the site's units' config, which
//! carries the new settings; each change is audited.

use axum::http::StatusCode;
use picket_proto::ids::UnitId;
use picket_proto::message::ClipSettings;
use serde_json::json;

use super::*;

#[tokio::test]
async fn the_owner_sets_the_sites_clip_recording_and_its_unit_gets_it() {
    let r = rig();
    let Cast { owner, site, .. } = r.cast().await;
    let unit = UnitId::from_uuid(uuid::Uuid::from_bytes([0x72; 16]));
    r.unit_on_site(unit, &site).await;
    let path = format!("/api/v1/sites/{site}/clip-settings");
    let (status, _, body) = r.call("GET", &path, None, Auth::Cookie(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "pre_roll_s": 10, "post_roll_s": 20, "max_clip_s": 120 }),
        "the defaults"
    );
    let before = {
        let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        store.desired_config(unit).unwrap().unwrap().version
    };

    // Out of range: refused, naming the ranges; nothing changes.
    for bad in [
        json!({ "pre_roll_s": 61, "post_roll_s": 20, "max_clip_s": 120 }),
        json!({ "pre_roll_s": 10, "post_roll_s": 0, "max_clip_s": 120 }),
        json!({ "pre_roll_s": 30, "post_roll_s": 60, "max_clip_s": 60 }),
        json!({ "pre_roll_s": 10, "post_roll_s": 20, "max_clip_s": 601 }),
    ] {
        let (status, _, body) = r
            .call("PUT", &path, Some(bad.clone()), Auth::Cookie(&owner))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("pre-roll"),
            "{body}"
        );
    }
    let (status, _, body) = r
        .call(
            "PUT",
            &path,
            Some(json!({ "pre_roll_s": 10, "post_roll_s": -1, "max_clip_s": 120 })),
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, _, body) = r
        .call(
            "PUT",
            &path,
            Some(json!({ "pre_roll_s": 5, "post_roll_s": 8, "max_clip_s": 40 })),
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["units_updated"], 1);
    let (_, _, body) = r.call("GET", &path, None, Auth::Cookie(&owner)).await;
    assert_eq!(body["post_roll_s"], 8);

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let config = store.desired_config(unit).unwrap().unwrap();
    assert!(config.version > before, "a new config for the unit");
    assert_eq!(
        config.clips,
        ClipSettings {
            pre_roll_s: 5,
            post_roll_s: 8,
            max_clip_s: 40
        }
    );
    let audited: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "site.clip_settings.set")
        .map(|e| format!("{} {} by {}", e.action, e.target, e.actor_label))
        .collect();
    assert_eq!(
        audited,
        [format!(
            "site.clip_settings.set site:{site} by anna@harbour.example"
        )],
        "the change, not the refusals"
    );
}
