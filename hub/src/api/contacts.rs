//! `/api/v1/sites/{site}/contacts` and `/report-recipients`: whom the
//! centre calls for a site, in order, and who receives its reports.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use picket_access::{Permission, Target};

use super::caller::Caller;
use super::people::{email_field, text_field};
use super::sites::parse_site;
use super::{ApiError, ApiJson, ApiState};
use crate::store::{ContactRow, NewContact, NewRecipient, RecipientRow};

/// The most contacts a site keeps (the centre calls them in turn).
pub const MAX_CONTACTS: usize = 20;
/// The most report recipients per site.
pub const MAX_RECIPIENTS: usize = 50;

/// A phone number as people write them: digits with spaces, dashes, dots
/// and brackets, an optional leading `+`, 3 to 20 digits.
fn phone_field(field: &str, value: &str) -> Result<String, ApiError> {
    let phone = text_field(field, value, 32)?;
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0));
    if allowed && (3..=20).contains(&digits) {
        Ok(phone)
    } else {
        Err(ApiError::Invalid(format!(
            "{field}: {value:?} is not a phone number (digits, spaces, - . ( ), a leading +; 3-20 digits)"
        )))
    }
}

/// Names the list entry a field error is about.
fn within(entry: &str, error: ApiError) -> ApiError {
    match error {
        ApiError::Invalid(m) => ApiError::Invalid(format!("{entry}.{m}")),
        other => other,
    }
}

fn valid_contacts(contacts: Vec<NewContact>) -> Result<Vec<NewContact>, ApiError> {
    if contacts.is_empty() {
        return Err(ApiError::Invalid(
            "contacts: a site needs at least one contact".into(),
        ));
    }
    if contacts.len() > MAX_CONTACTS {
        return Err(ApiError::Invalid(format!(
            "contacts: at most {MAX_CONTACTS}"
        )));
    }
    contacts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(NewContact {
                name: text_field(&format!("contacts[{i}].name"), &c.name, 200)?,
                phone: phone_field(&format!("contacts[{i}].phone"), &c.phone)?,
                email: match c.email.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(e) => {
                        Some(email_field(e).map_err(|e| within(&format!("contacts[{i}]"), e))?)
                    }
                },
            })
        })
        .collect()
}

fn valid_recipients(recipients: Vec<NewRecipient>) -> Result<Vec<NewRecipient>, ApiError> {
    if recipients.len() > MAX_RECIPIENTS {
        return Err(ApiError::Invalid(format!(
            "recipients: at most {MAX_RECIPIENTS}"
        )));
    }
    recipients
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if !r.instant && !r.daily {
                return Err(ApiError::Invalid(format!(
                    "recipients[{i}]: choose instant alarm e-mails, the daily summary, or both"
                )));
            }
            Ok(NewRecipient {
                email: email_field(&r.email).map_err(|e| within(&format!("recipients[{i}]"), e))?,
                ..r
            })
        })
        .collect()
}

/// `GET /sites/{site}/contacts`.
pub async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
) -> Result<Json<Vec<ContactRow>>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::ViewSites, &Target::Site(site))?;
    let rows = state.with_store(move |s| Ok(s.contacts(site)?)).await?;
    Ok(Json(rows))
}

/// `PUT /sites/{site}/contacts`: the whole list, in call order.
pub async fn set(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(contacts): ApiJson<Vec<NewContact>>,
) -> Result<Json<Vec<ContactRow>>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::ManageContacts, &Target::Site(site))?;
    let contacts = valid_contacts(contacts)?;
    let audit = caller.audit(
        "site.contacts.set",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::json!({ "names": contacts.iter().map(|c| &c.name).collect::<Vec<_>>() }),
    );
    let now = state.clock.now();
    let rows = state
        .with_store(move |s| Ok(s.set_contacts(site, &contacts, &audit, now)?))
        .await?;
    Ok(Json(rows))
}

/// `DELETE /sites/{site}/contacts/{id}`: never the last one.
pub async fn remove(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((site, id)): Path<(String, String)>,
) -> Result<Json<Vec<ContactRow>>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::ManageContacts, &Target::Site(site))?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::Invalid(format!("contact: {id:?} is not a contact id")))?;
    let audit = caller.audit(
        "site.contacts.remove",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::json!({ "contact": id }),
    );
    let now = state.clock.now();
    let rows = state
        .with_store(move |s| Ok(s.remove_contact(site, id, &audit, now)?))
        .await?;
    Ok(Json(rows))
}

/// `GET /sites/{site}/report-recipients`.
pub async fn recipients(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
) -> Result<Json<Vec<RecipientRow>>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::ViewSites, &Target::Site(site))?;
    let rows = state.with_store(move |s| Ok(s.recipients(site)?)).await?;
    Ok(Json(rows))
}

/// `PUT /sites/{site}/report-recipients`: the whole list (empty: no
/// reports).
pub async fn set_recipients(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    ApiJson(recipients): ApiJson<Vec<NewRecipient>>,
) -> Result<Json<Vec<RecipientRow>>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(
        &state,
        Permission::ManageReportRecipients,
        &Target::Site(site),
    )?;
    let recipients = valid_recipients(recipients)?;
    let audit = caller.audit(
        "site.recipients.set",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::json!({ "emails": recipients.iter().map(|r| &r.email).collect::<Vec<_>>() }),
    );
    let now = state.clock.now();
    let rows = state
        .with_store(move |s| Ok(s.set_recipients(site, &recipients, &audit, now)?))
        .await?;
    Ok(Json(rows))
}

/// `GET /sites/{site}/report-sends?limit=`: the site's report e-mails,
/// newest first, with whether each was delivered.
pub async fn sends(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    super::ApiQuery(q): super::ApiQuery<SendsQuery>,
) -> Result<Json<Vec<crate::store::ReportSend>>, ApiError> {
    let site = parse_site(&site)?;
    caller.check(&state, Permission::ViewSites, &Target::Site(site))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state
        .with_store(move |s| Ok(s.report_sends(site, limit)?))
        .await?;
    Ok(Json(rows))
}

/// Paging of `GET /sites/{site}/report-sends`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendsQuery {
    limit: Option<u32>,
}
