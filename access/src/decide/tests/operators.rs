//! Operator users: every customer, per role; not limited by sharing.

use super::*;

#[test]
fn operator_users_act_at_every_customer_as_their_role_allows() {
    for role in roles_of(OrgKind::Operator) {
        let user = operator(role);
        for p in site_permissions() {
            for n in [1, 3, 4, 10, 11] {
                assert_eq!(
                    check(&user, p, &on_site(n)).is_allowed(),
                    role.has(p),
                    "{role:?} {p} site {n}"
                );
            }
        }
    }
}

#[test]
fn operator_users_are_not_limited_by_customer_sharing() {
    let mut dir = world();
    dir.set_sharing(org(CUSTOMER_A), Sharing::NONE);
    let centre = operator(Role::CentreOperator);
    for p in [
        Permission::ViewLiveVideo,
        Permission::ViewClips,
        Permission::ViewIncidentReports,
    ] {
        assert_eq!(
            decide(&centre, p, &on_site(3), &dir, t(0)),
            Decision::Allow,
            "{p}"
        );
    }
    let supervisor = operator(Role::CentreSupervisor);
    assert_eq!(
        decide(
            &supervisor,
            Permission::ViewResponseTimes,
            &on_org(CUSTOMER_A),
            &dir,
            t(0)
        ),
        Decision::Allow
    );
}

#[test]
fn operator_users_never_reach_another_operator_organisation() {
    let mut dir = world();
    dir.add_operator(org(101));
    for role in roles_of(OrgKind::Operator) {
        let user = operator(role);
        for &p in Permission::all() {
            assert_eq!(
                decide(&user, p, &on_org(101), &dir, t(0)),
                denied(DenyReason::NotYourOrganisation),
                "{role:?} {p}"
            );
        }
    }
}

#[test]
fn only_the_operator_admin_manages_organisations() {
    for role in roles_of(OrgKind::Operator) {
        let user = operator(role);
        for n in [OPERATOR, CUSTOMER_A, DEALER_X] {
            assert_eq!(
                check(&user, Permission::ManageOrganisations, &on_org(n)).is_allowed(),
                role == Role::OperatorAdmin,
                "{role:?} org {n}"
            );
        }
    }
}

#[test]
fn among_operators_only_the_admin_manages_another_organisations_users() {
    let admin = operator(Role::OperatorAdmin);
    assert_eq!(
        check(&admin, Permission::ManageUsers, &on_org(CUSTOMER_A)),
        Decision::Allow
    );
    assert_eq!(
        check(&admin, Permission::ManageUsers, &on_org(DEALER_X)),
        Decision::Allow
    );
    let supervisor = operator(Role::CentreSupervisor);
    assert_eq!(
        check(&supervisor, Permission::ManageUsers, &on_org(OPERATOR)),
        Decision::Allow
    );
    assert_eq!(
        check(&supervisor, Permission::ManageUsers, &on_org(CUSTOMER_A)),
        denied(DenyReason::OnlyTopUserAcrossOrganisations {
            top_role: Role::Owner
        })
    );
    assert_eq!(
        check(&supervisor, Permission::ManageUsers, &on_org(DEALER_X)),
        denied(DenyReason::OnlyTopUserAcrossOrganisations {
            top_role: Role::DealerAdmin
        })
    );
}

#[test]
fn a_restricted_operator_user_is_held_to_their_sites() {
    let installer = actor(OPERATOR, Role::Installer, only(&[10]));
    assert_eq!(
        check(&installer, Permission::ClaimUnits, &on_site(11)),
        Decision::Allow
    );
    assert_eq!(
        check(&installer, Permission::ClaimUnits, &on_site(1)),
        denied(DenyReason::OutsideYourSites { site: site(1) })
    );
}
