//! `picket-tests`: end-to-end tests that start the real binaries on
//! loopback, and the architecture invariants as ordinary tests.
//!
//! - `tests/architecture.rs`: `picket-proto` stays pure, the crates depend
//!   on each other only as `ARCHITECTURE.md` says, and every topic in
//!   `docs/protocol.md` parses.
//! - `tests/broker_isolation.rs`: one unit can never read, write or disturb
//!   another unit's topics through the hub's broker.
//! - `tests/broker_availability.rs`: no unit can lock the others out of the
//!   hub's MQTT front (refused client ids, a full hub).
//! - `tests/hub_ingest.rs`: what units publish is committed once and
//!   acknowledged end to end; garbage is refused; silent units go offline.
//!
//! [`harness`] starts a real hub (broker, store, ingest) on loopback with its
//! own CA and connects units over mutual TLS; end-to-end tests share it.

pub mod cameras;
pub mod cluster;
pub mod fixtures;
pub mod harness;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
