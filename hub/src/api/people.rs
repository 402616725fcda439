//! `/api/v1/roles`, `/api/v1/organisations`, their users, and accepting an
//! invitation.
//!
//! Every rule about who may see or change whom is `picket-access`'s
//! (`may_see_user`, `may_assign`, `may_revoke`); this module only asks and
//! maps the answer. The operator token (bootstrap) may do anything and, as
//! the only exception, gets the invitation link in the response so the very
//! first administrator can be set up before e-mail works.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::SignedDuration;
use picket_access::{
    Decision, ExistingUser, OrgKind, Permission, Role, SiteScope, Target, may_assign, may_revoke,
    may_see_user,
};
use picket_proto::ids::{OrgId, UserId};
use serde::{Deserialize, Serialize};

use super::caller::{Caller, denied};
use super::{ApiError, ApiJson, ApiState};
use crate::auth::secret::{SecretKind, new_secret};
use crate::mail::Mail;
use crate::store::{LinkPurpose, NewUser, OrgRow, UserRow};

/// How long an invitation link works.
const INVITATION_LIFETIME: SignedDuration = SignedDuration::from_hours(72);

/// One role, as whoever assigns it should see it.
#[derive(Debug, Serialize)]
pub struct RoleView {
    role: Role,
    organisation_kind: OrgKind,
    name: &'static str,
    description: &'static str,
    permissions: Vec<PermissionView>,
}

/// One permission with its meaning.
#[derive(Debug, Serialize)]
pub struct PermissionView {
    permission: Permission,
    description: &'static str,
}

/// `GET /api/v1/roles`: every role, highest first per kind, with what it
/// gives.
pub async fn roles() -> Json<Vec<RoleView>> {
    Json(
        Role::all()
            .iter()
            .map(|&role| RoleView {
                role,
                organisation_kind: role.org_kind(),
                name: role.name(),
                description: role.description(),
                permissions: role
                    .permissions()
                    .iter()
                    .map(|&permission| PermissionView {
                        permission,
                        description: permission.description(),
                    })
                    .collect(),
            })
            .collect(),
    )
}

pub(super) fn text_field(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::Invalid(format!("{field}: must not be empty")));
    }
    if trimmed.chars().count() > max {
        return Err(ApiError::Invalid(format!(
            "{field}: at most {max} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::Invalid(format!(
            "{field}: must not contain control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

pub(super) fn email_field(value: &str) -> Result<String, ApiError> {
    let email = text_field("email", value, 254)?.to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::Invalid(format!(
            "email: {value:?} is not an e-mail address"
        )))
    }
}

pub(super) fn parse_org(text: &str) -> Result<OrgId, ApiError> {
    text.parse()
        .map_err(|e: picket_proto::ids::IdError| ApiError::Invalid(format!("organisation: {e}")))
}

pub(super) fn new_id<T>(make: fn(uuid::Uuid) -> T, state: &ApiState) -> Result<T, ApiError> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(|e| ApiError::Internal(e.to_string()))?;
    let ms = state.clock.now().as_millisecond().max(0) as u64;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&random);
    bytes[6] = (bytes[6] & 0x0f) | 0x70;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(make(uuid::Uuid::from_bytes(bytes)))
}

/// A new organisation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    kind: OrgKind,
    name: String,
}

