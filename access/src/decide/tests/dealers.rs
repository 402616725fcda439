//! Dealer users: served customers only; read-only, grants, expiry, exclusions.

use super::*;

fn granted(role: Role, from: i64, until: i64) -> Actor {
    let mut user = dealer(role);
    user.dealer_grants = vec![DealerGrant {
        customer: org(CUSTOMER_A),
        dealer: org(DEALER_X),
        from: t(from),
        until: t(until),
    }];
    user
}

/// The permissions a grant adds at a customer.
fn grantable() -> [Permission; 7] {
    [
        Permission::ManageSites,
        Permission::EditSchedule,
        Permission::Disarm,
        Permission::SetLevel,
        Permission::ManageContacts,
        Permission::ManageReportRecipients,
        Permission::Relocate,
    ]
}

#[test]
fn dealer_users_without_a_grant_only_read_at_their_customers() {
    for role in roles_of(OrgKind::Dealer) {
        let user = dealer(role);
        for p in site_permissions() {
            let expected = p.is_view() && !NEVER_AT_CUSTOMER.contains(&p);
            assert_eq!(
                check(&user, p, &on_site(3)).is_allowed(),
                expected,
                "{role:?} {p}"
            );
        }
        assert_eq!(
            check(&user, Permission::Disarm, &on_site(3)),
            denied(DenyReason::DealerAccessNotGranted {
                permission: Permission::Disarm
            })
        );
    }
}

