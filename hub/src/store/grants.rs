//! Dealer-access grants: a customer's owner lets a dealer change settings
//! for 2 hours (granted directly) or 24 hours (answering the dealer's
//! e-mailed request); the owner may end one early; the first sign-in of a
//! dealer user during a grant is recorded (and the owner told).

use jiff::Timestamp;
use picket_access::GrantKind;
use picket_proto::ids::{OrgId, UserId};
use rusqlite::params;
use serde::Serialize;

use super::audit::{AuditEntry, append};
use super::people::{ms, ts};
use super::{Store, StoreError, uuid_from};

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrantRow {
    /// Id.
    pub id: uuid::Uuid,
    /// The customer who granted it.
    pub customer: OrgId,
    /// The dealer it was granted to.
    pub dealer: OrgId,
    /// Direct (2 h) or by request (24 h).
    pub kind: GrantKind,
    /// The owner who granted it.
    pub granted_by: UserId,
    /// From.
    pub starts_at: Timestamp,
    /// Until (as granted).
    pub ends_at: Timestamp,
    /// Ended early by the owner, if so.
    pub ended_early_at: Option<Timestamp>,
    /// When a dealer user first signed in during it.
    pub dealer_signed_in_at: Option<Timestamp>,
}

impl GrantRow {
    /// The grant as the access model sees it: it ends at the earlier of
    /// its end and an early end.
    pub fn as_access(&self) -> picket_access::DealerGrant {
        picket_access::DealerGrant {
            customer: self.customer,
            dealer: self.dealer,
            from: self.starts_at,
            until: self
                .ended_early_at
                .map_or(self.ends_at, |e| e.min(self.ends_at)),
        }
    }

    /// Whether it gives access at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at && self.ended_early_at.is_none_or(|e| now < e)
    }
}

fn kind_str(kind: GrantKind) -> &'static str {
    match kind {
        GrantKind::Direct => "direct",
        _ => "by_request",
    }
}

type RawGrant = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    String,
    Vec<u8>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

fn decode(raw: RawGrant) -> Result<GrantRow, StoreError> {
    let (id, customer, dealer, kind, by, starts, ends, early, signed_in) = raw;
    Ok(GrantRow {
        id: uuid_from(&id)?,
        customer: OrgId::from_uuid(uuid_from(&customer)?),
        dealer: OrgId::from_uuid(uuid_from(&dealer)?),
        kind: if kind == "direct" {
            GrantKind::Direct
        } else {
            GrantKind::ByRequest
        },
        granted_by: UserId::from_uuid(uuid_from(&by)?),
        starts_at: ts(starts)?,
        ends_at: ts(ends)?,
        ended_early_at: early.map(ts).transpose()?,
        dealer_signed_in_at: signed_in.map(ts).transpose()?,
    })
}

const COLUMNS: &str = "id, customer, dealer, kind, granted_by, starts_at, ends_at, ended_early_at, dealer_signed_in_at";

impl Store {
    /// Records a grant.
    pub fn create_grant(
        &mut self,
        grant: &GrantRow,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            tx.execute(
                &format!("INSERT INTO dealer_grants ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL)"),
                params![
                    grant.id.as_bytes().as_slice(),
                    grant.customer.as_bytes().as_slice(),
                    grant.dealer.as_bytes().as_slice(),
                    kind_str(grant.kind),
                    grant.granted_by.as_bytes().as_slice(),
                    ms(grant.starts_at),
                    ms(grant.ends_at)
                ],
            )?;
            Ok(())
        })
    }

    fn grants_where(&self, clause: &str, key: &[u8]) -> Result<Vec<GrantRow>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM dealer_grants WHERE {clause} ORDER BY starts_at DESC"
            ))?
            .query_map(params![key], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect::<Result<Vec<RawGrant>, _>>()?;
        rows.into_iter().map(decode).collect()
    }

    /// A customer's grants, newest first.
    pub fn grants_of_customer(&self, customer: OrgId) -> Result<Vec<GrantRow>, StoreError> {
        self.grants_where("customer = ?1", customer.as_bytes())
    }

    /// Grants made to a dealer, newest first.
    pub fn grants_to_dealer(&self, dealer: OrgId) -> Result<Vec<GrantRow>, StoreError> {
        self.grants_where("dealer = ?1", dealer.as_bytes())
    }

    /// Ends a live grant early; false if it was not live.
    pub fn end_grant(
        &mut self,
        customer: OrgId,
        id: uuid::Uuid,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE dealer_grants SET ended_early_at = ?3
             WHERE id = ?1 AND customer = ?2 AND ended_early_at IS NULL AND ends_at > ?3",
            params![
                id.as_bytes().as_slice(),
                customer.as_bytes().as_slice(),
                ms(now)
            ],
        )?;
        if n == 1 {
            append(&tx, audit, now)?;
            tx.commit()?;
        }
        Ok(n == 1)
    }

    /// Records the first dealer sign-in during a grant; true if this was
    /// the first (so the owner is told once).
    pub fn mark_dealer_signed_in(
        &mut self,
        id: uuid::Uuid,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE dealer_grants SET dealer_signed_in_at = ?2 WHERE id = ?1 AND dealer_signed_in_at IS NULL",
            params![id.as_bytes().as_slice(), ms(now)],
        )?;
        if n == 1 {
            append(&tx, audit, now)?;
            tx.commit()?;
        }
        Ok(n == 1)
    }

    /// One grant.
    pub fn grant(&self, id: uuid::Uuid) -> Result<Option<GrantRow>, StoreError> {
        Ok(self.grants_where("id = ?1", id.as_bytes())?.pop())
    }

    /// The e-mail addresses of a customer's active owners.
    pub fn owner_emails(&self, customer: OrgId) -> Result<Vec<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT email FROM users WHERE org = ?1 AND role = 'owner' AND status = 'active' ORDER BY email")?
            .query_map(params![customer.as_bytes().as_slice()], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?)
    }
}
