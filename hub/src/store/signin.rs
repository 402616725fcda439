//! Sign-in sessions, API tokens and single-use links, all keyed by the
//! SHA-256 hash of the secret (the secret itself is never stored).

use jiff::Timestamp;
use picket_access::Permission;
use picket_proto::ids::UserId;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::audit::{AuditEntry, append};
use super::people::{ms, ts};
use super::{Store, StoreError, from_json, json, uuid_from};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRow {
    /// A short public id for listing and ending it (the first 8 bytes of
    /// the hash, hex): enough to name it, useless to sign in with.
    pub handle: String,
    /// Whose.
    pub user: UserId,
    /// Signed in at.
    pub created_at: Timestamp,
    /// Last request.
    pub last_seen: Timestamp,
    /// Absolute expiry.
    pub expires_at: Timestamp,
    /// Ended (logout, revocation), if it was.
    pub ended_at: Option<Timestamp>,
    /// Client address at sign-in.
    pub address: String,
    /// Browser or client at sign-in.
    pub user_agent: String,
}

/// A stored API token (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRow {
    /// Public id.
    pub id: uuid::Uuid,
    /// Whose (it acts as this user, limited to `permissions`).
    pub user: UserId,
    /// What the owner called it.
    pub name: String,
    /// The only permissions it carries (never more than the user has).
    pub permissions: Vec<Permission>,
    /// Created.
    pub created_at: Timestamp,
    /// Ends.
    pub expires_at: Timestamp,
    /// Revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// Last used.
    pub last_used: Option<Timestamp>,
}

/// What a single-use link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Set a password and become active.
    Invitation,
    /// Set a new password.
    PasswordReset,
    /// A dealer's request for 24 h access, answered by the owner.
    DealerRequest,
}

impl LinkPurpose {
    fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "invitation",
            LinkPurpose::PasswordReset => "password_reset",
            LinkPurpose::DealerRequest => "dealer_request",
        }
    }
}

/// Why a link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// No such link (or for another purpose).
    Unknown,
    /// Already used once.
    Used,
    /// Past its expiry.
    Expired,
}

/// A link taken (marked used) successfully.
#[derive(Debug, Clone, PartialEq)]
pub struct TakenLink {
    /// For whom, if anyone.
    pub user: Option<UserId>,
    /// What was stored with it.
    pub detail: serde_json::Value,
}

/// A link's columns as stored.
struct StoredLink {
    user: Option<Vec<u8>>,
    detail: String,
    expires_at: i64,
    used_at: Option<i64>,
}