/// `POST /api/v1/organisations`: the operator creates a customer or
/// dealer (operator admins and the operator token).
pub async fn create_org(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewOrganisation>,
) -> Result<(StatusCode, Json<OrgRow>), ApiError> {
    let name = text_field("name", &body.name, 120)?;
    if let Some(actor) = &caller.actor {
        caller.check(
            &state,
            Permission::ManageOrganisations,
            &Target::Organisation(actor.org),
        )?;
    }
    if body.kind == OrgKind::Operator && state.directory_has_operator() {
        return Err(ApiError::Conflict(
            "kind: the hub already has its operator organisation".into(),
        ));
    }
    let id = new_id(OrgId::from_uuid, &state)?;
    let now = state.clock.now();
    let audit = caller.audit(
        "organisation.create",
        format!("organisation:{id}"),
        Some(id),
        serde_json::json!({ "kind": body.kind, "name": name }),
    );
    let kind = body.kind;
    let row = state
        .with_store(move |s| {
            s.create_org(id, kind, &name, &audit, now)?;
            s.org(id)?
                .ok_or_else(|| ApiError::Internal("organisation vanished".into()))
        })
        .await?;
    state.refresh_directory().await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// `GET /api/v1/organisations`: those the caller may see.
pub async fn list_orgs(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<OrgRow>>, ApiError> {
    let all = state.with_store(|s| Ok(s.orgs()?)).await?;
    let visible = all
        .into_iter()
        .filter(|org| match &caller.actor {
            None => true,
            Some(actor) => {
                org.id == actor.org
                    || caller.allows(&state, Permission::ViewSites, &Target::Organisation(org.id))
            }
        })
        .collect();
    Ok(Json(visible))
}

/// An invitation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    email: String,
    name: String,
    role: Role,
    #[serde(default = "all_sites")]
    scope: SiteScope,
}

fn all_sites() -> SiteScope {
    SiteScope::All
}

/// The invited user, and (for the operator token only) the link.
#[derive(Debug, Serialize)]
pub struct Invited {
    #[serde(flatten)]
    user: UserRow,
    /// Sent by e-mail; in the response only for the operator token.
    #[serde(skip_serializing_if = "Option::is_none")]
    invitation_link: Option<String>,
    /// Whether the e-mail went out.
    emailed: bool,
}

fn decision(d: Decision, permission: Permission) -> Result<(), ApiError> {
    match d {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(denied(permission, reason)),
    }
}

/// `POST /api/v1/organisations/{org}/users`: invite someone.
pub async fn invite(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<Invite>,
) -> Result<(StatusCode, Json<Invited>), ApiError> {
    let org = parse_org(&org)?;
    let email = email_field(&body.email)?;
    let name = text_field("name", &body.name, 120)?;
    let directory = state.directory();
    let Some(kind) = picket_access::Directory::org_kind(&*directory, org) else {
        return Err(ApiError::NotFound(
            "organisation not found (or not yours)".into(),
        ));
    };
    if body.role.org_kind() != kind {
        return Err(ApiError::Invalid(format!(
            "role: {:?} is not a role of a {kind:?} organisation",
            body.role.as_str()
        )));
    }
    if let Some(actor) = &caller.actor {
        decision(
            may_assign(actor, org, None, body.role, &body.scope, &*directory),
            Permission::ManageUsers,
        )?;
    }
    let id = new_id(UserId::from_uuid, &state)?;
    let now = state.clock.now();
    let link = new_secret(SecretKind::Link).map_err(|e| ApiError::Internal(e.to_string()))?;
    let url = format!("{}/invitation#{}", state.public_url, link.text);
    let audit = caller.audit(
        "user.invite",
        format!("user:{id}"),
        Some(org),
        serde_json::json!({ "email": email, "role": body.role, "scope": body.scope }),
    );
    let new = NewUser {
        org,
        email: email.clone(),
        name: name.clone(),
        role: body.role,
        scope: body.scope,
        password: None,
    };
    let by = caller.label.clone();
    let user = state
        .with_store(move |s| {
            s.create_user(id, &new, &audit, now)?;
            s.create_link(
                &link.hash,
                LinkPurpose::Invitation,
                Some(id),
                &serde_json::json!({ "invited_by": by }),
                now.checked_add(INVITATION_LIFETIME).unwrap_or(now),
                now,
            )?;
            s.user(id)?
                .ok_or_else(|| ApiError::Internal("user vanished".into()))
        })
        .await?;
    let emailed = state
        .send_mail(Mail {
            to: email,
            subject: "You are invited to Picket".into(),
            text: format!(
                "Hello {name},\n\n{} invited you to Picket as {}.\n\nSet your password within 72 hours:\n{url}\n\nIf you did not expect this, ignore this e-mail.\n",
                caller.label,
                body.role.name()
            ),
            purpose: "invitation",
        })
        .await;
    let invitation_link = caller.actor.is_none().then_some(url);
    Ok((
        StatusCode::CREATED,
        Json(Invited {
            user,
            invitation_link,
            emailed,
        }),
    ))
}

/// `GET /api/v1/organisations/{org}/users`: those the caller may see.
pub async fn list_users(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
) -> Result<Json<Vec<UserRow>>, ApiError> {
    let org = parse_org(&org)?;
    let users = state.with_store(move |s| Ok(s.users(org)?)).await?;
    let directory = state.directory();
    let Some(actor) = &caller.actor else {
        return Ok(Json(users));
    };
    if users.is_empty() && actor.org != org {
        caller.check(&state, Permission::ManageUsers, &Target::Organisation(org))?;
    }
    let visible: Vec<UserRow> = users
        .into_iter()
        .filter(|u| may_see_user(actor, u.org, u.role, &u.scope, &*directory).is_allowed())
        .collect();
    if visible.is_empty() && actor.org != org {
        return Err(ApiError::NotFound(
            "organisation not found (or not yours)".into(),
        ));
    }
    Ok(Json(visible))
}

/// A change to a user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditUser {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    scope: Option<SiteScope>,
}

