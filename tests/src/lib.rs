//! `picket-tests`: end-to-end tests that start the real binaries on
//! loopback, and the architecture invariants as ordinary tests.
//!
//! Today it holds `tests/architecture.rs`: `picket-proto` stays pure, the
//! crates depend on each other only as `ARCHITECTURE.md` says, and every
//! topic in `docs/protocol.md` parses. End-to-end tests arrive with the sync
//! issue.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
