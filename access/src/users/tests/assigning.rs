//! Inviting and editing: role level, sites, kinds, yourself.

use super::*;

#[test]
fn an_admin_invites_at_or_below_their_role_within_their_sites() {
    let admin = customer(Role::CustomerAdmin, ALL);
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::SiteManager, &only(&[1])),
        Decision::Allow
    );
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::CustomerAdmin, &ALL),
        Decision::Allow
    );
}

#[test]
fn nobody_grants_a_role_above_their_own() {
    let manager_admin = customer(Role::CustomerAdmin, ALL);
    assert_eq!(
        invite(&manager_admin, CUSTOMER_A, Role::Owner, &ALL),
        denied(DenyReason::CannotGrantAboveYourRole { role: Role::Owner })
    );
    let supervisor = operator(Role::CentreSupervisor);
    assert_eq!(
        invite(&supervisor, OPERATOR, Role::OperatorAdmin, &ALL),
        denied(DenyReason::CannotGrantAboveYourRole {
            role: Role::OperatorAdmin
        })
    );
    for role in [
        Role::CentreSupervisor,
        Role::CentreOperator,
        Role::Installer,
    ] {
        assert_eq!(
            invite(&supervisor, OPERATOR, role, &ALL),
            Decision::Allow,
            "{role:?}"
        );
    }
}

#[test]
fn only_an_owner_creates_another_owner() {
    let owner = customer(Role::Owner, ALL);
    assert_eq!(
        invite(&owner, CUSTOMER_A, Role::Owner, &ALL),
        Decision::Allow
    );
    for role in [
        Role::CustomerAdmin,
        Role::SiteManager,
        Role::Keyholder,
        Role::Viewer,
    ] {
        assert!(!invite(&customer(role, ALL), CUSTOMER_A, Role::Owner, &ALL).is_allowed());
    }
}

#[test]
fn a_restricted_admin_cannot_widen_access_beyond_their_sites() {
    let admin = customer(Role::CustomerAdmin, only(&[1]));
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::Viewer, &only(&[3])),
        Decision::Allow
    );
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::Viewer, &only(&[4])),
        denied(DenyReason::CannotGrantBeyondYourSites)
    );
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::Viewer, &ALL),
        denied(DenyReason::CannotGrantBeyondYourSites)
    );
}

#[test]
fn a_sub_site_restricted_admin_cannot_grant_its_parent() {
    let admin = customer(Role::CustomerAdmin, only(&[2]));
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::Viewer, &only(&[1])),
        denied(DenyReason::CannotGrantBeyondYourSites)
    );
}

#[test]
fn a_role_of_another_kind_of_organisation_cannot_be_given() {
    let owner = customer(Role::Owner, ALL);
    for role in [Role::OperatorAdmin, Role::Installer, Role::DealerAdmin] {
        assert_eq!(
            invite(&owner, CUSTOMER_A, role, &ALL),
            denied(DenyReason::RoleNotOfOrganisation {
                role,
                kind: OrgKind::Customer
            })
        );
    }
    let dealer_admin = dealer(Role::DealerAdmin);
    assert_eq!(
        invite(&dealer_admin, DEALER_X, Role::Owner, &ALL),
        denied(DenyReason::RoleNotOfOrganisation {
            role: Role::Owner,
            kind: OrgKind::Dealer
        })
    );
}

