//! `/unit/v1/uploads`: the units' side of clip delivery (see the module
//! docs of [`crate::clips`] for the protocol). Only units reach it, over
//! the units' HTTPS listener; each request acts as the unit its
//! certificate names.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};
use jiff::Timestamp;
use picket_proto::ids::{CameraId, EventId};
use serde::Deserialize;

use super::listener::UnitPeer;
use super::storage::{ClipStore, ClipStoreError};
use super::upload::{
    ClipKind, MAX_CHUNK_BYTES, UploadError, check_chunk, check_size, parse_sha256,
};
use crate::api::{ApiError, ApiState};
use crate::store::{ClipDeclaration, ClipRow};

/// The header carrying an upload's offset, both ways.
pub const UPLOAD_OFFSET: &str = "upload-offset";

/// What the units' API needs.
#[derive(Clone, Debug)]
pub struct UnitApiState {
    api: ApiState,
    files: Arc<dyn ClipStore>,
    /// One lock per upload in progress, so two requests for the same file
    /// never interleave.
    uploading: Arc<Mutex<HashMap<uuid::Uuid, Arc<tokio::sync::Mutex<()>>>>>,
}

impl UnitApiState {
    /// Over the people's API state (its store) and the clip storage.
    pub fn new(api: ApiState, files: Arc<dyn ClipStore>) -> UnitApiState {
        UnitApiState {
            api,
            files,
            uploading: Arc::default(),
        }
    }

    fn lock_for(&self, id: uuid::Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .uploading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
        map.entry(id).or_default().clone()
    }
}

/// The units' router.
pub fn router(state: UnitApiState) -> Router {
    Router::new()
        .route("/unit/v1/uploads", post(declare))
        .route("/unit/v1/uploads/{id}", patch(append).head(offset))
        .layer(DefaultBodyLimit::max(MAX_CHUNK_BYTES + 64 * 1024))
        .with_state(state)
}

/// A unit's declaration of a file it will upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    id: uuid::Uuid,
    event: EventId,
    camera: CameraId,
    kind: ClipKind,
    size: u64,
    /// Lowercase hex.
    sha256: String,
    #[serde(default)]
    started_at: Option<Timestamp>,
    #[serde(default)]
    ended_at: Option<Timestamp>,
}

fn refused(peer: &UnitPeer, error: ApiError) -> ApiError {
    tracing::warn!(unit = %peer.unit, addr = %peer.addr, %error, "clip upload refused");
    error
}

fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge { .. } | UploadError::ChunkSize { .. } => {
            ApiError::TooLarge(e.to_string())
        }
        UploadError::WrongOffset { .. } => ApiError::Conflict(e.to_string()),
        other => ApiError::Invalid(other.to_string()),
    }
}

fn files_error(e: ClipStoreError) -> ApiError {
    match e {
        ClipStoreError::WrongOffset { .. } => ApiError::Conflict(e.to_string()),
        ClipStoreError::HashMismatch { .. } => ApiError::Invalid(e.to_string()),
        // The row says the upload exists, so the store losing it (or a
        // read out of range) is the hub's fault, not the unit's.
        ClipStoreError::NotFound { .. }
        | ClipStoreError::OutOfRange { .. }
        | ClipStoreError::Io { .. } => ApiError::Internal(e.to_string()),
    }
}

fn with_offset(status: StatusCode, offset: u64, body: serde_json::Value) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&offset.to_string()) {
        headers.insert(UPLOAD_OFFSET, v);
    }
    (status, headers, Json(body)).into_response()
}

/// The upload `id` of this unit, or not found (another unit's uploads do
/// not exist for it).
async fn own_upload(
    state: &UnitApiState,
    peer: &UnitPeer,
    id: uuid::Uuid,
) -> Result<ClipRow, ApiError> {
    let row = state.api.with_store(move |s| Ok(s.clip(id)?)).await?;
    row.filter(|r| r.unit == peer.unit).ok_or_else(|| {
        refused(
            peer,
            ApiError::NotFound(format!("upload {id} not found: declare it first")),
        )
    })
}

async fn have(state: &UnitApiState, row: &ClipRow) -> Result<u64, ApiError> {
    if row.completed_at.is_some() {
        return Ok(row.declared.size);
    }
    state
        .files
        .received(row.declared.id)
        .await
        .map_err(files_error)
}

