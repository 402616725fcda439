//! `picket-deploy`: installer and operator tooling — the hub's certificate
//! authority, the hub's TLS certificate, and per-unit identities
//! (provisioning bundles with `agent.toml`). Later: unit images, systemd
//! units, cross builds and scale-out configs.
//!
//! Every unit authenticates to the hub's MQTT broker with a client
//! certificate issued by the Picket CA. Its subject `O=` is the unit id as 32
//! lowercase hex digits: the broker takes that field as the unit's tenant and
//! lets the unit use only topics under `/tenants/<O>/`. So the CA is what
//! keeps units apart, and its key (`ca.key`) must stay on the operator's
//! machine.
//!
//! This crate is a library so the hub's tests and the end-to-end tests can
//! make CAs and identities in-process; the `picket-deploy` binary is a thin
//! CLI over it. It reads the clock and the system's entropy (key generation,
//! unit ids) and writes files; it never talks to the network.
//!
//! Start with [`ca::Ca`] (create or load the CA, issue certificates), then
//! [`provision::provision_unit`] (a unit's directory: key, certificate, CA,
//! `agent.toml`) and [`hub_cert::write_hub_cert`]. [`inspect`] reads
//! certificates back for `unit show`. Errors are [`Error`].
//!
//! The shell scripts beside the crate (`setup.sh`, `demo.sh`) set up a
//! Debian machine and run the demo; they are not part of this library.

// A bad file or a bad argument is an error, never a panic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod agent_file;
pub mod ca;
mod error;
pub mod files;
pub mod hub_cert;
pub mod inspect;
pub mod issued;
pub mod provision;
pub mod unit_show;
mod validity;

pub use error::Error;
pub use files::ExistingFiles;
pub use issued::IssuedCert;
