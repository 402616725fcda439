//! An operator administrator and other organisations' top users.

use super::*;

#[test]
fn the_operator_admin_onboards_and_recovers_a_customers_owner() {
    let admin = operator(Role::OperatorAdmin);
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::Owner, &ALL),
        Decision::Allow
    );
    assert_eq!(see(&admin, CUSTOMER_A, Role::Owner, &ALL), Decision::Allow);
    assert_eq!(
        revoke(&admin, CUSTOMER_A, other(Role::Owner, &ALL)),
        Decision::Allow
    );
    assert_eq!(
        invite(&admin, DEALER_X, Role::DealerAdmin, &ALL),
        Decision::Allow
    );
}

#[test]
fn the_operator_admin_manages_no_other_users_of_another_organisation() {
    let admin = operator(Role::OperatorAdmin);
    let owner_only = denied(DenyReason::OnlyTopUserAcrossOrganisations {
        top_role: Role::Owner,
    });
    assert_eq!(
        invite(&admin, CUSTOMER_A, Role::CustomerAdmin, &ALL),
        owner_only
    );
    assert_eq!(see(&admin, CUSTOMER_A, Role::Viewer, &ALL), owner_only);
    assert_eq!(
        revoke(&admin, CUSTOMER_A, other(Role::Keyholder, &ALL)),
        owner_only
    );
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            other(Role::Viewer, &ALL),
            Role::Owner,
            &ALL
        ),
        owner_only
    );
    assert_eq!(
        edit(
            &admin,
            CUSTOMER_A,
            other(Role::Owner, &ALL),
            Role::Viewer,
            &ALL
        ),
        owner_only
    );
    assert_eq!(
        invite(&admin, DEALER_X, Role::DealerTechnician, &ALL),
        denied(DenyReason::OnlyTopUserAcrossOrganisations {
            top_role: Role::DealerAdmin
        })
    );
}

#[test]
fn other_operator_roles_never_manage_another_organisations_users() {
    let supervisor = operator(Role::CentreSupervisor);
    assert_eq!(
        invite(&supervisor, CUSTOMER_A, Role::Owner, &ALL),
        denied(DenyReason::OnlyTopUserAcrossOrganisations {
            top_role: Role::Owner
        })
    );
    assert_eq!(
        see(&supervisor, DEALER_X, Role::DealerAdmin, &ALL),
        denied(DenyReason::OnlyTopUserAcrossOrganisations {
            top_role: Role::DealerAdmin
        })
    );
}

#[test]
fn an_unknown_organisation_is_denied_as_unknown() {
    let admin = operator(Role::OperatorAdmin);
    assert_eq!(
        invite(&admin, 99, Role::Owner, &ALL),
        denied(DenyReason::UnknownOrganisation { org: org(99) })
    );
}
