//! Time-limited dealer access (the dealer-access guide): normally a dealer
//! sees its customers read-only; the customer's owner can grant 2 hours
//! directly, or 24 hours by confirming the dealer's e-mailed request; the
//! owner can end it early; during it the dealer changes settings but never
//! sees live video or clips and never touches users. What a grant allows is
//! `picket-access`'s; this module records grants and sends the e-mails.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::SignedDuration;
use picket_access::{Directory, GrantKind, OrgKind, Permission, Target, dealer_grant_window};
use picket_proto::ids::OrgId;
use serde::Deserialize;

use super::caller::Caller;
use super::people::{new_id, parse_org};
use super::{ApiError, ApiJson, ApiState};
use crate::auth::secret::{SecretKind, hash_secret, looks_like, new_secret};
use crate::mail::Mail;
use crate::store::{GrantRow, LinkPurpose, LinkRefusal};

/// A direct grant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    dealer: OrgId,
}

fn served(state: &ApiState, customer: OrgId, dealer: OrgId) -> Result<(), ApiError> {
    let directory = state.directory();
    if directory.org_kind(customer) != Some(OrgKind::Customer) {
        return Err(ApiError::NotFound(
            "organisation not found (or not yours)".into(),
        ));
    }
    if !directory.is_dealer_of(dealer, customer) {
        return Err(ApiError::Invalid(
            "dealer: this dealer does not serve this customer".into(),
        ));
    }
    Ok(())
}

async fn record(
    state: &ApiState,
    caller: &Caller,
    customer: OrgId,
    dealer: OrgId,
    kind: GrantKind,
) -> Result<GrantRow, ApiError> {
    let now = state.clock.now();
    let (from, until) = dealer_grant_window(kind, now);
    let granted_by = caller
        .user()
        .ok_or_else(|| ApiError::Invalid("only a signed-in owner grants dealer access".into()))?;
    let grant = GrantRow {
        id: new_id(|u| u, state)?,
        customer,
        dealer,
        kind,
        granted_by,
        starts_at: from,
        ends_at: until,
        ended_early_at: None,
        dealer_signed_in_at: None,
    };
    let audit = caller.audit(
        "dealer_access.grant",
        format!("organisation:{dealer}"),
        Some(customer),
        serde_json::json!({ "dealer": dealer, "kind": kind, "until": until }),
    );
    let row = grant.clone();
    state
        .with_store(move |s| Ok(s.create_grant(&row, &audit, now)?))
        .await?;
    Ok(grant)
}

/// `POST /api/v1/organisations/{customer}/dealer-access` `{"dealer"}`: the
/// owner grants 2 hours now.
pub async fn grant(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(customer): Path<String>,
    ApiJson(body): ApiJson<Grant>,
) -> Result<(StatusCode, Json<GrantRow>), ApiError> {
    let customer = parse_org(&customer)?;
    // Permission first: someone else's customer must not learn anything
    // about its dealers from the answer.
    caller.check(
        &state,
        Permission::GrantDealerAccess,
        &Target::Organisation(customer),
    )?;
    served(&state, customer, body.dealer)?;
    let grant = record(&state, &caller, customer, body.dealer, GrantKind::Direct).await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// `GET /api/v1/organisations/{customer}/dealer-access`: grants, newest
/// first (the customer's users who may see the organisation, and its
/// dealers).
pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(customer): Path<String>,
) -> Result<Json<Vec<GrantRow>>, ApiError> {
    let customer = parse_org(&customer)?;
    caller.check(
        &state,
        Permission::ViewSites,
        &Target::Organisation(customer),
    )?;
    let mut grants = state
        .with_store(move |s| Ok(s.grants_of_customer(customer)?))
        .await?;
    if let Some(actor) = &caller.actor
        && actor.org_kind() == OrgKind::Dealer
    {
        grants.retain(|g| g.dealer == actor.org);
    }
    Ok(Json(grants))
}

/// `DELETE /api/v1/organisations/{customer}/dealer-access/{grant}`: the
/// owner ends a grant early.
pub async fn end(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((customer, grant)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let customer = parse_org(&customer)?;
    let grant: uuid::Uuid = grant
        .parse()
        .map_err(|e| ApiError::Invalid(format!("grant: {e}")))?;
    caller.check(
        &state,
        Permission::GrantDealerAccess,
        &Target::Organisation(customer),
    )?;
    let now = state.clock.now();
    let audit = caller.audit(
        "dealer_access.end",
        format!("grant:{grant}"),
        Some(customer),
        serde_json::Value::Null,
    );
    let ended = state
        .with_store(move |s| Ok(s.end_grant(customer, grant, &audit, now)?))
        .await?;
    if ended {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("no live grant with that id".into()))
    }
}

