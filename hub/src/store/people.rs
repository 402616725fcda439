//! Organisations and their users.
//!
//! Every change a person makes is written together with its audit entry in
//! one transaction. Roles, site scopes and sharing settings are the
//! `picket-access` types, stored as JSON text.

use jiff::Timestamp;
use picket_access::{OrgKind, Role, Sharing, SiteScope};
use picket_proto::ids::{OrgId, UserId};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::audit::{AuditEntry, one_row};
use super::{Store, StoreError, from_json, json, uuid_from};

/// An organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgRow {
    /// Id.
    pub id: OrgId,
    /// Operator, customer or dealer.
    pub kind: OrgKind,
    /// Name.
    pub name: String,
    /// What the customer's users see (customers only; others all on).
    pub sharing: Sharing,
    /// Created (hub clock).
    pub created_at: Timestamp,
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Invited; no password yet, cannot sign in.
    Invited,
    /// Can sign in.
    Active,
    /// Revoked: every session and token ended, cannot sign in.
    Revoked,
}

impl AccountStatus {
    fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Invited => "invited",
            AccountStatus::Active => "active",
            AccountStatus::Revoked => "revoked",
        }
    }

    fn parse(s: &str) -> Result<AccountStatus, StoreError> {
        match s {
            "invited" => Ok(AccountStatus::Invited),
            "active" => Ok(AccountStatus::Active),
            "revoked" => Ok(AccountStatus::Revoked),
            other => Err(StoreError::Encoding(format!(
                "unknown account status {other:?}"
            ))),
        }
    }
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRow {
    /// Id.
    pub id: UserId,
    /// Organisation.
    pub org: OrgId,
    /// E-mail: the sign-in name, unique without regard to case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role in the organisation.
    pub role: Role,
    /// Sites they may act on.
    pub scope: SiteScope,
    /// Invited, active or revoked.
    pub status: AccountStatus,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Organisation.
    pub org: OrgId,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Sites.
    pub scope: SiteScope,
    /// Invited (no password) or active (with one).
    pub password: Option<String>,
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Encoding(e.to_string()))
}

fn kind_str(kind: OrgKind) -> Result<String, StoreError> {
    Ok(json(&kind)?.trim_matches('"').to_owned())
}

const USER_COLUMNS: &str = "id, org, email, name, role, scope, status, created_at, updated_at";

/// A user's columns as stored.
struct RawUser {
    id: Vec<u8>,
    org: Vec<u8>,
    email: String,
    name: String,
    role: String,
    scope: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

fn read_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawUser> {
    Ok(RawUser {
        id: r.get(0)?,
        org: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: r.get(4)?,
        scope: r.get(5)?,
        status: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn user_from(raw: RawUser) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: UserId::from_uuid(uuid_from(&raw.id)?),
        org: OrgId::from_uuid(uuid_from(&raw.org)?),
        email: raw.email,
        name: raw.name,
        role: from_json(&format!("\"{}\"", raw.role))?,
        scope: from_json(&raw.scope)?,
        status: AccountStatus::parse(&raw.status)?,
        created_at: ts(raw.created_at)?,
        updated_at: ts(raw.updated_at)?,
    })
}

fn role_str(role: Role) -> Result<String, StoreError> {
    Ok(json(&role)?.trim_matches('"').to_owned())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// Ends every session and API token of `user` (inside a transaction).
pub(crate) fn end_access(
    tx: &Transaction<'_>,
    user: UserId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let id = user.as_bytes().as_slice();
    tx.execute(
        "UPDATE sessions SET ended_at = ?2 WHERE user = ?1 AND ended_at IS NULL",
        params![id, ms(now)],
    )?;
    tx.execute(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE user = ?1 AND revoked_at IS NULL",
        params![id, ms(now)],
    )?;
    Ok(())
}

impl Store {
    /// Creates an organisation.
    pub fn create_org(
        &mut self,
        id: OrgId,
        kind: OrgKind,
        name: &str,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            tx.execute(
                "INSERT INTO organisations (id, kind, name, sharing, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id.as_bytes().as_slice(),
                    kind_str(kind)?,
                    name,
                    json(&Sharing::default())?,
                    ms(now)
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("organisation {id} already exists"))
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })
    }