/// `POST /unit/v1/uploads`: declares a file (or resumes one); answers the
/// offset the hub has.
async fn declare(
    State(state): State<UnitApiState>,
    ConnectInfo(peer): ConnectInfo<UnitPeer>,
    body: Result<Json<Declaration>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(d) = body.map_err(|e| refused(&peer, ApiError::Invalid(e.body_text())))?;
    check_size(d.kind, d.size).map_err(|e| refused(&peer, upload_error(e)))?;
    let sha256 = parse_sha256(&d.sha256).ok_or_else(|| {
        refused(
            &peer,
            ApiError::Invalid("sha256: 64 lowercase hex digits".into()),
        )
    })?;
    if let (Some(from), Some(to)) = (d.started_at, d.ended_at)
        && from > to
    {
        return Err(refused(
            &peer,
            ApiError::Invalid("started_at: after ended_at".into()),
        ));
    }
    let declared = ClipDeclaration {
        id: d.id,
        event: d.event,
        camera: d.camera,
        kind: d.kind,
        size: d.size,
        sha256,
        started_at: d.started_at,
        ended_at: d.ended_at,
    };
    let unit = peer.unit;
    let now = state.api.clock().now();
    let row = state
        .api
        .with_store(move |s| {
            let Some((owner, site, alarm)) = s.event_origin(declared.event)? else {
                return Err(ApiError::NotFound(format!(
                    "event {} not found: send the event over MQTT first, then its clips",
                    declared.event
                )));
            };
            if owner != unit {
                return Err(ApiError::Forbidden(format!(
                    "event {} is not this unit's; a unit uploads clips of its own events only",
                    declared.event
                )));
            }
            if !alarm {
                return Err(ApiError::Invalid(format!(
                    "event {} is not an alarm; clips belong to alarms",
                    declared.event
                )));
            }
            Ok(s.declare_clip(unit, site, &declared, now)?)
        })
        .await
        .map_err(|e| refused(&peer, e))?;
    let offset = have(&state, &row).await?;
    Ok(with_offset(
        StatusCode::OK,
        offset,
        serde_json::json!({ "id": row.declared.id, "offset": offset,
                            "complete": row.completed_at.is_some() }),
    ))
}

/// `HEAD /unit/v1/uploads/{id}`: the offset the hub has.
async fn offset(
    State(state): State<UnitApiState>,
    ConnectInfo(peer): ConnectInfo<UnitPeer>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, ApiError> {
    let row = own_upload(&state, &peer, id).await?;
    let offset = have(&state, &row).await?;
    Ok(with_offset(StatusCode::OK, offset, serde_json::Value::Null))
}

/// `PATCH /unit/v1/uploads/{id}` with `Upload-Offset`: appends a chunk;
/// the last one completes the upload once its hash checks.
async fn append(
    State(state): State<UnitApiState>,
    ConnectInfo(peer): ConnectInfo<UnitPeer>,
    Path(id): Path<uuid::Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let at: u64 = headers
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            refused(
                &peer,
                ApiError::Invalid("Upload-Offset: a byte offset is required".into()),
            )
        })?;
    let lock = state.lock_for(id);
    let held = lock.lock_owned().await;
    let row = own_upload(&state, &peer, id).await?;
    let have_now = have(&state, &row).await?;
    if row.completed_at.is_some() {
        return Ok(with_offset(
            StatusCode::OK,
            have_now,
            serde_json::json!({ "offset": have_now, "complete": true }),
        ));
    }
    if let Err(e) = check_chunk(row.declared.size, have_now, at, body.len()) {
        let error = refused(&peer, upload_error(e));
        let mut response = error.into_response();
        if let Ok(v) = HeaderValue::from_str(&have_now.to_string()) {
            response.headers_mut().insert(UPLOAD_OFFSET, v);
        }
        return Ok(response);
    }
    // The write runs to its end on its own task, holding the upload's lock,
    // even if the unit hangs up meanwhile: a last chunk appended but never
    // finished would leave an upload no chunk can complete.
    let (files, api, declared) = (state.files.clone(), state.api.clone(), row.declared);
    let written = tokio::spawn(async move {
        let _held = held;
        let offset = files
            .append(id, at, body)
            .await
            .map_err(|e| refused(&peer, files_error(e)))?;
        if offset < declared.size {
            return Ok((offset, false));
        }
        files
            .finish(id, declared.kind, declared.sha256)
            .await
            .map_err(|e| refused(&peer, files_error(e)))?;
        let now = api.clock().now();
        api.with_store(move |s| Ok(s.complete_clip(id, now)?))
            .await?;
        tracing::info!(unit = %peer.unit, upload = %id, bytes = offset, "clip upload complete");
        Ok::<_, ApiError>((offset, true))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (offset, complete) = written?;
    Ok(with_offset(
        StatusCode::OK,
        offset,
        serde_json::json!({ "offset": offset, "complete": complete }),
    ))
}

#[cfg(test)]
mod tests;
