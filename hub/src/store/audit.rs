//! The audit log: append-only and hash-chained.
//!
//! Every change a person makes, and every view of live video or a clip, is
//! one entry: who, what, on what, when, from which address. Entry `n`
//! stores `hash(n) = SHA-256(hash(n-1) ‖ fields of n)` (the first entry
//! chains to 32 zero bytes), so editing, deleting or reordering any entry
//! breaks every hash after it, and [`Store::verify_audit`] names the first
//! broken entry. SQL triggers refuse UPDATE and DELETE as a first line;
//! the chain catches whoever removes the triggers. Someone able to rewrite
//! the whole file could recompute the chain: keep the head hash that
//! `picket-hub audit verify` prints somewhere else to detect that too.

use jiff::Timestamp;
use picket_proto::ids::{OrgId, UserId};
use ring::digest::{Context, SHA256};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError, uuid_from};

/// The hash the first entry chains to.
const GENESIS: [u8; 32] = [0; 32];

/// One entry to append.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who (None: the hub itself, or the legacy operator token).
    pub actor: Option<UserId>,
    /// How the actor was known at the time (their e-mail; kept even if the
    /// user is later renamed or removed).
    pub actor_label: String,
    /// The client address of the request.
    pub address: String,
    /// What was done, e.g. `user.invite`, `site.schedule.set`, `clip.view`.
    pub action: String,
    /// On what, e.g. `user:<id>`, `site:<id>`.
    pub target: String,
    /// The organisation whose business it was (who may read the entry).
    pub org: Option<OrgId>,
    /// Anything else worth keeping (never secrets).
    pub detail: serde_json::Value,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When (hub clock).
    pub at: Timestamp,
    /// Who.
    pub actor: Option<UserId>,
    /// Who, as known then.
    pub actor_label: String,
    /// From where.
    pub address: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Whose business.
    pub org: Option<OrgId>,
    /// More.
    pub detail: serde_json::Value,
    /// This entry's hash, hex.
    pub hash: String,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AuditCheck {
    /// Every entry is where it was written and unchanged.
    Intact {
        /// Entries checked.
        entries: i64,
        /// The last entry's hash (hex): keep it elsewhere to detect a
        /// rewrite of the whole chain.
        head: String,
    },
    /// The chain is broken at `seq`.
    Broken {
        /// The first entry that does not verify.
        seq: i64,
        /// Why.
        reason: String,
    },
}

/// The hash of one entry given the previous hash. Every field is
/// length-prefixed so no two different entries encode alike.
fn entry_hash(prev: &[u8], seq: i64, at_ms: i64, fields: &[&[u8]]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(&at_ms.to_be_bytes());
    for field in fields {
        ctx.update(&(field.len() as u64).to_be_bytes());
        ctx.update(field);
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored columns of one entry, as the hash sees them.
struct Row {
    seq: i64,
    at: i64,
    actor: Option<Vec<u8>>,
    actor_label: String,
    address: String,
    action: String,
    target: String,
    org: Option<Vec<u8>>,
    detail: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl Row {
    fn computed_hash(&self, prev: &[u8]) -> [u8; 32] {
        entry_hash(
            prev,
            self.seq,
            self.at,
            &[
                self.actor.as_deref().unwrap_or_default(),
                self.actor_label.as_bytes(),
                self.address.as_bytes(),
                self.action.as_bytes(),
                self.target.as_bytes(),
                self.org.as_deref().unwrap_or_default(),
                self.detail.as_bytes(),
            ],
        )
    }

    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            actor_label: r.get(3)?,
            address: r.get(4)?,
            action: r.get(5)?,
            target: r.get(6)?,
            org: r.get(7)?,
            detail: r.get(8)?,
            prev_hash: r.get(9)?,
            hash: r.get(10)?,
        })
    }

    fn record(self) -> Result<AuditRecord, StoreError> {
        Ok(AuditRecord {
            seq: self.seq,
            at: Timestamp::from_millisecond(self.at)
                .map_err(|e| StoreError::Encoding(e.to_string()))?,
            actor: self
                .actor
                .as_deref()
                .map(|b| uuid_from(b).map(UserId::from_uuid))
                .transpose()?,
            actor_label: self.actor_label,
            address: self.address,
            action: self.action,
            target: self.target,
            org: self
                .org
                .as_deref()
                .map(|b| uuid_from(b).map(OrgId::from_uuid))
                .transpose()?,
            detail: serde_json::from_str(&self.detail)
                .map_err(|e| StoreError::Encoding(e.to_string()))?,
            hash: hex(&self.hash),
        })
    }
}

