//! Customer users: own organisation only, role permissions, site scopes
//! over nested sites, organisation targets.

use super::*;

#[test]
fn customer_users_act_on_their_own_sites_as_their_role_allows() {
    let viewer = customer(Role::Viewer, SiteScope::All);
    assert_eq!(
        check(&viewer, Permission::ViewEvents, &on_site(3)),
        Decision::Allow
    );
    assert_eq!(
        check(&viewer, Permission::Disarm, &on_site(3)),
        denied(DenyReason::RoleLacksPermission {
            role: Role::Viewer,
            permission: Permission::Disarm
        })
    );
    let keyholder = customer(Role::Keyholder, SiteScope::All);
    assert_eq!(
        check(&keyholder, Permission::Disarm, &on_site(3)),
        Decision::Allow
    );
    assert!(!check(&keyholder, Permission::EditSchedule, &on_site(3)).is_allowed());
    let manager = customer(Role::SiteManager, SiteScope::All);
    assert_eq!(
        check(&manager, Permission::EditSchedule, &on_site(1)),
        Decision::Allow
    );
    assert_eq!(
        check(&manager, Permission::Relocate, &on_site(4)),
        Decision::Allow
    );
}

#[test]
fn every_customer_role_gets_exactly_its_permissions_on_its_own_site() {
    for role in roles_of(OrgKind::Customer) {
        let user = customer(role, SiteScope::All);
        for p in site_permissions() {
            assert_eq!(
                check(&user, p, &on_site(2)).is_allowed(),
                role.has(p),
                "{role:?} {p}"
            );
        }
    }
}

#[test]
fn customer_users_never_reach_another_customers_sites_or_organisation() {
    for role in roles_of(OrgKind::Customer) {
        let user = customer(role, SiteScope::All);
        for &p in Permission::all() {
            for n in [10, 11] {
                if p.applies_to(TargetKind::Site) {
                    assert_eq!(
                        check(&user, p, &on_site(n)),
                        denied(DenyReason::NotYourOrganisation),
                        "{role:?} {p} site {n}"
                    );
                }
            }
            for n in [CUSTOMER_B, OPERATOR, DEALER_X] {
                assert_eq!(
                    check(&user, p, &on_org(n)),
                    denied(DenyReason::NotYourOrganisation),
                    "{role:?} {p} org {n}"
                );
            }
        }
    }
}

#[test]
fn a_restriction_to_a_site_covers_its_sub_sites_three_levels_down() {
    let top = customer(Role::Keyholder, only(&[1]));
    for n in [1, 2, 3] {
        assert_eq!(
            check(&top, Permission::Disarm, &on_site(n)),
            Decision::Allow,
            "site {n}"
        );
    }
    assert_eq!(
        check(&top, Permission::Disarm, &on_site(4)),
        denied(DenyReason::OutsideYourSites { site: site(4) })
    );
}

#[test]
fn a_restriction_to_a_sub_site_does_not_reach_its_parent() {
    let middle = customer(Role::Keyholder, only(&[2]));
    assert_eq!(
        check(&middle, Permission::ViewEvents, &on_site(1)),
        denied(DenyReason::OutsideYourSites { site: site(1) })
    );
    assert_eq!(
        check(&middle, Permission::ViewEvents, &on_site(2)),
        Decision::Allow
    );
    assert_eq!(
        check(&middle, Permission::ViewEvents, &on_site(3)),
        Decision::Allow
    );
}

#[test]
fn a_restricted_user_on_a_cyclic_site_tree_is_denied_without_hanging() {
    let mut dir = world();
    dir.add_site(site(1), org(CUSTOMER_A), Some(site(3)));
    let restricted = customer(Role::Viewer, only(&[4]));
    assert_eq!(
        decide(&restricted, Permission::ViewSites, &on_site(3), &dir, t(0)),
        denied(DenyReason::BrokenSiteTree { site: site(3) })
    );
    // Listing a site of the loop itself does not make the loop acceptable.
    let inside = customer(Role::Viewer, only(&[2]));
    assert_eq!(
        decide(&inside, Permission::ViewSites, &on_site(3), &dir, t(0)),
        denied(DenyReason::BrokenSiteTree { site: site(3) })
    );
}

#[test]
fn organisation_targets_need_all_sites_for_every_held_permission_but_api_tokens() {
    let restricted = customer(Role::Owner, only(&[1, 4]));
    for &p in Role::Owner.permissions() {
        let expected = if p == Permission::ManageApiTokens {
            Decision::Allow
        } else {
            denied(DenyReason::NeedsAllSites { permission: p })
        };
        assert_eq!(check(&restricted, p, &on_org(CUSTOMER_A)), expected, "{p}");
    }
    let unrestricted = customer(Role::Owner, SiteScope::All);
    for &p in Role::Owner.permissions() {
        assert_eq!(
            check(&unrestricted, p, &on_org(CUSTOMER_A)),
            Decision::Allow,
            "{p}"
        );
    }
}

#[test]
fn only_the_owner_grants_dealer_access() {
    for role in roles_of(OrgKind::Customer) {
        let user = customer(role, SiteScope::All);
        let decision = check(&user, Permission::GrantDealerAccess, &on_org(CUSTOMER_A));
        if role == Role::Owner {
            assert_eq!(decision, Decision::Allow);
        } else {
            assert_eq!(
                decision,
                denied(DenyReason::RoleLacksPermission {
                    role,
                    permission: Permission::GrantDealerAccess
                })
            );
        }
    }
    let admin = operator(Role::OperatorAdmin);
    assert!(!check(&admin, Permission::GrantDealerAccess, &on_org(CUSTOMER_A)).is_allowed());
}

#[test]
fn api_tokens_are_managed_only_in_ones_own_organisation() {
    let admin = operator(Role::OperatorAdmin);
    assert_eq!(
        check(&admin, Permission::ManageApiTokens, &on_org(OPERATOR)),
        Decision::Allow
    );
    assert_eq!(
        check(&admin, Permission::ManageApiTokens, &on_org(CUSTOMER_A)),
        denied(DenyReason::NotYourOrganisation)
    );
    let dealer_admin = dealer(Role::DealerAdmin);
    assert_eq!(
        check(
            &dealer_admin,
            Permission::ManageApiTokens,
            &on_org(DEALER_X)
        ),
        Decision::Allow
    );
}
