//! The operator API: JSON over HTTP under `/api/v1`, authenticated with the
//! operator's bearer token. It grows into the full portal API (users,
//! roles, audit) with the access issue; handlers are one module per
//! resource, and every error maps to a status in one place ([`ApiError`]).
//!
//! Every change that affects units is stored with a new desired-config
//! version and published, retained, to each affected unit at once; the unit
//! list shows `pending` until the unit reports that version applied.

mod sites;
#[cfg(test)]
mod tests;
mod units;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use picket_proto::ids::UnitId;
use picket_proto::message::{Body, Envelope};

use crate::clock::Clock;
use crate::publisher::{Outgoing, PublishSender};
use crate::store::{Store, StoreError};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct ApiState {
    store: Arc<Mutex<Store>>,
    publisher: PublishSender,
    clock: Arc<dyn Clock>,
    token: Arc<str>,
}

impl ApiState {
    /// State over its own store connection.
    pub fn new(
        store: Store,
        publisher: PublishSender,
        clock: Arc<dyn Clock>,
        token: String,
    ) -> ApiState {
        ApiState {
            store: Arc::new(Mutex::new(store)),
            publisher,
            clock,
            token: token.into(),
        }
    }

    /// Runs `f` with the store on a blocking thread.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| ApiError::Internal("store lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    }

    /// Publishes every assigned unit's desired config (after a restart).
    pub async fn republish_all(&self) -> Result<(), ApiError> {
        let units = self.with_store(|s| Ok(s.assigned_units()?)).await?;
        self.publish_configs(units).await
    }

    /// Publishes the current desired config of each unit, retained.
    async fn publish_configs(&self, units: Vec<UnitId>) -> Result<(), ApiError> {
        let configs = self
            .with_store(move |store| {
                let mut out = Vec::new();
                for unit in units {
                    if let Some(config) = store.desired_config(unit)? {
                        out.push((unit, config));
                    }
                }
                Ok(out)
            })
            .await?;
        for (unit, config) in configs {
            let envelope = Envelope::new(
                unit,
                self.clock.now(),
                Body::DesiredConfig(Box::new(config)),
            );
            let out = Outgoing::new(&envelope).map_err(|e| ApiError::Internal(e.to_string()))?;
            self.publisher
                .send(out)
                .await
                .map_err(|_| ApiError::Internal("publisher stopped".into()))?;
        }
        Ok(())
    }
}

/// An API error: one place maps kinds to statuses.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing or wrong token.
    #[error("missing or invalid operator token")]
    Unauthorized,
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A bug or an outage.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "API request failed");
        }
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

/// The router: `/health` open, everything under `/api/v1` behind the token.
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route("/units", get(units::list))
        .route("/units/{unit}/events", get(units::events))
        .route("/units/{unit}/site", put(units::assign))
        .route("/units/{unit}/relocation", post(units::relocate))
        .route("/sites/{site}", put(sites::upsert).get(sites::get))
        .route("/sites/{site}/schedule", put(sites::schedule))
        .route("/sites/{site}/level", put(sites::level))
        .route(
            "/sites/{site}/disarm",
            put(sites::disarm).delete(sites::cancel_disarm),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state);
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", api)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn require_token(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), state.token.as_bytes()) => {
            next.run(request).await
        }
        _ => {
            tracing::warn!(path = %request.uri().path(), "API request refused: bad operator token");
            ApiError::Unauthorized.into_response()
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The address a listener is bound to, for logs.
pub fn describe(listener: &tokio::net::TcpListener) -> String {
    listener
        .local_addr()
        .map(|a: SocketAddr| a.to_string())
        .unwrap_or_else(|_| "?".into())
}
