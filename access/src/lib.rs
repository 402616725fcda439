//! `picket-access`: who may do what in Picket, as pure decisions.
//!
//! Customers own sites (which nest as sub-sites) and give their people
//! roles, optionally restricted to some sites. The operator runs the service
//! and the monitoring centre for every customer. Dealers serve some
//! customers: read-only normally, nearly full access for a few hours when a
//! customer's owner grants it. This crate turns those rules into
//! [`decide()`] — may this actor use this permission on this target now? — and
//! the user-management checks [`may_see_user`], [`may_assign`] and
//! [`may_revoke`]. Every denial carries a [`DenyReason`] that says why in
//! words.
//!
//! **What it never does**: IO, async, SQLite, reading a clock, panicking. The
//! caller resolves the signed-in [`Actor`] from its session, implements the
//! read-only [`Directory`] over its store or cache, and passes the current
//! instant; the same inputs always give the same answer. Checking that a
//! decision is *enforced* (every handler asks) is the hub's job.
//!
//! Where to start reading:
//! - [`role`]: the roles, their order, and the role → permission table;
//!   [`permission`]: what each permission means.
//! - [`decide`](mod@decide): the order of checks and the rules per kind of
//!   organisation (customer, operator, dealer), site scopes and sharing.
//! - [`users`]: seeing, inviting, editing and revoking users.
//! - [`dealer`]: dealer read-only access and time-limited grants.
//! - [`scope`] and [`site_tree`]: site restrictions over nested sites;
//!   [`sharing`]: what a customer's account shows its users.
//!
//! **Invariants** (tested): within an organisation kind a role holds every
//! permission of the roles it outranks, so nobody can give more than they
//! have by assigning a role at or below their own; a revoked actor is
//! denied everything; a restricted actor is never allowed on a site outside
//! their scope.

// Nothing a caller passes may panic us: no unwraps outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod actor;
pub mod dealer;
pub mod decide;
pub mod decision;
pub mod directory;
pub mod memory;
pub mod org;
pub mod permission;
pub mod role;
pub mod scope;
pub mod sharing;
pub mod site_tree;
pub mod target;
pub mod users;

#[cfg(test)]
mod testkit;

pub use actor::{Actor, UserStatus};
pub use dealer::{DealerGrant, GrantKind, dealer_grant_window};
pub use decide::decide;
pub use decision::{Decision, DenyReason};
pub use directory::{Directory, SiteEntry};
pub use memory::MemoryDirectory;
pub use org::OrgKind;
pub use permission::Permission;
pub use role::{Rank, Role};
pub use scope::SiteScope;
pub use sharing::{SharedFeature, Sharing};
pub use target::{Target, TargetKind};
pub use users::{ExistingUser, may_assign, may_revoke, may_see_user};

#[cfg(test)]
mod architecture {
    /// The crate is pure: its only dependencies are data and error crates.
    #[test]
    fn depends_on_no_io_runtime_or_database() {
        let manifest = include_str!("../Cargo.toml");
        let dependencies = manifest
            .split("[dependencies]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap();
        let names: Vec<&str> = dependencies
            .lines()
            .filter_map(|line| line.split(['.', ' ', '=']).next())
            .filter(|name| !name.is_empty())
            .collect();
        assert_eq!(names, ["jiff", "picket-proto", "serde", "thiserror"]);
    }
}
