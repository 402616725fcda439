//! `/api/v1/tokens`: API tokens for integrations. A token acts as the user
//! who made it, limited to the permissions it lists (never more than the
//! user's role gives), until it expires or is revoked. Its secret is shown
//! once, at creation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::SignedDuration;
use picket_access::{Permission, Target};
use serde::{Deserialize, Serialize};

use super::caller::{Caller, Credential};
use super::people::new_id;
use super::{ApiError, ApiJson, ApiState};
use crate::auth::secret::{SecretKind, new_secret};
use crate::store::TokenRow;

/// A token to make.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    permissions: Vec<Permission>,
    /// 1 to 365 days.
    expires_in_days: u32,
}

/// A new token with its secret (shown only now).
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    token: TokenRow,
    secret: String,
}

fn person(caller: &Caller) -> Result<&picket_access::Actor, ApiError> {
    match (&caller.actor, &caller.credential) {
        (Some(actor), Credential::Session(_)) => Ok(actor),
        (Some(_), _) => Err(ApiError::Forbidden(
            "API tokens are managed from a signed-in session, not with a token".into(),
        )),
        (None, _) => Err(ApiError::Invalid(
            "the operator token cannot own API tokens; sign in as a person".into(),
        )),
    }
}

/// `POST /api/v1/tokens`.
pub async fn create(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let actor = person(&caller)?;
    caller.check(
        &state,
        Permission::ManageApiTokens,
        &Target::Organisation(actor.org),
    )?;
    let name = super::people::text_field("name", &body.name, 80)?;
    if body.permissions.is_empty() {
        return Err(ApiError::Invalid("permissions: list at least one".into()));
    }
    if let Some(extra) = body.permissions.iter().find(|p| !actor.role.has(**p)) {
        return Err(ApiError::Forbidden(format!(
            "permissions: your role does not have {:?}, so a token of yours cannot",
            extra.as_str()
        )));
    }
    if !(1..=365).contains(&body.expires_in_days) {
        return Err(ApiError::Invalid(
            "expires_in_days: between 1 and 365".into(),
        ));
    }
    let now = state.clock.now();
    let expires = now
        .checked_add(SignedDuration::from_hours(
            24 * i64::from(body.expires_in_days),
        ))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let secret = new_secret(SecretKind::ApiToken).map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = new_id(|u| u, &state)?;
    let user = actor.user;
    let audit = caller.audit(
        "token.create",
        format!("token:{id}"),
        Some(actor.org),
        serde_json::json!({ "name": name, "permissions": body.permissions, "expires_at": expires }),
    );
    let (hash, permissions) = (secret.hash, body.permissions);
    let token = state
        .with_store(move |s| {
            s.create_token(id, user, &name, &hash, &permissions, expires, &audit, now)?;
            s.tokens_of(user)?
                .into_iter()
                .find(|t| t.id == id)
                .ok_or_else(|| ApiError::Internal("token vanished".into()))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token,
            secret: secret.text,
        }),
    ))
}

/// `GET /api/v1/tokens`: my tokens (never their secrets).
pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<TokenRow>>, ApiError> {
    let user = person(&caller)?.user;
    Ok(Json(
        state.with_store(move |s| Ok(s.tokens_of(user)?)).await?,
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revoke one of mine.
pub async fn revoke(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = person(&caller)?;
    let id: uuid::Uuid = id
        .parse()
        .map_err(|e| ApiError::Invalid(format!("token: {e}")))?;
    let (user, now) = (actor.user, state.clock.now());
    let audit = caller.audit(
        "token.revoke",
        format!("token:{id}"),
        Some(actor.org),
        serde_json::Value::Null,
    );
    let revoked = state
        .with_store(move |s| Ok(s.revoke_token(user, id, &audit, now)?))
        .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("no such live token of yours".into()))
    }
}
