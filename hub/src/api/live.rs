//! Live view for people: `POST /units/{unit}/cameras/{camera}/live` gives
//! the caller a stream token for that camera — short-lived, bound to
//! them, the unit and the camera — if they may watch live video on the
//! unit's site (view_live_video; never during dealer access). Each grant
//! is audited (`live.view`). The token opens the camera's stream on the
//! relay; the player endpoints that take it come next (issue 7).

use axum::Json;
use axum::extract::{Path, State};
use axum::{Extension, response::IntoResponse};
use picket_access::Permission;
use picket_proto::ids::{CameraId, UnitId};

use super::caller::Caller;
use super::{ApiError, ApiState};

/// `POST /units/{unit}/cameras/{camera}/live`.
pub async fn grant(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((unit, camera)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let unit: UnitId = unit
        .parse()
        .map_err(|_| ApiError::Invalid(format!("{unit:?} is not a unit id")))?;
    let camera: CameraId = camera
        .parse()
        .map_err(|_| ApiError::Invalid(format!("{camera:?} is not a camera id")))?;
    let site = state
        .check_unit(&caller, Permission::ViewLiveVideo, unit)
        .await?;
    let live = state
        .live()
        .ok_or_else(|| ApiError::NotFound("this hub has no live view configured".into()))?;
    let (token, expires_at) = live
        .token(&caller.label, unit, camera)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let audit = caller.audit(
        "live.view",
        format!("camera:{camera}"),
        site.and_then(|s| state.site_org(s)),
        serde_json::json!({ "unit": unit, "camera": camera }),
    );
    let now = state.clock().now();
    state
        .with_store(move |s| Ok(s.audit(&audit, now).map(|_| ())?))
        .await?;
    Ok(Json(serde_json::json!({
        "unit": unit,
        "camera": camera,
        "token": token,
        "expires_at": expires_at,
    })))
}