fn parse_user(text: &str) -> Result<UserId, ApiError> {
    text.parse()
        .map_err(|e: picket_proto::ids::IdError| ApiError::Invalid(format!("user: {e}")))
}

async fn existing(state: &ApiState, caller: &Caller, user: UserId) -> Result<UserRow, ApiError> {
    let row = state.with_store(move |s| Ok(s.user(user)?)).await?;
    let Some(row) = row else {
        return Err(ApiError::NotFound("user not found (or not yours)".into()));
    };
    if let Some(actor) = &caller.actor {
        let directory = state.directory();
        if !may_see_user(actor, row.org, row.role, &row.scope, &*directory).is_allowed() {
            return Err(ApiError::NotFound("user not found (or not yours)".into()));
        }
    }
    Ok(row)
}

/// `PATCH /api/v1/users/{user}`: change name, role or sites.
pub async fn edit_user(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<EditUser>,
) -> Result<Json<UserRow>, ApiError> {
    let user = parse_user(&user)?;
    let row = existing(&state, &caller, user).await?;
    let name = match &body.name {
        Some(n) => text_field("name", n, 120)?,
        None => row.name.clone(),
    };
    let role = body.role.unwrap_or(row.role);
    let scope = body.scope.clone().unwrap_or_else(|| row.scope.clone());
    if let Some(actor) = &caller.actor {
        let directory = state.directory();
        let current = ExistingUser {
            id: row.id,
            role: row.role,
            scope: &row.scope,
        };
        decision(
            may_assign(actor, row.org, Some(current), role, &scope, &*directory),
            Permission::ManageUsers,
        )?;
    } else if role.org_kind() != row.role.org_kind() {
        return Err(ApiError::Invalid(format!(
            "role: {:?} is not a role of this user's organisation",
            role.as_str()
        )));
    }
    let now = state.clock.now();
    let audit = caller.audit(
        "user.edit",
        format!("user:{user}"),
        Some(row.org),
        serde_json::json!({
            "before": { "name": row.name, "role": row.role, "scope": row.scope },
            "after": { "name": name, "role": role, "scope": scope },
        }),
    );
    let updated = state
        .with_store(move |s| {
            s.update_user(user, &name, role, &scope, &audit, now)?;
            s.user(user)?
                .ok_or_else(|| ApiError::Internal("user vanished".into()))
        })
        .await?;
    Ok(Json(updated))
}

/// `POST /api/v1/users/{user}/revoke`: revoke at once (sessions and
/// tokens end in the same commit).
pub async fn revoke(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = parse_user(&user)?;
    let row = existing(&state, &caller, user).await?;
    if let Some(actor) = &caller.actor {
        let directory = state.directory();
        let current = ExistingUser {
            id: row.id,
            role: row.role,
            scope: &row.scope,
        };
        decision(
            may_revoke(actor, row.org, current, &*directory),
            Permission::ManageUsers,
        )?;
    }
    let now = state.clock.now();
    let audit = caller.audit(
        "user.revoke",
        format!("user:{user}"),
        Some(row.org),
        serde_json::json!({ "email": row.email }),
    );
    state
        .with_store(move |s| Ok(s.revoke_user(user, &audit, now)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/invitations/accept` `{"token", "password"}`: set a
/// password with the e-mailed link; the account becomes active. The link
/// works once.
pub async fn accept(
    State(state): State<ApiState>,
    request: axum::extract::Request,
) -> Result<StatusCode, ApiError> {
    super::password::set_by_link(
        &state,
        request,
        LinkPurpose::Invitation,
        "invitation",
        "user.accept_invitation",
    )
    .await
}
