//! `/api/v1/session` (sign in, who am I, sign out) and `/api/v1/sessions`
//! (my live sessions; end one).

use axum::extract::{Path, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use picket_access::{Permission, Role, SiteScope};
use picket_proto::ids::{OrgId, UserId};
use serde::{Deserialize, Serialize};

use super::caller::{Caller, Credential, RequestMeta, SESSION_COOKIE};
use super::{ApiError, ApiState};
use crate::auth::password::{MAX_LENGTH, dummy_hash, verify_password};
use crate::auth::secret::{SecretKind, new_secret};
use crate::auth::throttle::ThrottleKey;
use crate::store::{AccountStatus, AuditEntry, SessionRow};

/// Sign-in request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
}

/// Who is signed in, and what they may do.
#[derive(Debug, Serialize)]
pub struct Me {
    user: Option<UserId>,
    email: String,
    org: Option<OrgId>,
    role: Option<Role>,
    role_name: Option<&'static str>,
    scope: Option<SiteScope>,
    permissions: Vec<Permission>,
    via: &'static str,
}

fn cookie(value: &str, max_age: Option<i64>) -> Result<HeaderValue, ApiError> {
    let mut text = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict");
    if let Some(seconds) = max_age {
        text.push_str(&format!("; Max-Age={seconds}"));
    }
    HeaderValue::from_str(&text).map_err(|e| ApiError::Internal(e.to_string()))
}

