//! Who is calling: every `/api/v1` request except sign-in and accepting a
//! link is identified here, once, before any handler runs.
//!
//! Three credentials, tried in this order:
//! - `Authorization: Bearer pt_…`: an API token, acting as its user but
//!   limited to the token's own permission list;
//! - `Authorization: Bearer <operator token>`: the hub operator's bootstrap
//!   token from the sync issue (file mode 0600 beside the config): full
//!   rights, audited as "operator token"; meant for set-up and scripts;
//! - the `picket_session` cookie (HttpOnly, Secure, SameSite=Strict): a
//!   sign-in session, live until logout, revocation, idle or absolute
//!   expiry.
//!
//! Cross-site requests cannot carry the cookie (SameSite=Strict) and every
//! state-changing endpoint takes a JSON body, which a cross-site form cannot
//! send without a CORS preflight the hub never answers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use picket_access::{Actor, Decision, DenyReason, Permission, Target, UserStatus};
use picket_proto::ids::UserId;

use super::{ApiError, ApiState};
use crate::auth::secret::{SecretKind, hash_secret, looks_like};
use crate::auth::session::SessionState;
use crate::store::{AccountStatus, AuditEntry};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "picket_session";

/// Where a request came from, for the audit log and throttling.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// Client address (IP only).
    pub address: String,
    /// `User-Agent`, truncated.
    pub user_agent: String,
}

impl RequestMeta {
    pub(crate) fn of(request: &Request) -> RequestMeta {
        let address = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let user_agent = request
            .headers()
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        RequestMeta {
            address,
            user_agent,
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A sign-in session (its secret's hash).
    Session([u8; 32]),
    /// An API token carrying only these permissions.
    Token(Vec<Permission>),
    /// The operator's bootstrap token.
    OperatorToken,
}

/// The identified caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The person, as the access model sees them (None: operator token).
    pub actor: Option<Actor>,
    /// Their e-mail (or "operator token"), for the audit log.
    pub label: String,
    /// Their e-mail (None: operator token).
    pub email: Option<String>,
    /// How they signed in.
    pub credential: Credential,
    /// Where from.
    pub meta: RequestMeta,
}

impl Caller {
    /// The signed-in user, if a person.
    pub fn user(&self) -> Option<UserId> {
        self.actor.as_ref().map(|a| a.user)
    }

    /// May the caller use `permission` on `target` now? The operator token
    /// may do anything; a token may do only what it lists *and* its user
    /// may do.
    pub fn check(
        &self,
        state: &ApiState,
        permission: Permission,
        target: &Target,
    ) -> Result<(), ApiError> {
        match self.decide(state, permission, target) {
            Ok(()) => Ok(()),
            Err(Refusal::TokenLacks) => Err(ApiError::Forbidden(format!(
                "this API token does not carry the permission {:?} ({})",
                permission.as_str(),
                permission.description()
            ))),
            Err(Refusal::Denied(reason)) => Err(denied(permission, reason)),
        }
    }

    /// As [`Caller::check`], without logging a denial: for filtering lists,
    /// where most checks are expected to say no.
    pub fn allows(&self, state: &ApiState, permission: Permission, target: &Target) -> bool {
        self.decide(state, permission, target).is_ok()
    }

    fn decide(
        &self,
        state: &ApiState,
        permission: Permission,
        target: &Target,
    ) -> Result<(), Refusal> {
        let Some(actor) = &self.actor else {
            return Ok(());
        };
        if let Credential::Token(allowed) = &self.credential
            && !allowed.contains(&permission)
        {
            return Err(Refusal::TokenLacks);
        }
        let directory = state.directory();
        match picket_access::decide(actor, permission, target, &*directory, state.clock.now()) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(Refusal::Denied(reason)),
        }
    }

    /// An audit entry for an action of this caller.
    pub fn audit(
        &self,
        action: &str,
        target: String,
        org: Option<picket_proto::ids::OrgId>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            actor: self.user(),
            actor_label: self.label.clone(),
            address: self.meta.address.clone(),
            action: action.to_owned(),
            target,
            org,
            detail,
        }
    }
}

/// Why a check said no.
enum Refusal {
    /// The API token does not list the permission.
    TokenLacks,
    /// The access model said no.
    Denied(DenyReason),
}