#[test]
fn dealer_users_never_reach_customers_that_do_not_list_their_dealer() {
    for role in roles_of(OrgKind::Dealer) {
        // A grant recorded for customer B does not create the relationship.
        let mut user = dealer(role);
        user.dealer_grants = vec![DealerGrant::new(
            org(CUSTOMER_B),
            org(DEALER_X),
            GrantKind::ByRequest,
            t(0),
        )];
        for &p in Permission::all() {
            if p.applies_to(TargetKind::Site) {
                assert_eq!(
                    check(&user, p, &on_site(10)),
                    denied(DenyReason::NotYourCustomer),
                    "{role:?} {p}"
                );
            }
            // API tokens are personal, so any other organisation is not yours.
            let expected = if p == Permission::ManageApiTokens {
                DenyReason::NotYourOrganisation
            } else {
                DenyReason::NotYourCustomer
            };
            assert_eq!(
                check(&user, p, &on_org(CUSTOMER_B)),
                denied(expected),
                "{role:?} {p}"
            );
            for n in [DEALER_Y, OPERATOR] {
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
fn an_active_grant_adds_the_grantable_permissions_for_every_dealer_role() {
    for role in roles_of(OrgKind::Dealer) {
        let user = granted(role, 0, 7200);
        for p in grantable() {
            assert_eq!(
                check(&user, p, &on_site(3)),
                Decision::Allow,
                "{role:?} {p}"
            );
        }
        for p in site_permissions() {
            let expected =
                (p.is_view() && !NEVER_AT_CUSTOMER.contains(&p)) || grantable().contains(&p);
            assert_eq!(
                check(&user, p, &on_site(3)).is_allowed(),
                expected,
                "{role:?} {p}"
            );
        }
    }
}

#[test]
fn a_grant_starts_at_from_inclusive_and_ends_at_until_exclusive() {
    let user = granted(Role::DealerTechnician, 100, 7300);
    let disarm = |at: i64| decide(&user, Permission::Disarm, &on_site(1), &world(), t(at));
    assert_eq!(
        disarm(99),
        denied(DenyReason::DealerAccessNotGranted {
            permission: Permission::Disarm
        })
    );
    assert_eq!(disarm(100), Decision::Allow);
    assert_eq!(disarm(7299), Decision::Allow);
    assert_eq!(
        disarm(7300),
        denied(DenyReason::DealerAccessExpired {
            permission: Permission::Disarm,
            until: t(7300)
        })
    );
    let just_before = decide(
        &user,
        Permission::Disarm,
        &on_site(1),
        &world(),
        t(7300) - jiff::SignedDuration::from_nanos(1),
    );
    assert_eq!(just_before, Decision::Allow);
}

#[test]
fn after_a_grant_expires_the_dealer_is_read_only_again() {
    let user = granted(Role::DealerAdmin, 0, 7200);
    let later = |p| decide(&user, p, &on_site(2), &world(), t(9000));
    assert_eq!(later(Permission::ViewEvents), Decision::Allow);
    for p in grantable() {
        assert_eq!(
            later(p),
            denied(DenyReason::DealerAccessExpired {
                permission: p,
                until: t(7200)
            })
        );
    }
}

#[test]
fn an_owner_ending_a_grant_early_ends_the_dealers_access() {
    let mut user = dealer(Role::DealerTechnician);
    let grant = DealerGrant::new(org(CUSTOMER_A), org(DEALER_X), GrantKind::Direct, t(0));
    user.dealer_grants = vec![grant.ended_at(t(600))];
    let at = |s| decide(&user, Permission::SetLevel, &on_site(1), &world(), t(s));
    assert_eq!(at(599), Decision::Allow);
    assert!(matches!(
        at(600),
        Decision::Deny(DenyReason::DealerAccessExpired { .. })
    ));
}

#[test]
fn an_expired_grant_reports_the_latest_end_and_any_active_grant_wins() {
    let mut user = dealer(Role::DealerTechnician);
    let g = |from, until| DealerGrant {
        customer: org(CUSTOMER_A),
        dealer: org(DEALER_X),
        from: t(from),
        until: t(until),
    };
    user.dealer_grants = vec![g(0, 100), g(200, 300), g(1000, 2000)];
    let at = |s| decide(&user, Permission::Disarm, &on_site(1), &world(), t(s));
    assert_eq!(
        at(500),
        denied(DenyReason::DealerAccessExpired {
            permission: Permission::Disarm,
            until: t(300)
        })
    );
    assert_eq!(at(250), Decision::Allow);
    assert_eq!(at(1500), Decision::Allow);
}

#[test]
fn a_grant_never_includes_live_video_clips_audit_credentials_sharing_or_granting() {
    let user = granted(Role::DealerAdmin, 0, 7200);
    for p in [
        Permission::ViewLiveVideo,
        Permission::ViewClips,
        Permission::ViewAudit,
    ] {
        assert_eq!(
            check(&user, p, &on_site(1)),
            denied(DenyReason::DealerAccessExcludes { permission: p }),
            "{p}"
        );
    }
    for p in [
        Permission::ManageUsers,
        Permission::ManageSharing,
        Permission::GrantDealerAccess,
        Permission::ViewLiveVideo,
    ] {
        assert_eq!(
            check(&user, p, &on_org(CUSTOMER_A)),
            denied(DenyReason::DealerAccessExcludes { permission: p }),
            "{p}"
        );
    }
    assert_eq!(
        check(&user, Permission::ManageApiTokens, &on_org(CUSTOMER_A)),
        denied(DenyReason::NotYourOrganisation)
    );
}

#[test]
fn a_grant_to_another_dealer_of_the_same_customer_does_not_count() {
    let mut dir = world();
    dir.add_dealer(org(52));
    dir.add_dealer_of(org(52), org(CUSTOMER_A));
    let mut user = dealer(Role::DealerTechnician);
    user.dealer_grants = vec![DealerGrant::new(
        org(CUSTOMER_A),
        org(52),
        GrantKind::ByRequest,
        t(0),
    )];
    assert_eq!(
        decide(&user, Permission::Disarm, &on_site(1), &dir, t(10)),
        denied(DenyReason::DealerAccessNotGranted {
            permission: Permission::Disarm
        })
    );
}

#[test]
fn a_dealer_that_stops_serving_a_customer_loses_access_even_with_an_active_grant() {
    let mut dir = world();
    dir.remove_dealer_of(org(DEALER_X), org(CUSTOMER_A));
    let user = granted(Role::DealerTechnician, 0, 7200);
    assert_eq!(
        decide(&user, Permission::Disarm, &on_site(1), &dir, t(10)),
        denied(DenyReason::NotYourCustomer)
    );
}

#[test]
fn operator_only_permissions_are_not_in_a_dealer_role() {
    let user = granted(Role::DealerAdmin, 0, 7200);
    assert_eq!(
        check(&user, Permission::HandleAlarms, &on_site(1)),
        denied(DenyReason::RoleLacksPermission {
            role: Role::DealerAdmin,
            permission: Permission::HandleAlarms
        })
    );
}

#[test]
fn dealer_admins_manage_their_own_organisation_and_technicians_do_not() {
    let admin = dealer(Role::DealerAdmin);
    assert_eq!(
        check(&admin, Permission::ManageUsers, &on_org(DEALER_X)),
        Decision::Allow
    );
    assert_eq!(
        check(&admin, Permission::ViewAudit, &on_org(DEALER_X)),
        Decision::Allow
    );
    let tech = dealer(Role::DealerTechnician);
    assert_eq!(
        check(&tech, Permission::ManageUsers, &on_org(DEALER_X)),
        denied(DenyReason::RoleLacksPermission {
            role: Role::DealerTechnician,
            permission: Permission::ManageUsers
        })
    );
}

#[test]
fn a_restricted_dealer_user_is_held_to_their_sites() {
    let mut tech = granted(Role::DealerTechnician, 0, 7200);
    tech.scope = only(&[2]);
    assert_eq!(
        check(&tech, Permission::Disarm, &on_site(3)),
        Decision::Allow
    );
    assert_eq!(
        check(&tech, Permission::Disarm, &on_site(4)),
        denied(DenyReason::OutsideYourSites { site: site(4) })
    );
    assert_eq!(
        check(&tech, Permission::ViewSites, &on_org(CUSTOMER_A)),
        denied(DenyReason::NeedsAllSites {
            permission: Permission::ViewSites
        })
    );
}
