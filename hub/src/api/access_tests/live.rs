//! Live view tokens over HTTP: a viewer allowed live video on the unit's
//! site gets a token bound to them, the unit and the camera; the grant is
//! audited; the token opens that camera only.

use axum::http::StatusCode;
use picket_proto::ids::{CameraId, UnitId};

use super::*;

#[tokio::test]
async fn a_viewer_gets_a_token_for_that_camera_only_and_the_grant_is_audited() {
    let r = rig();
    let Cast { owner, site, .. } = r.cast().await;
    let unit = UnitId::from_uuid(uuid::Uuid::from_bytes([0x73; 16]));
    r.unit_on_site(unit, &site).await;
    let camera = CameraId::from_uuid(uuid::Uuid::from_bytes([0xc1; 16]));
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/units/{unit}/cameras/{camera}/live"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(body["expires_at"].is_string());
    let (status, _, body) = r
        .call(
            "POST",
            &format!("/api/v1/units/{unit}/cameras/not-a-camera/live"),
            None,
            Auth::Cookie(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let store = Store::open(&r.dir.path().join("hub.db")).unwrap();
    let audited: Vec<String> = store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "live.view")
        .map(|e| format!("{} {} by {}", e.action, e.target, e.actor_label))
        .collect();
    assert_eq!(
        audited,
        [format!("live.view camera:{camera} by anna@harbour.example")]
    );
    // The token is for that camera, for Anna.
    let live = r.live.clone();
    let grant = live.check_token(&token, unit, camera).unwrap();
    assert_eq!(grant.viewer, "anna@harbour.example");
    let other = CameraId::from_uuid(uuid::Uuid::from_bytes([0xc2; 16]));
    assert!(live.check_token(&token, unit, other).is_err());
    live.revoke_viewer("anna@harbour.example");
    assert!(live.check_token(&token, unit, camera).is_err(), "revoked");
}