/// `POST /api/v1/session`: e-mail and password → session cookie.
///
/// Throttled per account and per client address; a wrong e-mail costs the
/// same argon2 time as a wrong password, and both get the same answer.
pub async fn login(State(state): State<ApiState>, request: Request) -> Result<Response, ApiError> {
    let meta = RequestMeta::of(&request);
    let bytes = axum::body::to_bytes(request.into_body(), 16 * 1024)
        .await
        .map_err(|_| ApiError::Invalid("body: larger than 16 KiB".into()))?;
    let login: Login =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Invalid(format!("body: {e}")))?;
    if login.email.len() > 254 || login.password.len() > MAX_LENGTH {
        return Err(ApiError::Invalid("email or password: too long".into()));
    }
    let now = state.clock.now();
    let email = login.email.trim().to_lowercase();
    let keys = [
        ThrottleKey::Account(email.clone()),
        ThrottleKey::Address(meta.address.clone()),
    ];
    let wait = state
        .throttle
        .lock()
        .map_err(|_| ApiError::Internal("throttle lock poisoned".into()))?
        .check(&keys, now);
    if let Some(wait) = wait {
        tracing::warn!(%email, address = %meta.address, "sign-in throttled");
        return Err(ApiError::TooManyRequests(wait.as_secs().max(1) as u64));
    }
    let lookup = email.clone();
    let found = state
        .with_store(move |s| Ok(s.user_by_email(&lookup)?))
        .await?;
    let password = login.password;
    let (user, verified) = tokio::task::spawn_blocking(move || {
        let hash = found
            .as_ref()
            .and_then(|(_, h)| h.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let ok = verify_password(&password, &hash).unwrap_or(false);
        (found.map(|(u, _)| u), ok)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match user {
        Some(u) if verified && u.status == AccountStatus::Active => u,
        _ => {
            if let Ok(mut t) = state.throttle.lock() {
                t.failed(&keys, now);
            }
            tracing::warn!(%email, address = %meta.address, "sign-in failed");
            return Err(ApiError::Unauthorized(
                "wrong e-mail or password, or the account is not active".into(),
            ));
        }
    };
    if let Ok(mut t) = state.throttle.lock() {
        t.succeeded(&keys[0]);
    }
    let secret = new_secret(SecretKind::Session).map_err(|e| ApiError::Internal(e.to_string()))?;
    let expires = state.session_policy.expires_at(now);
    let audit = AuditEntry {
        actor: Some(user.id),
        actor_label: user.email.clone(),
        address: meta.address.clone(),
        action: "session.sign_in".into(),
        target: format!("user:{}", user.id),
        org: Some(user.org),
        detail: serde_json::json!({ "user_agent": meta.user_agent }),
    };
    let meta_address = meta.address.clone();
    let (id, hash, address, agent) = (user.id, secret.hash, meta.address, meta.user_agent);
    state
        .with_store(move |s| {
            Ok(s.create_session(&hash, id, expires, &address, &agent, &audit, now)?)
        })
        .await?;
    if user.role.org_kind() == picket_access::OrgKind::Dealer {
        super::dealer::note_dealer_sign_in(&state, user.org, &user.email, &meta_address).await;
    }
    let mut response = (
        StatusCode::OK,
        Json(serde_json::json!({ "user": user.id, "expires_at": expires })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie(&secret.text, None)?);
    Ok(response)
}

/// `GET /api/v1/session`: the caller.
pub async fn me(Extension(caller): Extension<Caller>) -> Result<Json<Me>, ApiError> {
    let via = match caller.credential {
        Credential::Session(_) => "session",
        Credential::Token(_) => "api_token",
        Credential::OperatorToken => "operator_token",
    };
    let Some(actor) = caller.actor else {
        return Ok(Json(Me {
            user: None,
            email: caller.label,
            org: None,
            role: None,
            role_name: None,
            scope: None,
            permissions: Permission::all().to_vec(),
            via,
        }));
    };
    let email = caller.email.unwrap_or_default();
    let permissions = match &caller.credential {
        Credential::Token(allowed) => actor
            .role
            .permissions()
            .iter()
            .copied()
            .filter(|p| allowed.contains(p))
            .collect(),
        _ => actor.role.permissions().to_vec(),
    };
    Ok(Json(Me {
        user: Some(actor.user),
        email,
        org: Some(actor.org),
        role: Some(actor.role),
        role_name: Some(actor.role.name()),
        scope: Some(actor.scope),
        permissions,
        via,
    }))
}

/// `DELETE /api/v1/session`: sign out (this session ends at once).
pub async fn logout(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let Credential::Session(hash) = caller.credential else {
        return Err(ApiError::Invalid(
            "only a sign-in session can sign out; revoke API tokens instead".into(),
        ));
    };
    let now = state.clock.now();
    let audit = caller.audit(
        "session.sign_out",
        format!(
            "user:{}",
            caller.user().map(|u| u.to_string()).unwrap_or_default()
        ),
        caller.actor.as_ref().map(|a| a.org),
        serde_json::Value::Null,
    );
    state
        .with_store(move |s| Ok(s.end_session_by_hash(&hash, &audit, now)?))
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie("", Some(0))?);
    Ok(response)
}

/// One of my sessions.
#[derive(Debug, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    session: SessionRow,
    current: bool,
}

fn signed_in_user(caller: &Caller) -> Result<UserId, ApiError> {
    caller
        .user()
        .ok_or_else(|| ApiError::Invalid("the operator token has no sessions".into()))
}

/// `GET /api/v1/sessions`: my live sessions, newest first.
pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let user = signed_in_user(&caller)?;
    let current = match caller.credential {
        Credential::Session(hash) => Some(
            hash.iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        ),
        _ => None,
    };
    let sessions = state.with_store(move |s| Ok(s.sessions_of(user)?)).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|session| SessionView {
                current: current.as_deref() == Some(session.handle.as_str()),
                session,
            })
            .collect(),
    ))
}

/// `DELETE /api/v1/sessions/{handle}`: end one of my sessions.
pub async fn end(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(handle): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = signed_in_user(&caller)?;
    if handle.len() != 16 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::Invalid(
            "handle: 16 hex characters, as listed".into(),
        ));
    }
    let now = state.clock.now();
    let audit = caller.audit(
        "session.end",
        format!("session:{handle}"),
        caller.actor.as_ref().map(|a| a.org),
        serde_json::Value::Null,
    );
    let ended = state
        .with_store(move |s| Ok(s.end_session(user, &handle, &audit, now)?))
        .await?;
    if ended {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("no such live session of yours".into()))
    }
}