/// `POST /api/v1/organisations/{customer}/dealer-access/request`: a dealer
/// user asks the customer's owners for 24 hours; each owner gets an e-mail
/// with a confirm link (valid 24 hours).
pub async fn request(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(customer): Path<String>,
) -> Result<StatusCode, ApiError> {
    let customer = parse_org(&customer)?;
    let Some(actor) = caller
        .actor
        .as_ref()
        .filter(|a| a.org_kind() == OrgKind::Dealer)
    else {
        return Err(ApiError::Forbidden(
            "only a dealer's user requests dealer access".into(),
        ));
    };
    caller.check(
        &state,
        Permission::ViewSites,
        &Target::Organisation(customer),
    )?;
    served(&state, customer, actor.org)?;
    let now = state.clock.now();
    let link = new_secret(SecretKind::Link).map_err(|e| ApiError::Internal(e.to_string()))?;
    let detail = serde_json::json!({ "customer": customer, "dealer": actor.org, "requested_by": caller.label });
    let audit = caller.audit(
        "dealer_access.request",
        format!("organisation:{customer}"),
        Some(customer),
        serde_json::json!({ "dealer": actor.org }),
    );
    let hash = link.hash;
    let owners = state
        .with_store(move |s| {
            s.create_link(
                &hash,
                LinkPurpose::DealerRequest,
                None,
                &detail,
                now.checked_add(SignedDuration::from_hours(24))
                    .unwrap_or(now),
                now,
            )?;
            s.audit(&audit, now)?;
            Ok(s.owner_emails(customer)?)
        })
        .await?;
    let url = format!("{}/dealer-access#{}", state.public_url, link.text);
    for owner in owners {
        state
            .send_mail(Mail {
                to: owner,
                subject: "Your security dealer asks for 24 hours of access".into(),
                text: format!(
                    "{} asks for 24 hours of access to your Picket account to help you.\n\nDuring it they can change settings, but never see live video or clips and never change users.\nYou can end it at any time.\n\nTo grant it, sign in and confirm here within 24 hours:\n{url}\n\nIf you did not expect this, ignore this e-mail.\n",
                    caller.label
                ),
                purpose: "dealer_request",
            })
            .await;
    }
    Ok(StatusCode::ACCEPTED)
}

/// Confirming a dealer's request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    token: String,
}

/// `POST /api/v1/dealer-access/confirm` `{"token"}`: a signed-in owner
/// answers the e-mailed request: 24 hours from now.
pub async fn confirm(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<Confirm>,
) -> Result<(StatusCode, Json<GrantRow>), ApiError> {
    if !looks_like(SecretKind::Link, &body.token) {
        return Err(ApiError::Invalid(
            "token: not a dealer-access request token".into(),
        ));
    }
    let hash = hash_secret(&body.token);
    let now = state.clock.now();
    // Check who may confirm before the link is used up.
    let peeked = state
        .with_store(move |s| Ok(s.peek_link(&hash, LinkPurpose::DealerRequest, now)?))
        .await?;
    let detail = match peeked {
        Ok(link) => link.detail,
        Err(LinkRefusal::Used) => {
            return Err(ApiError::Conflict(
                "token: this request was already answered".into(),
            ));
        }
        Err(LinkRefusal::Expired) => {
            return Err(ApiError::Invalid(
                "token: this request has expired; the dealer can ask again".into(),
            ));
        }
        Err(LinkRefusal::Unknown) => return Err(ApiError::NotFound("unknown request".into())),
    };
    let parse = |key: &str| -> Result<OrgId, ApiError> {
        detail[key]
            .as_str()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| ApiError::Internal(format!("stored request lacks {key}")))
    };
    let (customer, dealer) = (parse("customer")?, parse("dealer")?);
    caller.check(
        &state,
        Permission::GrantDealerAccess,
        &Target::Organisation(customer),
    )?;
    served(&state, customer, dealer)?;
    let taken = state
        .with_store(move |s| Ok(s.take_link(&hash, LinkPurpose::DealerRequest, now)?))
        .await?;
    if taken.is_err() {
        return Err(ApiError::Conflict(
            "token: this request was already answered".into(),
        ));
    }
    let grant = record(&state, &caller, customer, dealer, GrantKind::ByRequest).await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// After a dealer user signs in: the first sign-in during each live grant
/// is recorded, audited in the customer's log, and the owners are told.
pub(crate) async fn note_dealer_sign_in(state: &ApiState, dealer: OrgId, who: &str, address: &str) {
    let now = state.clock.now();
    let grants = match state
        .with_store(move |s| Ok(s.grants_to_dealer(dealer)?))
        .await
    {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "cannot read dealer grants");
            return;
        }
    };
    for grant in grants
        .into_iter()
        .filter(|g| g.is_active(now) && g.dealer_signed_in_at.is_none())
    {
        let audit = crate::store::AuditEntry {
            actor: None,
            actor_label: who.to_owned(),
            address: address.to_owned(),
            action: "dealer_access.signed_in".into(),
            target: format!("grant:{}", grant.id),
            org: Some(grant.customer),
            detail: serde_json::json!({ "dealer": dealer }),
        };
        let (id, customer) = (grant.id, grant.customer);
        let owners = state
            .with_store(move |s| {
                if s.mark_dealer_signed_in(id, &audit, now)? {
                    Ok(s.owner_emails(customer)?)
                } else {
                    Ok(Vec::new())
                }
            })
            .await
            .unwrap_or_default();
        for owner in owners {
            state
                .send_mail(Mail {
                    to: owner,
                    subject: "Your security dealer signed in".into(),
                    text: format!(
                        "{who} signed in to Picket at {now} during the dealer access you granted (until {}).\nYou can end that access at any time under your profile.\n",
                        grant.as_access().until
                    ),
                    purpose: "dealer_sign_in",
                })
                .await;
        }
    }
}
