//! What the store's tests share: fixed instants and an audit entry.

use jiff::Timestamp;

use super::AuditEntry;

/// `s` seconds after a fixed instant (2027-01-15).
pub(crate) fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s).unwrap()
}

/// An audit entry for `action` by nobody in particular.
pub(crate) fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: None,
        actor_label: "test".into(),
        address: "127.0.0.1".into(),
        action: action.into(),
        target: "test".into(),
        org: None,
        detail: serde_json::Value::Null,
    }
}