fn handle_of(hash: &[u8]) -> String {
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

struct RawSession {
    hash: Vec<u8>,
    user: Vec<u8>,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
    ended_at: Option<i64>,
    address: String,
    user_agent: String,
}

const SESSION_COLUMNS: &str =
    "id_hash, user, created_at, last_seen, expires_at, ended_at, address, user_agent";

fn read_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSession> {
    Ok(RawSession {
        hash: r.get(0)?,
        user: r.get(1)?,
        created_at: r.get(2)?,
        last_seen: r.get(3)?,
        expires_at: r.get(4)?,
        ended_at: r.get(5)?,
        address: r.get(6)?,
        user_agent: r.get(7)?,
    })
}

impl RawSession {
    fn decode(self) -> Result<SessionRow, StoreError> {
        Ok(SessionRow {
            handle: handle_of(&self.hash),
            user: UserId::from_uuid(uuid_from(&self.user)?),
            created_at: ts(self.created_at)?,
            last_seen: ts(self.last_seen)?,
            expires_at: ts(self.expires_at)?,
            ended_at: self.ended_at.map(ts).transpose()?,
            address: self.address,
            user_agent: self.user_agent,
        })
    }
}

impl Store {
    /// Records a new session (sign-in) and its audit entry.
    #[allow(clippy::too_many_arguments)]
    pub fn create_session(
        &mut self,
        hash: &[u8; 32],
        user: UserId,
        expires_at: Timestamp,
        address: &str,
        user_agent: &str,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?3, ?4, NULL, ?5, ?6)"
                ),
                params![
                    hash.as_slice(),
                    user.as_bytes().as_slice(),
                    ms(now),
                    ms(expires_at),
                    address,
                    user_agent
                ],
            )?;
            Ok(())
        })
    }

    /// The session with this secret hash.
    pub fn session(&self, hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?1"),
                params![hash.as_slice()],
                read_session,
            )
            .optional()?
            .map(RawSession::decode)
            .transpose()
    }

    /// Moves a live session's last use forward (if it is a minute old).
    pub fn touch_session(&mut self, hash: &[u8; 32], now: Timestamp) -> Result<(), StoreError> {
        // At most one write a minute per session: idle expiry is in tens of
        // minutes, and every request should not cost an fsync.
        self.conn.execute(
            "UPDATE sessions SET last_seen = ?2 WHERE id_hash = ?1 AND last_seen <= ?2 - 60000",
            params![hash.as_slice(), ms(now)],
        )?;
        Ok(())
    }

    /// A user's sessions that have not ended, newest first.
    pub fn sessions_of(&self, user: UserId) -> Result<Vec<SessionRow>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE user = ?1 AND ended_at IS NULL ORDER BY created_at DESC"
            ))?
            .query_map(params![user.as_bytes().as_slice()], read_session)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(RawSession::decode).collect()
    }

    /// Ends a user's session by its public handle (their own, or by
    /// someone allowed); false if there was no such live session.
    pub fn end_session(
        &mut self,
        user: UserId,
        handle: &str,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let hashes: Vec<Vec<u8>> = tx
            .prepare("SELECT id_hash FROM sessions WHERE user = ?1 AND ended_at IS NULL")?
            .query_map(params![user.as_bytes().as_slice()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let Some(hash) = hashes.into_iter().find(|h| handle_of(h) == handle) else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE sessions SET ended_at = ?2 WHERE id_hash = ?1",
            params![hash, ms(now)],
        )?;
        append(&tx, audit, now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Ends the session with this secret hash (logout).
    pub fn end_session_by_hash(
        &mut self,
        hash: &[u8; 32],
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            tx.execute(
                "UPDATE sessions SET ended_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
                params![hash.as_slice(), ms(now)],
            )?;
            Ok(())
        })
    }

    /// Stores a new API token.
    #[allow(clippy::too_many_arguments)]
    pub fn create_token(
        &mut self,
        id: uuid::Uuid,
        user: UserId,
        name: &str,
        hash: &[u8; 32],
        permissions: &[Permission],
        expires_at: Timestamp,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            tx.execute(
                "INSERT INTO api_tokens (id, user, name, secret_hash, permissions, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id.as_bytes().as_slice(),
                    user.as_bytes().as_slice(),
                    name,
                    hash.as_slice(),
                    json(&permissions)?,
                    ms(now),
                    ms(expires_at)
                ],
            )?;
            Ok(())
        })
    }

    fn tokens_where(&self, clause: &str, key: &[u8]) -> Result<Vec<TokenRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, user, name, permissions, created_at, expires_at, revoked_at, last_used
             FROM api_tokens WHERE {clause} ORDER BY created_at DESC"
        ))?;
        let raw = stmt
            .query_map(params![key], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(id, user, name, perms, created, expires, revoked, used)| {
                Ok(TokenRow {
                    id: uuid_from(&id)?,
                    user: UserId::from_uuid(uuid_from(&user)?),
                    name,
                    permissions: from_json(&perms)?,
                    created_at: ts(created)?,
                    expires_at: ts(expires)?,
                    revoked_at: revoked.map(ts).transpose()?,
                    last_used: used.map(ts).transpose()?,
                })
            })
            .collect()
    }

    /// The token with this secret hash, and marks it used now.
    pub fn use_token(
        &mut self,
        hash: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<TokenRow>, StoreError> {
        let found = self.tokens_where("secret_hash = ?1", hash)?.pop();
        if found.is_some() {
            self.conn.execute(
                "UPDATE api_tokens SET last_used = ?2 WHERE secret_hash = ?1",
                params![hash.as_slice(), ms(now)],
            )?;
        }
        Ok(found)
    }

    /// A user's tokens, newest first.
    pub fn tokens_of(&self, user: UserId) -> Result<Vec<TokenRow>, StoreError> {
        self.tokens_where("user = ?1", user.as_bytes())
    }

    /// Revokes one of a user's tokens; false if there was no such token.
    pub fn revoke_token(
        &mut self,
        user: UserId,
        id: uuid::Uuid,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE api_tokens SET revoked_at = ?3 WHERE id = ?1 AND user = ?2 AND revoked_at IS NULL",
            params![id.as_bytes().as_slice(), user.as_bytes().as_slice(), ms(now)],
        )?;
        if n == 1 {
            append(&tx, audit, now)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Stores a single-use link.
    pub fn create_link(
        &mut self,
        hash: &[u8; 32],
        purpose: LinkPurpose,
        user: Option<UserId>,
        detail: &serde_json::Value,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO links (token_hash, purpose, user, detail, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                hash.as_slice(),
                purpose.as_str(),
                user.map(|u| u.as_bytes().to_vec()),
                detail.to_string(),
                ms(now),
                ms(expires_at)
            ],
        )?;
        Ok(())
    }

    /// Uses a link once: marks it used and returns what it carries, or
    /// says why it cannot be used. A used or expired link stays refused.
    pub fn take_link(
        &mut self,
        hash: &[u8; 32],
        purpose: LinkPurpose,
        now: Timestamp,
    ) -> Result<Result<TakenLink, LinkRefusal>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found = tx
            .query_row(
                "SELECT user, detail, expires_at, used_at FROM links WHERE token_hash = ?1 AND purpose = ?2",
                params![hash.as_slice(), purpose.as_str()],
                |r| {
                    Ok(StoredLink {
                        user: r.get(0)?,
                        detail: r.get(1)?,
                        expires_at: r.get(2)?,
                        used_at: r.get(3)?,
                    })
                },
            )
            .optional()?;
        let Some(StoredLink {
            user,
            detail,
            expires_at,
            used_at,
        }) = found
        else {
            return Ok(Err(LinkRefusal::Unknown));
        };
        if used_at.is_some() {
            return Ok(Err(LinkRefusal::Used));
        }
        if ms(now) >= expires_at {
            return Ok(Err(LinkRefusal::Expired));
        }
        tx.execute(
            "UPDATE links SET used_at = ?2 WHERE token_hash = ?1",
            params![hash.as_slice(), ms(now)],
        )?;
        tx.commit()?;
        Ok(Ok(TakenLink {
            user: user
                .as_deref()
                .map(|u| uuid_from(u).map(UserId::from_uuid))
                .transpose()?,
            detail: from_json(&detail)?,
        }))
    }
}

impl Store {
    /// What a link of `purpose` carries, if it can still be used (nothing
    /// is marked), or why not.
    pub fn peek_link(
        &self,
        hash: &[u8; 32],
        purpose: LinkPurpose,
        now: Timestamp,
    ) -> Result<Result<TakenLink, LinkRefusal>, StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT user, detail, expires_at, used_at FROM links WHERE token_hash = ?1 AND purpose = ?2",
                params![hash.as_slice(), purpose.as_str()],
                |r| {
                    Ok(StoredLink {
                        user: r.get(0)?,
                        detail: r.get(1)?,
                        expires_at: r.get(2)?,
                        used_at: r.get(3)?,
                    })
                },
            )
            .optional()?;
        let Some(link) = found else {
            return Ok(Err(LinkRefusal::Unknown));
        };
        if link.used_at.is_some() {
            return Ok(Err(LinkRefusal::Used));
        }
        if ms(now) >= link.expires_at {
            return Ok(Err(LinkRefusal::Expired));
        }
        Ok(Ok(TakenLink {
            user: link
                .user
                .as_deref()
                .map(|u| uuid_from(u).map(UserId::from_uuid))
                .transpose()?,
            detail: from_json(&link.detail)?,
        }))
    }
}
