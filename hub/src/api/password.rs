//! Forgotten passwords: `POST /api/v1/password-reset` e-mails a single-use
//! link valid one hour; `POST /api/v1/password-reset/complete` sets the new
//! password with it and ends every session of the account.
//!
//! The first answer is the same whether or not the address has an account
//! (no account probing), and requests are limited per address and per
//! account like sign-ins.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use jiff::SignedDuration;
use serde::Deserialize;

use super::caller::RequestMeta;
use super::{ApiError, ApiState};
use crate::auth::password::{check_strength, hash_password};
use crate::auth::secret::{SecretKind, hash_secret, looks_like, new_secret};
use crate::auth::throttle::ThrottleKey;
use crate::mail::Mail;
use crate::store::{AccountStatus, AuditEntry, LinkPurpose, LinkRefusal};

/// How long a reset link works.
const RESET_LIFETIME: SignedDuration = SignedDuration::from_hours(1);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Forgot {
    email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Complete {
    token: String,
    password: String,
}

async fn body<T: serde::de::DeserializeOwned>(request: Request) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(request.into_body(), 16 * 1024)
        .await
        .map_err(|_| ApiError::Invalid("body: larger than 16 KiB".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Invalid(format!("body: {e}")))
}

/// `POST /api/v1/password-reset` `{"email"}`: always 202.
pub async fn forgot(
    State(state): State<ApiState>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let meta = RequestMeta::of(&request);
    let Forgot { email } = body(request).await?;
    let email = email.trim().to_lowercase();
    if email.len() > 254 {
        return Err(ApiError::Invalid("email: too long".into()));
    }
    let now = state.clock.now();
    let keys = [
        ThrottleKey::Account(format!("reset:{email}")),
        ThrottleKey::Address(format!("reset:{}", meta.address)),
    ];
    {
        let mut throttle = state
            .throttle
            .lock()
            .map_err(|_| ApiError::Internal("throttle lock poisoned".into()))?;
        if let Some(wait) = throttle.check(&keys, now) {
            return Err(ApiError::TooManyRequests(wait.as_secs().max(1) as u64));
        }
        // Every request counts: a few are free, then they slow down.
        throttle.failed(&keys, now);
    }
    let lookup = email.clone();
    let found = state
        .with_store(move |s| Ok(s.user_by_email(&lookup)?))
        .await?;
    let Some((user, _)) = found.filter(|(u, _)| u.status == AccountStatus::Active) else {
        tracing::info!(%email, "password reset asked for an address without an active account");
        return Ok(StatusCode::ACCEPTED);
    };
    let link = new_secret(SecretKind::Link).map_err(|e| ApiError::Internal(e.to_string()))?;
    let audit = AuditEntry {
        actor: Some(user.id),
        actor_label: user.email.clone(),
        address: meta.address,
        action: "user.password_reset.request".into(),
        target: format!("user:{}", user.id),
        org: Some(user.org),
        detail: serde_json::Value::Null,
    };
    let (hash, id) = (link.hash, user.id);
    state
        .with_store(move |s| {
            s.create_link(
                &hash,
                LinkPurpose::PasswordReset,
                Some(id),
                &serde_json::Value::Null,
                now.checked_add(RESET_LIFETIME).unwrap_or(now),
                now,
            )?;
            Ok(s.audit(&audit, now)?)
        })
        .await?;
    let url = format!("{}/password-reset#{}", state.public_url, link.text);
    state
        .send_mail(Mail {
            to: user.email,
            subject: "Reset your Picket password".into(),
            text: format!(
                "Someone (hopefully you) asked to reset your Picket password.\n\nChoose a new one within an hour:\n{url}\n\nThis signs you out everywhere. If it was not you, ignore this e-mail; your password stays as it is.\n"
            ),
            purpose: "password_reset",
        })
        .await;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/v1/password-reset/complete` `{"token", "password"}`.
pub async fn complete(
    State(state): State<ApiState>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    set_by_link(
        &state,
        request,
        LinkPurpose::PasswordReset,
        "reset link",
        "user.password_reset",
    )
    .await
}

/// Sets a password with a single-use link (`{"token", "password"}`): the
/// link is checked without using it up, the password against the rules
/// (naming what is wrong), then the link is used and the password set in
/// one step; every session of the account ends. Shared by accepting an
/// invitation and completing a reset.
pub(super) async fn set_by_link(
    state: &ApiState,
    request: Request,
    purpose: LinkPurpose,
    noun: &str,
    action: &str,
) -> Result<StatusCode, ApiError> {
    let meta = RequestMeta::of(&request);
    let Complete { token, password } = body(request).await?;
    if !looks_like(SecretKind::Link, &token) {
        return Err(ApiError::Invalid(format!("token: not a {noun} token")));
    }
    let hash = hash_secret(&token);
    let now = state.clock.now();
    let peeked = state
        .with_store(move |s| Ok(s.peek_link(&hash, purpose, now)?))
        .await?;
    let user = match peeked.map(|l| l.user) {
        Ok(Some(user)) => user,
        Ok(None) | Err(LinkRefusal::Unknown) => {
            return Err(ApiError::NotFound(format!("unknown {noun}")));
        }
        Err(LinkRefusal::Used) => {
            return Err(ApiError::Conflict(format!(
                "token: this {noun} was already used"
            )));
        }
        Err(LinkRefusal::Expired) => {
            return Err(ApiError::Invalid(format!(
                "token: this {noun} has expired; ask for a new one"
            )));
        }
    };
    let row = state
        .with_store(move |s| Ok(s.user(user)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("unknown {noun}")))?;
    check_strength(&password, &row.email).map_err(|e| ApiError::Invalid(e.to_string()))?;
    let phc = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let audit = AuditEntry {
        actor: Some(user),
        actor_label: row.email.clone(),
        address: meta.address,
        action: action.to_owned(),
        target: format!("user:{user}"),
        org: Some(row.org),
        detail: serde_json::Value::Null,
    };
    let used = format!("token: this {noun} was already used");
    state
        .with_store(move |s| match s.take_link(&hash, purpose, now)? {
            Ok(_) => Ok(s.set_password(user, &phc, &audit, now)?),
            Err(_) => Err(ApiError::Conflict(used)),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
