//! The operator API: JSON over HTTP under `/api/v1`, authenticated with the
//! operator's bearer token. It grows into the full portal API (users,
//! roles, audit) with the access issue; handlers are one module per
//! resource, and every error maps to a status in one place ([`ApiError`]).
//!
//! Every change that affects units is stored with a new desired-config
//! version and published, retained, to each affected unit at once; the unit
//! list shows `pending` until the unit reports that version applied.

#[cfg(test)]
mod access_tests;
mod alarms;
pub mod caller;
mod centre;
mod clip_settings;
mod clips;
mod contacts;
mod dealer;
mod fleet;
mod levels;
mod live;
pub mod openapi;
#[cfg(test)]
mod openapi_tests;
mod orgs;
mod overview;
mod password;
mod people;
mod schedule;
mod session;
mod sites;
#[cfg(test)]
mod tests;
mod tokens;
mod transmission;
mod units;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use picket_proto::ids::UnitId;
use picket_proto::message::{Body, Envelope};

use crate::auth::session::SessionPolicy;
use crate::auth::throttle::{Throttle, ThrottlePolicy};
use crate::clock::Clock;
use crate::mail::{Mail, MailError, Mailer};
use crate::publisher::{Outgoing, PublishSender};
use crate::store::{DirectorySnapshot, Store, StoreError};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct ApiState {
    store: Arc<Mutex<Store>>,
    publisher: PublishSender,
    clock: Arc<dyn Clock>,
    token: Arc<str>,
    session_policy: SessionPolicy,
    throttle: Arc<Mutex<Throttle>>,
    directory: Arc<RwLock<Arc<DirectorySnapshot>>>,
    mailer: Option<Arc<Mailer>>,
    public_url: Arc<str>,
    escalate_after: jiff::SignedDuration,
    clips: Option<Arc<dyn crate::clips::storage::ClipStore>>,
    live: Option<crate::live::service::LiveService>,
}