const COLUMNS: &str =
    "seq, at, actor, actor_label, address, action, target, org, detail, prev_hash, hash";

/// Appends `entry` inside the caller's transaction (so a change and its
/// audit entry commit together or not at all) and returns its seq.
pub(crate) fn append(
    tx: &rusqlite::Transaction<'_>,
    entry: &AuditEntry,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let last: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_vec()),
    };
    let row = Row {
        seq,
        at: now.as_millisecond(),
        actor: entry.actor.map(|a| a.as_bytes().to_vec()),
        actor_label: entry.actor_label.clone(),
        address: entry.address.clone(),
        action: entry.action.clone(),
        target: entry.target.clone(),
        org: entry.org.map(|o| o.as_bytes().to_vec()),
        detail: entry.detail.to_string(),
        prev_hash: prev,
        hash: Vec::new(),
    };
    let hash = row.computed_hash(&row.prev_hash);
    tx.execute(
        &format!(
            "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            row.seq,
            row.at,
            row.actor,
            row.actor_label,
            row.address,
            row.action,
            row.target,
            row.org,
            row.detail,
            row.prev_hash,
            hash.to_vec()
        ],
    )?;
    Ok(seq)
}

/// `Ok` when a statement changed a row; otherwise `what` was not found.
pub(crate) fn one_row(changed: usize, what: impl FnOnce() -> String) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(())
    }
}

impl Store {
    /// Runs `change` and appends `audit` in one transaction: both commit or
    /// neither (an error from `change` writes nothing).
    pub(crate) fn audited<T>(
        &mut self,
        audit: &AuditEntry,
        now: Timestamp,
        change: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = change(&tx)?;
        append(&tx, audit, now)?;
        tx.commit()?;
        Ok(out)
    }