#[test]
fn a_scope_may_list_only_sites_the_users_organisation_owns_or_serves() {
    let owner = customer(Role::Owner, ALL);
    assert_eq!(
        invite(&owner, CUSTOMER_A, Role::Viewer, &only(&[1, 10])),
        denied(DenyReason::SiteOutsideOrganisation { site: site(10) })
    );
    assert_eq!(
        invite(&owner, CUSTOMER_A, Role::Viewer, &only(&[99])),
        denied(DenyReason::SiteOutsideOrganisation { site: site(99) })
    );
    let dealer_admin = dealer(Role::DealerAdmin);
    assert_eq!(
        invite(&dealer_admin, DEALER_X, Role::DealerTechnician, &only(&[2])),
        Decision::Allow
    );
    assert_eq!(
        invite(
            &dealer_admin,
            DEALER_X,
            Role::DealerTechnician,
            &only(&[10])
        ),
        denied(DenyReason::SiteOutsideOrganisation { site: site(10) })
    );
    let admin = operator(Role::OperatorAdmin);
    assert_eq!(
        invite(&admin, OPERATOR, Role::Installer, &only(&[1, 10])),
        Decision::Allow
    );
}

#[test]
fn the_top_role_always_gets_all_sites() {
    let owner = customer(Role::Owner, ALL);
    assert_eq!(
        invite(&owner, CUSTOMER_A, Role::Owner, &only(&[1])),
        denied(DenyReason::TopRoleNeedsAllSites { role: Role::Owner })
    );
    let admin = operator(Role::OperatorAdmin);
    assert_eq!(
        invite(&admin, DEALER_X, Role::DealerAdmin, &only(&[1])),
        denied(DenyReason::TopRoleNeedsAllSites {
            role: Role::DealerAdmin
        })
    );
}

#[test]
fn nobody_edits_a_user_above_them() {
    let admin = customer(Role::CustomerAdmin, ALL);
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            other(Role::Owner, &ALL),
            Role::Viewer,
            &ALL
        ),
        denied(DenyReason::UserOutranksYou { role: Role::Owner })
    );
}

#[test]
fn nobody_edits_a_user_with_sites_outside_theirs_even_to_narrow_them() {
    let admin = customer(Role::CustomerAdmin, only(&[1]));
    let wide = only(&[1, 4]);
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            other(Role::Viewer, &wide),
            Role::Viewer,
            &only(&[1])
        ),
        denied(DenyReason::UserOutsideYourSites)
    );
}

#[test]
fn an_admin_may_promote_up_to_and_demote_from_their_own_level() {
    let admin = customer(Role::CustomerAdmin, ALL);
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            other(Role::Viewer, &ALL),
            Role::CustomerAdmin,
            &ALL
        ),
        Decision::Allow
    );
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            other(Role::CustomerAdmin, &ALL),
            Role::Keyholder,
            &only(&[4])
        ),
        Decision::Allow
    );
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            other(Role::Viewer, &ALL),
            Role::Owner,
            &ALL
        ),
        denied(DenyReason::CannotGrantAboveYourRole { role: Role::Owner })
    );
}

#[test]
fn nobody_changes_their_own_role_or_sites() {
    let owner = customer(Role::Owner, ALL);
    assert_eq!(
        edit(
            &owner,
            CUSTOMER_A,
            myself(Role::Owner, &ALL),
            Role::CustomerAdmin,
            &ALL
        ),
        denied(DenyReason::CannotChangeOwnAccess)
    );
    let admin = customer(Role::CustomerAdmin, only(&[1]));
    let mine = only(&[1]);
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            myself(Role::CustomerAdmin, &mine),
            Role::Owner,
            &mine
        ),
        denied(DenyReason::CannotChangeOwnAccess)
    );
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            myself(Role::CustomerAdmin, &mine),
            Role::CustomerAdmin,
            &ALL
        ),
        denied(DenyReason::CannotChangeOwnAccess)
    );
    // Narrowing is a change too.
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            myself(Role::CustomerAdmin, &mine),
            Role::CustomerAdmin,
            &only(&[2])
        ),
        denied(DenyReason::CannotChangeOwnAccess)
    );
}

#[test]
fn editing_yourself_with_role_and_sites_unchanged_passes() {
    let admin = customer(Role::CustomerAdmin, only(&[1]));
    let mine = only(&[1]);
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            myself(Role::CustomerAdmin, &mine),
            Role::CustomerAdmin,
            &mine
        ),
        Decision::Allow
    );
}
