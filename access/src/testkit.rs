//! Shared test fixtures: ids from small numbers and one small world.
//!
//! The world:
//!
//! ```text
//! operator 100
//! customer 1 (A): site 1 ─ site 2 ─ site 3    (three levels)
//!                 site 4
//! customer 2 (B): site 10 ─ site 11
//! dealer 50 (X) serves A;  dealer 51 (Y) serves B
//! ```

use std::collections::BTreeSet;

use jiff::Timestamp;
use picket_proto::ids::{OrgId, SiteId, UserId};
use uuid::Uuid;

use crate::actor::Actor;
use crate::memory::MemoryDirectory;
use crate::role::Role;
use crate::scope::SiteScope;

pub const OPERATOR: u128 = 100;
pub const CUSTOMER_A: u128 = 1;
pub const CUSTOMER_B: u128 = 2;
pub const DEALER_X: u128 = 50;
pub const DEALER_Y: u128 = 51;
/// The actor's own user id in every fixture.
pub const ME: u128 = 1;

pub fn org(n: u128) -> OrgId {
    OrgId::from_uuid(Uuid::from_u128(n))
}

pub fn site(n: u128) -> SiteId {
    SiteId::from_uuid(Uuid::from_u128(n))
}

pub fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

/// An instant, in seconds since the Unix epoch.
pub fn t(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).expect("test instants are in range")
}

pub fn only(sites: &[u128]) -> SiteScope {
    SiteScope::Only(sites.iter().map(|&n| site(n)).collect::<BTreeSet<_>>())
}

pub fn world() -> MemoryDirectory {
    let mut dir = MemoryDirectory::new();
    dir.add_operator(org(OPERATOR));
    dir.add_customer(org(CUSTOMER_A));
    dir.add_customer(org(CUSTOMER_B));
    dir.add_dealer(org(DEALER_X));
    dir.add_dealer(org(DEALER_Y));
    dir.add_dealer_of(org(DEALER_X), org(CUSTOMER_A));
    dir.add_dealer_of(org(DEALER_Y), org(CUSTOMER_B));
    dir.add_site(site(1), org(CUSTOMER_A), None);
    dir.add_site(site(2), org(CUSTOMER_A), Some(site(1)));
    dir.add_site(site(3), org(CUSTOMER_A), Some(site(2)));
    dir.add_site(site(4), org(CUSTOMER_A), None);
    dir.add_site(site(10), org(CUSTOMER_B), None);
    dir.add_site(site(11), org(CUSTOMER_B), Some(site(10)));
    dir
}

/// An active actor `ME` in organisation `org_n`.
pub fn actor(org_n: u128, role: Role, scope: SiteScope) -> Actor {
    Actor::new(user(ME), org(org_n), role, scope)
}

/// A user of customer A.
pub fn customer(role: Role, scope: SiteScope) -> Actor {
    actor(CUSTOMER_A, role, scope)
}

/// An operator user with all sites.
pub fn operator(role: Role) -> Actor {
    actor(OPERATOR, role, SiteScope::All)
}

/// A user of dealer X (serving customer A) with all sites and no grants.
pub fn dealer(role: Role) -> Actor {
    actor(DEALER_X, role, SiteScope::All)
}