impl ApiState {
    /// State over its own store connection.
    pub fn new(
        store: Store,
        publisher: PublishSender,
        clock: Arc<dyn Clock>,
        token: String,
    ) -> ApiState {
        let directory = store.directory().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the access directory; starting empty");
            DirectorySnapshot::default()
        });
        ApiState {
            store: Arc::new(Mutex::new(store)),
            publisher,
            clock,
            token: token.into(),
            session_policy: SessionPolicy::default(),
            throttle: Arc::new(Mutex::new(Throttle::new(ThrottlePolicy::default()))),
            directory: Arc::new(RwLock::new(Arc::new(directory))),
            mailer: None,
            public_url: "https://localhost:8480".into(),
            escalate_after: crate::api::centre::ESCALATE_AFTER,
            clips: None,
            live: None,
        }
    }

    /// Serves clips from `store`.
    pub fn with_clips(mut self, store: Arc<dyn crate::clips::storage::ClipStore>) -> ApiState {
        self.clips = Some(store);
        self
    }

    /// With live view.
    pub fn with_live(mut self, live: crate::live::service::LiveService) -> ApiState {
        self.live = Some(live);
        self
    }

    /// Live view, if this hub has it.
    pub(crate) fn live(&self) -> Option<&crate::live::service::LiveService> {
        self.live.as_ref()
    }

    /// Where clips are, if this hub keeps any.
    pub(crate) fn clips(&self) -> Option<&Arc<dyn crate::clips::storage::ClipStore>> {
        self.clips.as_ref()
    }

    /// Sets when the centre's queue shows an item as escalated.
    pub fn with_centre(mut self, centre: &crate::config::CentreConfig) -> ApiState {
        self.escalate_after = jiff::SignedDuration::from_secs(i64::from(centre.escalate_after_s));
        self
    }

    /// Sends e-mail through `mailer`; links in e-mails start with
    /// `public_url` (how people reach the hub, e.g. `https://hub.example`).
    pub fn with_mail(mut self, mailer: Option<Mailer>, public_url: &str) -> ApiState {
        self.mailer = mailer.map(Arc::new);
        self.public_url = public_url.trim_end_matches('/').into();
        self
    }

    /// Sends `mail` if e-mail is configured and records the outcome in the
    /// mail log; true if the server took it.
    async fn send_mail(&self, mail: Mail) -> bool {
        let Some(mailer) = self.mailer.clone() else {
            tracing::warn!(to = %mail.to, purpose = mail.purpose, "no [mail] configured; e-mail not sent");
            return false;
        };
        let outcome = mailer.send(&mail).await;
        let now = self.clock.now();
        let (sent, attempts, text) = match &outcome {
            Ok(attempts) => (true, *attempts, "sent".to_owned()),
            Err(MailError::Send { attempts, last }) => (false, *attempts, last.clone()),
            Err(e) => (false, 0, e.to_string()),
        };
        let logged = self
            .with_store(move |s| {
                Ok(s.record_mail(now, &mail.to, &mail.subject, mail.purpose, &text, attempts)?)
            })
            .await;
        if let Err(e) = logged {
            tracing::error!(error = %e, "cannot record an e-mail in the mail log");
        }
        sent
    }

    /// The organisation owning `site`, if placed.
    fn site_org(&self, site: picket_proto::ids::SiteId) -> Option<picket_proto::ids::OrgId> {
        picket_access::Directory::site(&*self.directory(), site).map(|e| e.owner)
    }

    /// Checks `permission` on the site of `unit` (fleet view for an
    /// unassigned unit) and returns the site.
    async fn check_unit(
        &self,
        caller: &caller::Caller,
        permission: picket_access::Permission,
        unit: UnitId,
    ) -> Result<Option<picket_proto::ids::SiteId>, ApiError> {
        let row = self.with_store(move |s| Ok(s.unit(unit)?)).await?;
        let Some(row) = row else {
            return Err(ApiError::NotFound(format!("unit {unit} not found")));
        };
        match (row.site, &caller.actor) {
            (_, None) => {}
            (Some(site), Some(_)) => {
                caller.check(self, permission, &picket_access::Target::Site(site))?
            }
            (None, Some(actor)) => caller.check(
                self,
                picket_access::Permission::ViewFleet,
                &picket_access::Target::Organisation(actor.org),
            )?,
        }
        Ok(row.site)
    }

    /// Whether the operator organisation exists.
    fn directory_has_operator(&self) -> bool {
        self.directory().has_kind(picket_access::OrgKind::Operator)
    }

    /// The access directory as of the last change.
    pub fn directory(&self) -> Arc<DirectorySnapshot> {
        match self.directory.read() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the directory after a change to organisations or sites.
    async fn refresh_directory(&self) -> Result<(), ApiError> {
        let fresh = self.with_store(|s| Ok(s.directory()?)).await?;
        match self.directory.write() {
            Ok(mut d) => *d = Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
        }
        Ok(())
    }

    /// The clock every handler reads.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Runs `f` with the store on a blocking thread.
    pub(crate) async fn with_store<T: Send + 'static>(
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

/// A JSON body whose every rejection (not JSON, wrong content type, unknown
/// field, wrong type, too large) is a 4xx [`ApiError`] naming what is wrong,
/// in the same `{"error": ...}` shape as every other error.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::Invalid(format!(
                "body: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// A query string whose rejection is a 4xx [`ApiError`] naming what is
/// wrong, like [`ApiJson`].
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::Invalid(format!(
                "query: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// An API error: one place maps kinds to statuses.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Not signed in, or the credential is no good (says which).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed (says why).
    #[error("{0}")]
    Forbidden(String),
    /// Clashes with what exists (names the field).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many failed sign-ins; try again in {0} s")]
    TooManyRequests(u64),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The request is larger than allowed (says the limit).
    #[error("{0}")]
    TooLarge(String),
    /// A bug or an outage.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "API request failed");
        }
        let mut response = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if let ApiError::TooManyRequests(seconds) = &self
            && let Ok(v) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}

/// The router: `/health` open, everything under `/api/v1` behind the token.
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route("/units", get(units::list))
        .route("/units/{unit}/events", get(units::events))
        .route("/units/{unit}/site", put(units::assign))
        .route(
            "/units/{unit}/relocation",
            post(units::relocate).get(units::relocation),
        )
        .route(
            "/units/{unit}/relocation-support",
            put(units::relocation_support),
        )
        .route("/sites/{site}", put(sites::upsert).get(sites::get))
        .route("/sites/{site}/schedule", put(sites::schedule))
        .route("/sites/{site}/level", put(levels::set_site))
        .route("/levels", get(levels::list))
        .route("/levels/{key}", put(levels::put).delete(levels::remove))
        .route("/sites/{site}/schedule/days/{day}", put(schedule::set_day))
        .route("/sites/{site}/schedule/copy-day", post(schedule::copy_day))
        .route(
            "/sites/{site}/schedule/exceptions/{date}",
            put(schedule::set_exception).delete(schedule::remove_exception),
        )
        .route(
            "/sites/{site}/contacts",
            get(contacts::list).put(contacts::set),
        )
        .route(
            "/sites/{site}/contacts/{id}",
            axum::routing::delete(contacts::remove),
        )
        .route("/overview", get(overview::overview))
        .route("/fleet", get(fleet::fleet))
        .route("/alarms", get(alarms::list))
        .route("/alarms/{id}", get(alarms::get))
        .route("/clips/{id}", get(clips::download))
        .route(
            "/sites/{site}/clip-retention",
            get(clips::retention).put(clips::set_retention),
        )
        .route("/units/{unit}/cameras/{camera}/live", post(live::grant))
        .route(
            "/sites/{site}/clip-settings",
            get(clip_settings::get).put(clip_settings::set),
        )
        .route("/response-times", get(alarms::times))
        .route("/transmission", get(transmission::report))
        .route("/centre/queue", get(centre::list))
        .route("/centre/queue/{item}/claim", post(centre::claim))
        .route("/centre/queue/{item}/release", post(centre::release))
        .route(
            "/centre/queue/{item}/acknowledge",
            post(centre::acknowledge),
        )
        .route("/centre/queue/{item}/handle", post(centre::handle))
        .route(
            "/centre/queue/{item}/share-report",
            post(centre::share_report),
        )
        .route("/sites/{site}/report-sends", get(contacts::sends))
        .route(
            "/sites/{site}/report-recipients",
            get(contacts::recipients).put(contacts::set_recipients),
        )
        .route(
            "/sites/{site}/disarm",
            put(sites::disarm).delete(sites::cancel_disarm),
        )
        .route("/session", get(session::me).delete(session::logout))
        .route("/sessions", get(session::list))
        .route("/roles", get(people::roles))
        .route(
            "/organisations",
            post(people::create_org).get(people::list_orgs),
        )
        .route(
            "/organisations/{org}/users",
            post(people::invite).get(people::list_users),
        )
        .route("/users/{user}", axum::routing::patch(people::edit_user))
        .route("/users/{user}/revoke", post(people::revoke))
        .route(
            "/organisations/{org}/sharing",
            get(orgs::sharing).put(orgs::set_sharing),
        )
        .route(
            "/organisations/{org}/sites",
            post(orgs::create_site).get(orgs::list_sites),
        )
        .route(
            "/organisations/{org}/dealers/{dealer}",
            put(orgs::set_dealer).delete(orgs::set_dealer),
        )
        .route("/organisations/{org}/audit", get(orgs::audit))
        .route(
            "/organisations/{org}/dealer-access",
            post(dealer::grant).get(dealer::list),
        )
        .route(
            "/organisations/{org}/dealer-access/request",
            post(dealer::request),
        )
        .route(
            "/organisations/{org}/dealer-access/{grant}",
            axum::routing::delete(dealer::end),
        )
        .route("/dealer-access/confirm", post(dealer::confirm))
        .route("/tokens", post(tokens::create).get(tokens::list))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/sessions/{handle}", axum::routing::delete(session::end))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            caller::require_caller,
        ))
        .with_state(state.clone());
    // Signing in needs no caller.
    let open = Router::new()
        .route("/session", post(session::login))
        .route("/invitations/accept", post(people::accept))
        .route("/password-reset", post(password::forgot))
        .route("/password-reset/complete", post(password::complete))
        .route("/openapi.json", get(openapi::serve))
        .with_state(state);
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", open.merge(api))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
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
