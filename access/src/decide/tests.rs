use super::*;
use crate::actor::UserStatus;
use crate::dealer::{DealerGrant, GrantKind, NEVER_AT_CUSTOMER};
use crate::memory::MemoryDirectory;
use crate::sharing::{SharedFeature, Sharing};
use crate::target::TargetKind;
use crate::testkit::*;

mod customers;
mod dealers;
mod operators;
mod properties;
mod sharing;

fn on_site(n: u128) -> Target {
    Target::Site(site(n))
}

fn on_org(n: u128) -> Target {
    Target::Organisation(org(n))
}

fn check(actor: &Actor, permission: Permission, target: &Target) -> Decision {
    decide(actor, permission, target, &world(), t(0))
}

fn denied(reason: DenyReason) -> Decision {
    Decision::Deny(reason)
}

fn site_permissions() -> impl Iterator<Item = Permission> {
    Permission::all()
        .iter()
        .copied()
        .filter(|p| p.applies_to(TargetKind::Site))
}

fn roles_of(kind: OrgKind) -> impl Iterator<Item = Role> {
    kind.roles().iter().copied()
}

// ── the actor ────────────────────────────────────────────────────────────

#[test]
fn a_revoked_actor_is_denied_everything_whatever_their_role() {
    let dir = world();
    let targets = [
        on_site(1),
        on_site(10),
        on_org(CUSTOMER_A),
        on_org(OPERATOR),
        on_org(DEALER_X),
    ];
    for &role in Role::all() {
        let org_n = match role.org_kind() {
            OrgKind::Customer => CUSTOMER_A,
            OrgKind::Operator => OPERATOR,
            OrgKind::Dealer => DEALER_X,
        };
        let mut revoked = actor(org_n, role, SiteScope::All);
        revoked.status = UserStatus::Revoked;
        revoked.dealer_grants = vec![DealerGrant::new(
            org(CUSTOMER_A),
            org(DEALER_X),
            GrantKind::ByRequest,
            t(0),
        )];
        for &p in Permission::all() {
            for target in &targets {
                assert_eq!(
                    decide(&revoked, p, target, &dir, t(1)),
                    denied(DenyReason::Revoked),
                    "{role:?} {p} {target:?}"
                );
            }
        }
    }
}

#[test]
fn an_actor_whose_role_is_not_of_their_organisations_kind_is_denied() {
    let fake = customer(Role::OperatorAdmin, SiteScope::All);
    assert_eq!(
        check(&fake, Permission::ViewSites, &on_site(1)),
        denied(DenyReason::InconsistentActor {
            role: Role::OperatorAdmin,
            org: org(CUSTOMER_A)
        })
    );
}

#[test]
fn an_actor_of_an_unknown_organisation_is_denied() {
    let ghost = actor(99, Role::Owner, SiteScope::All);
    assert!(matches!(
        check(&ghost, Permission::ViewSites, &on_site(1)),
        Decision::Deny(DenyReason::InconsistentActor { .. })
    ));
}

// ── targets ──────────────────────────────────────────────────────────────

#[test]
fn unknown_sites_and_organisations_are_denied_as_unknown() {
    let owner = customer(Role::Owner, SiteScope::All);
    assert_eq!(
        check(&owner, Permission::ViewSites, &on_site(99)),
        denied(DenyReason::UnknownSite { site: site(99) })
    );
    assert_eq!(
        check(&owner, Permission::ViewSites, &on_org(99)),
        denied(DenyReason::UnknownOrganisation { org: org(99) })
    );
}

#[test]
fn a_permission_is_denied_on_a_kind_of_target_it_does_not_apply_to() {
    let owner = customer(Role::Owner, SiteScope::All);
    assert_eq!(
        check(&owner, Permission::GrantDealerAccess, &on_site(1)),
        denied(DenyReason::NotApplicable {
            permission: Permission::GrantDealerAccess,
            target: TargetKind::Site
        })
    );
    let user = Target::User {
        org: org(CUSTOMER_A),
        role: Role::Viewer,
        scope: SiteScope::All,
    };
    assert_eq!(
        check(&owner, Permission::Disarm, &user),
        denied(DenyReason::NotApplicable {
            permission: Permission::Disarm,
            target: TargetKind::User
        })
    );
}

#[test]
fn a_site_owned_by_a_non_customer_is_a_broken_tree() {
    let mut dir = world();
    dir.add_site(site(20), org(DEALER_X), None);
    let op = operator(Role::OperatorAdmin);
    assert_eq!(
        decide(&op, Permission::ViewSites, &on_site(20), &dir, t(0)),
        denied(DenyReason::BrokenSiteTree { site: site(20) })
    );
}