    /// Appends one entry on its own (for actions that change nothing else,
    /// such as viewing a clip).
    pub fn audit(&mut self, entry: &AuditEntry, now: Timestamp) -> Result<i64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let seq = append(&tx, entry, now)?;
        tx.commit()?;
        Ok(seq)
    }

    /// The newest entries first, optionally only one organisation's.
    pub fn audit_entries(
        &self,
        org: Option<OrgId>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit
             WHERE (?1 IS NULL OR org = ?1) AND (?2 IS NULL OR seq < ?2)
             ORDER BY seq DESC LIMIT ?3"
        ))?;
        let org = org.map(|o| o.as_bytes().to_vec());
        let rows = stmt
            .query_map(params![org, before_seq, limit], Row::read)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(Row::record).collect()
    }

    /// Whether some entry has this hash (hex), i.e. an earlier head is
    /// still part of the chain.
    pub fn audit_has_hash(&self, hex_hash: &str) -> Result<bool, StoreError> {
        let Some(bytes) = (0..hex_hash.len())
            .step_by(2)
            .map(|i| {
                hex_hash
                    .get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
        else {
            return Ok(false);
        };
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM audit WHERE hash = ?1",
                params![bytes],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Walks the whole chain from the first entry and reports the first
    /// entry that is missing, moved or changed.
    pub fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))?;
        let mut rows = stmt.query([])?;
        let mut prev = GENESIS.to_vec();
        let mut expected_seq = 1;
        while let Some(r) = rows.next()? {
            let row = Row::read(r)?;
            if row.seq != expected_seq {
                return Ok(AuditCheck::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing (next is {})", row.seq),
                });
            }
            if row.prev_hash != prev {
                return Ok(AuditCheck::Broken {
                    seq: row.seq,
                    reason:
                        "does not follow the entry before it (an entry was removed or replaced)"
                            .into(),
                });
            }
            if row.computed_hash(&prev)[..] != row.hash[..] {
                return Ok(AuditCheck::Broken {
                    seq: row.seq,
                    reason: "its content does not match its hash (it was edited)".into(),
                });
            }
            prev = row.hash;
            expected_seq += 1;
        }
        Ok(AuditCheck::Intact {
            entries: expected_seq - 1,
            head: hex(&prev),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("hub.db")).unwrap();
        (dir, store)
    }

    fn org(n: u8) -> OrgId {
        OrgId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
    }

    fn entry(n: u32, org_n: u8) -> AuditEntry {
        AuditEntry {
            actor: Some(UserId::from_uuid(uuid::Uuid::from_bytes([9; 16]))),
            actor_label: "anna@example.com".into(),
            address: "192.0.2.7".into(),
            action: "site.schedule.set".into(),
            target: format!("site:{n}"),
            org: Some(org(org_n)),
            detail: serde_json::json!({ "n": n }),
        }
    }

    fn now(n: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + n).unwrap()
    }

    fn filled() -> (tempfile::TempDir, Store) {
        let (dir, mut store) = open();
        for n in 1..=5 {
            assert_eq!(
                store
                    .audit(&entry(n, (n % 2) as u8), now(n.into()))
                    .unwrap(),
                i64::from(n)
            );
        }
        (dir, store)
    }

    #[test]
    fn an_untouched_chain_verifies_and_reports_its_head() {
        let (_dir, store) = filled();
        let newest = store.audit_entries(None, None, 1).unwrap();
        assert_eq!(
            store.verify_audit().unwrap(),
            AuditCheck::Intact {
                entries: 5,
                head: newest[0].hash.clone()
            }
        );
        let (_dir, empty) = open();
        assert_eq!(
            empty.verify_audit().unwrap(),
            AuditCheck::Intact {
                entries: 0,
                head: hex(&GENESIS)
            }
        );
    }

    #[test]
    fn the_database_refuses_to_update_or_delete_entries() {
        let (_dir, store) = filled();
        let update = store
            .conn
            .execute("UPDATE audit SET actor_label = 'x' WHERE seq = 2", [])
            .unwrap_err();
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = store
            .conn
            .execute("DELETE FROM audit WHERE seq = 2", [])
            .unwrap_err();
        assert!(delete.to_string().contains("append-only"), "{delete}");
    }

    fn without_triggers(store: &Store) {
        store
            .conn
            .execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
            .unwrap();
    }

    #[test]
    fn an_edited_entry_is_found() {
        let (_dir, store) = filled();
        without_triggers(&store);
        store
            .conn
            .execute("UPDATE audit SET detail = '{\"n\":99}' WHERE seq = 3", [])
            .unwrap();
        match store.verify_audit().unwrap() {
            AuditCheck::Broken { seq, reason } => {
                assert_eq!(seq, 3);
                assert!(reason.contains("edited"), "{reason}");
            }
            other => panic!("tampering not found: {other:?}"),
        }
    }

    #[test]
    fn a_deleted_entry_is_found() {
        let (_dir, store) = filled();
        without_triggers(&store);
        store
            .conn
            .execute("DELETE FROM audit WHERE seq = 2", [])
            .unwrap();
        match store.verify_audit().unwrap() {
            AuditCheck::Broken { seq, reason } => {
                assert_eq!(seq, 2);
                assert!(reason.contains("missing"), "{reason}");
            }
            other => panic!("deletion not found: {other:?}"),
        }
    }

    #[test]
    fn a_replaced_entry_with_a_recomputed_hash_breaks_the_next_link() {
        let (_dir, store) = filled();
        without_triggers(&store);
        // Rewrite entry 2 consistently with its own prev hash: it verifies
        // alone, but entry 3 no longer follows it.
        let prev: Vec<u8> = store
            .conn
            .query_row("SELECT prev_hash FROM audit WHERE seq = 2", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut row = store
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM audit WHERE seq = 2"),
                [],
                Row::read,
            )
            .unwrap();
        row.actor_label = "mallory@example.com".into();
        let hash = row.computed_hash(&prev);
        store
            .conn
            .execute(
                "UPDATE audit SET actor_label = ?1, hash = ?2 WHERE seq = 2",
                params![row.actor_label, hash.to_vec()],
            )
            .unwrap();
        match store.verify_audit().unwrap() {
            AuditCheck::Broken { seq, reason } => {
                assert_eq!(seq, 3);
                assert!(reason.contains("does not follow"), "{reason}");
            }
            other => panic!("replacement not found: {other:?}"),
        }
    }

    #[test]
    fn entries_are_read_newest_first_per_organisation_and_paged() {
        let (_dir, store) = filled();
        let all = store.audit_entries(None, None, 10).unwrap();
        assert_eq!(
            all.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![5, 4, 3, 2, 1]
        );
        let odd = store.audit_entries(Some(org(1)), None, 10).unwrap();
        assert_eq!(odd.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 3, 1]);
        let page = store.audit_entries(Some(org(1)), Some(5), 1).unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
        assert_eq!(page[0].detail, serde_json::json!({ "n": 3 }));
        assert_eq!(page[0].actor_label, "anna@example.com");
        assert_eq!(page[0].at, now(3));
    }
}