/// Maps a denial to 404 (when saying 403 would confirm that something
/// exists in another organisation) or 403 with the reason.
pub fn denied(permission: Permission, reason: DenyReason) -> ApiError {
    tracing::info!(permission = permission.as_str(), %reason, "request denied");
    if reason.hides_target() {
        ApiError::NotFound("not found (or not yours)".into())
    } else {
        ApiError::Forbidden(reason.to_string())
    }
}

fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}

/// Loads the actor for `user`, refusing anyone who is not active.
pub(crate) async fn load_actor(
    state: &ApiState,
    user: UserId,
) -> Result<(Actor, String), ApiError> {
    let (row, grants) = state
        .with_store(move |s| {
            let row = s.user(user)?;
            let grants = match &row {
                Some(r) => s
                    .grants_to_dealer(r.org)?
                    .iter()
                    .map(|g| g.as_access())
                    .collect(),
                None => Vec::new(),
            };
            Ok((row, grants))
        })
        .await?;
    let Some(row) = row else {
        return Err(ApiError::Unauthorized(
            "the account no longer exists".into(),
        ));
    };
    if row.status != AccountStatus::Active {
        return Err(ApiError::Unauthorized(
            "the account is not active (revoked, or the invitation was not accepted)".into(),
        ));
    }
    let mut actor = Actor::new(row.id, row.org, row.role, row.scope);
    actor.status = UserStatus::Active;
    // Expired grants stay: the access model then says "expired" rather
    // than "not granted".
    actor.dealer_grants = grants;
    Ok((actor, row.email))
}

async fn identify(
    state: &ApiState,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Result<Caller, ApiError> {
    let now = state.clock.now();
    if let Some(token) = bearer(&headers) {
        if looks_like(SecretKind::ApiToken, &token) {
            let hash = hash_secret(&token);
            let found = state
                .with_store(move |s| Ok(s.use_token(&hash, now)?))
                .await?;
            let Some(row) = found else {
                return Err(ApiError::Unauthorized("unknown API token".into()));
            };
            if row.revoked_at.is_some() {
                return Err(ApiError::Unauthorized("this API token was revoked".into()));
            }
            if row.expires_at <= now {
                return Err(ApiError::Unauthorized("this API token has expired".into()));
            }
            let (actor, email) = load_actor(state, row.user).await?;
            return Ok(Caller {
                actor: Some(actor),
                label: format!("{email} (token {})", row.name),
                email: Some(email),
                credential: Credential::Token(row.permissions),
                meta,
            });
        }
        if super::constant_time_eq(token.as_bytes(), state.token.as_bytes()) {
            return Ok(Caller {
                actor: None,
                label: "operator token".into(),
                email: None,
                credential: Credential::OperatorToken,
                meta,
            });
        }
        return Err(ApiError::Unauthorized("invalid bearer token".into()));
    }
    let Some(secret) = session_secret(&headers) else {
        return Err(ApiError::Unauthorized(
            "sign in first (POST /api/v1/session) or present an API token".into(),
        ));
    };
    if !looks_like(SecretKind::Session, &secret) {
        return Err(ApiError::Unauthorized(
            "malformed session cookie; sign in again".into(),
        ));
    }
    let hash = hash_secret(&secret);
    let Some(session) = state.with_store(move |s| Ok(s.session(&hash)?)).await? else {
        return Err(ApiError::Unauthorized(
            "unknown session; sign in again".into(),
        ));
    };
    let live =
        state
            .session_policy
            .state(session.created_at, session.last_seen, session.ended_at, now);
    if live != SessionState::Live {
        return Err(ApiError::Unauthorized(live.reason().into()));
    }
    let (actor, email) = load_actor(state, session.user).await?;
    state
        .with_store(move |s| Ok(s.touch_session(&hash, now)?))
        .await?;
    Ok(Caller {
        actor: Some(actor),
        label: email.clone(),
        email: Some(email),
        credential: Credential::Session(hash),
        meta,
    })
}

/// Middleware: identifies the caller or answers 401.
pub async fn require_caller(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let meta = RequestMeta::of(&request);
    let headers = request.headers().clone();
    match identify(&state, meta, headers).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => {
            tracing::info!(path = %request.uri().path(), error = %e, "API request refused: not signed in");
            e.into_response()
        }
    }
}