    /// One organisation.
    pub fn org(&self, id: OrgId) -> Result<Option<OrgRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, kind, name, sharing, created_at FROM organisations WHERE id = ?1",
                params![id.as_bytes().as_slice()],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()?
            .map(|(id, kind, name, sharing, created)| {
                Ok(OrgRow {
                    id: OrgId::from_uuid(uuid_from(&id)?),
                    kind: from_json(&format!("\"{kind}\""))?,
                    name,
                    sharing: from_json(&sharing)?,
                    created_at: ts(created)?,
                })
            })
            .transpose()
    }

    /// Every organisation.
    pub fn orgs(&self) -> Result<Vec<OrgRow>, StoreError> {
        let ids: Vec<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT id FROM organisations ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(org) = self.org(OrgId::from_uuid(uuid_from(&id)?))? {
                out.push(org);
            }
        }
        Ok(out)
    }

    /// Sets a customer's sharing settings.
    pub fn set_sharing(
        &mut self,
        org: OrgId,
        sharing: &Sharing,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let n = tx.execute(
                "UPDATE organisations SET sharing = ?2 WHERE id = ?1",
                params![org.as_bytes().as_slice(), json(sharing)?],
            )?;
            one_row(n, || format!("organisation {org}"))?;
            Ok(())
        })
    }

    /// Records that `dealer` serves `customer` (or no longer does).
    pub fn set_dealer_of(
        &mut self,
        customer: OrgId,
        dealer: OrgId,
        serves: bool,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            if serves {
                tx.execute(
                    "INSERT OR IGNORE INTO org_dealers (customer, dealer) VALUES (?1, ?2)",
                    params![customer.as_bytes().as_slice(), dealer.as_bytes().as_slice()],
                )?;
            } else {
                tx.execute(
                    "DELETE FROM org_dealers WHERE customer = ?1 AND dealer = ?2",
                    params![customer.as_bytes().as_slice(), dealer.as_bytes().as_slice()],
                )?;
            }
            Ok(())
        })
    }

    /// Creates a user; a duplicate e-mail (any case) is a conflict.
    pub fn create_user(
        &mut self,
        id: UserId,
        user: &NewUser,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let status = if user.password.is_some() {
                AccountStatus::Active
            } else {
                AccountStatus::Invited
            };
            tx.execute(
                &format!(
                    "INSERT INTO users ({USER_COLUMNS}, password) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)"
                ),
                params![
                    id.as_bytes().as_slice(),
                    user.org.as_bytes().as_slice(),
                    user.email,
                    user.name,
                    role_str(user.role)?,
                    json(&user.scope)?,
                    status.as_str(),
                    ms(now),
                    user.password
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("email: {} is already in use", user.email))
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })
    }

    /// One user.
    pub fn user(&self, id: UserId) -> Result<Option<UserRow>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                params![id.as_bytes().as_slice()],
                read_user,
            )
            .optional()?
            .map(user_from)
            .transpose()
    }

    /// A user by e-mail (any case), with their password hash if set.
    pub fn user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(UserRow, Option<String>)>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {USER_COLUMNS}, password FROM users WHERE email = ?1"),
                params![email],
                |r| Ok((read_user(r)?, r.get::<_, Option<String>>(9)?)),
            )
            .optional()?;
        match found {
            Some((values, password)) => Ok(Some((user_from(values)?, password))),
            None => Ok(None),
        }
    }

    /// An organisation's users, by e-mail.
    pub fn users(&self, org: OrgId) -> Result<Vec<UserRow>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE org = ?1 ORDER BY email"
            ))?
            .query_map(params![org.as_bytes().as_slice()], read_user)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(user_from).collect()
    }

    /// Changes a user's name, role and sites.
    pub fn update_user(
        &mut self,
        id: UserId,
        name: &str,
        role: Role,
        scope: &SiteScope,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let n = tx.execute(
                "UPDATE users SET name = ?2, role = ?3, scope = ?4, updated_at = ?5 WHERE id = ?1",
                params![
                    id.as_bytes().as_slice(),
                    name,
                    role_str(role)?,
                    json(scope)?,
                    ms(now)
                ],
            )?;
            one_row(n, || format!("user {id}"))?;
            Ok(())
        })
    }

    /// Revokes a user: status `revoked`, and every session and API token
    /// ends in the same transaction (so the next request is refused).
    pub fn revoke_user(
        &mut self,
        id: UserId,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let n = tx.execute(
                "UPDATE users SET status = 'revoked', updated_at = ?2 WHERE id = ?1",
                params![id.as_bytes().as_slice(), ms(now)],
            )?;
            one_row(n, || format!("user {id}"))?;
            end_access(tx, id, now)?;
            Ok(())
        })
    }

    /// Sets a password (argon2 PHC string): an invited user becomes active;
    /// every other session of theirs ends (a reset signs out everywhere).
    pub fn set_password(
        &mut self,
        id: UserId,
        hash: &str,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let n = tx.execute(
                "UPDATE users SET password = ?2,
                     status = CASE status WHEN 'invited' THEN 'active' ELSE status END,
                     updated_at = ?3
                 WHERE id = ?1 AND status != 'revoked'",
                params![id.as_bytes().as_slice(), hash, ms(now)],
            )?;
            one_row(n, || format!("active user {id}"))?;
            tx.execute(
                "UPDATE sessions SET ended_at = ?2 WHERE user = ?1 AND ended_at IS NULL",
                params![id.as_bytes().as_slice(), ms(now)],
            )?;
            Ok(())
        })
    }
}

impl Store {
    /// Records one e-mail send (or failure) in the mail log.
    pub fn record_mail(
        &mut self,
        at: Timestamp,
        recipient: &str,
        subject: &str,
        purpose: &str,
        outcome: &str,
        attempts: u32,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO mail_log (at, recipient, subject, purpose, outcome, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ms(at), recipient, subject, purpose, outcome, attempts],
        )?;
        Ok(())
    }
}
