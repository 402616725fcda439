use super::*;
use crate::actor::UserStatus;
use crate::decide::decide;
use crate::target::Target;
use crate::testkit::*;

mod assigning;
mod onboarding;
mod properties;

fn see(actor: &Actor, org_n: u128, role: Role, scope: &SiteScope) -> Decision {
    may_see_user(actor, org(org_n), role, scope, &world())
}

fn invite(actor: &Actor, org_n: u128, role: Role, scope: &SiteScope) -> Decision {
    may_assign(actor, org(org_n), None, role, scope, &world())
}

fn edit(
    actor: &Actor,
    org_n: u128,
    current: ExistingUser<'_>,
    role: Role,
    scope: &SiteScope,
) -> Decision {
    may_assign(actor, org(org_n), Some(current), role, scope, &world())
}

fn revoke(actor: &Actor, org_n: u128, user: ExistingUser<'_>) -> Decision {
    may_revoke(actor, org(org_n), user, &world())
}

fn other(role: Role, scope: &SiteScope) -> ExistingUser<'_> {
    ExistingUser {
        id: user(2),
        role,
        scope,
    }
}

fn myself(role: Role, scope: &SiteScope) -> ExistingUser<'_> {
    ExistingUser {
        id: user(ME),
        role,
        scope,
    }
}

fn denied(reason: DenyReason) -> Decision {
    Decision::Deny(reason)
}

const ALL: SiteScope = SiteScope::All;

// ── who may manage users at all ──────────────────────────────────────────

#[test]
fn roles_without_manage_users_can_neither_see_invite_nor_revoke() {
    for role in [Role::SiteManager, Role::Keyholder, Role::Viewer] {
        let actor = customer(role, ALL);
        let lacks = denied(DenyReason::RoleLacksPermission {
            role,
            permission: Permission::ManageUsers,
        });
        assert_eq!(see(&actor, CUSTOMER_A, Role::Viewer, &ALL), lacks);
        assert_eq!(invite(&actor, CUSTOMER_A, Role::Viewer, &ALL), lacks);
        assert_eq!(revoke(&actor, CUSTOMER_A, other(Role::Viewer, &ALL)), lacks);
    }
}

#[test]
fn a_revoked_admin_can_do_nothing_with_users() {
    let mut actor = customer(Role::Owner, ALL);
    actor.status = UserStatus::Revoked;
    assert_eq!(
        see(&actor, CUSTOMER_A, Role::Viewer, &ALL),
        denied(DenyReason::Revoked)
    );
    assert_eq!(
        invite(&actor, CUSTOMER_A, Role::Viewer, &ALL),
        denied(DenyReason::Revoked)
    );
    assert_eq!(
        revoke(&actor, CUSTOMER_A, other(Role::Viewer, &ALL)),
        denied(DenyReason::Revoked)
    );
}

// ── seeing ───────────────────────────────────────────────────────────────

#[test]
fn an_admin_sees_users_at_and_below_their_role_but_not_above() {
    let admin = customer(Role::CustomerAdmin, ALL);
    for role in [
        Role::CustomerAdmin,
        Role::SiteManager,
        Role::Keyholder,
        Role::Viewer,
    ] {
        assert_eq!(
            see(&admin, CUSTOMER_A, role, &ALL),
            Decision::Allow,
            "{role:?}"
        );
    }
    assert_eq!(
        see(&admin, CUSTOMER_A, Role::Owner, &ALL),
        denied(DenyReason::UserOutranksYou { role: Role::Owner })
    );
}

#[test]
fn a_restricted_admin_sees_only_users_within_their_sites() {
    let admin = customer(Role::CustomerAdmin, only(&[1]));
    assert_eq!(
        see(&admin, CUSTOMER_A, Role::Viewer, &only(&[3])),
        Decision::Allow
    );
    assert_eq!(
        see(&admin, CUSTOMER_A, Role::Viewer, &only(&[1, 2])),
        Decision::Allow
    );
    assert_eq!(
        see(&admin, CUSTOMER_A, Role::Viewer, &only(&[3, 4])),
        denied(DenyReason::UserOutsideYourSites)
    );
    assert_eq!(
        see(&admin, CUSTOMER_A, Role::Viewer, &ALL),
        denied(DenyReason::UserOutsideYourSites)
    );
}

#[test]
fn users_of_other_organisations_are_out_of_reach_for_every_kind() {
    let cases = [
        (customer(Role::Owner, ALL), CUSTOMER_B, Role::Viewer),
        (customer(Role::Owner, ALL), DEALER_X, Role::DealerTechnician),
        (customer(Role::Owner, ALL), OPERATOR, Role::Installer),
        (dealer(Role::DealerAdmin), CUSTOMER_A, Role::Viewer),
        (dealer(Role::DealerAdmin), DEALER_Y, Role::DealerTechnician),
        (dealer(Role::DealerAdmin), OPERATOR, Role::Installer),
    ];
    for (actor, org_n, role) in cases {
        assert_eq!(
            see(&actor, org_n, role, &ALL),
            denied(DenyReason::NotYourOrganisation),
            "{:?} -> org {org_n}",
            actor.role
        );
        assert_eq!(
            invite(&actor, org_n, role, &ALL),
            denied(DenyReason::NotYourOrganisation)
        );
        assert_eq!(
            revoke(&actor, org_n, other(role, &ALL)),
            denied(DenyReason::NotYourOrganisation)
        );
    }
}

#[test]
fn decide_on_a_user_target_agrees_with_may_see_user() {
    let dir = world();
    let admin = customer(Role::CustomerAdmin, only(&[1]));
    for &role in Role::all() {
        for scope in [ALL, only(&[2]), only(&[4])] {
            let target = Target::User {
                org: org(CUSTOMER_A),
                role,
                scope: scope.clone(),
            };
            assert_eq!(
                decide(&admin, Permission::ManageUsers, &target, &dir, t(0)),
                may_see_user(&admin, org(CUSTOMER_A), role, &scope, &dir),
                "{role:?} {scope:?}"
            );
        }
    }
}

// ── revoking ─────────────────────────────────────────────────────────────

#[test]
fn revoking_follows_the_same_level_and_site_rules() {
    let admin = customer(Role::CustomerAdmin, only(&[1]));
    assert_eq!(
        revoke(&admin, CUSTOMER_A, other(Role::Viewer, &only(&[2]))),
        Decision::Allow
    );
    assert_eq!(
        revoke(&admin, CUSTOMER_A, other(Role::CustomerAdmin, &only(&[3]))),
        Decision::Allow
    );
    assert_eq!(
        revoke(&admin, CUSTOMER_A, other(Role::Owner, &ALL)),
        denied(DenyReason::UserOutranksYou { role: Role::Owner })
    );
    assert_eq!(
        revoke(&admin, CUSTOMER_A, other(Role::Viewer, &only(&[4]))),
        denied(DenyReason::UserOutsideYourSites)
    );
}

#[test]
fn nobody_revokes_themselves() {
    let owner = customer(Role::Owner, ALL);
    assert_eq!(
        revoke(&owner, CUSTOMER_A, myself(Role::Owner, &ALL)),
        denied(DenyReason::CannotRevokeYourself)
    );
}

#[test]
fn an_owner_may_revoke_another_owner() {
    let owner = customer(Role::Owner, ALL);
    assert_eq!(
        revoke(&owner, CUSTOMER_A, other(Role::Owner, &ALL)),
        Decision::Allow
    );
}
