use std::collections::BTreeSet;

use super::*;

fn set(permissions: &[Permission]) -> BTreeSet<Permission> {
    permissions.iter().copied().collect()
}

#[test]
fn customer_roles_are_ordered_owner_admin_site_manager_keyholder_viewer() {
    let order = [
        Role::Owner,
        Role::CustomerAdmin,
        Role::SiteManager,
        Role::Keyholder,
        Role::Viewer,
    ];
    for (i, &higher) in order.iter().enumerate() {
        for &lower in &order[i + 1..] {
            assert!(higher.outranks(lower), "{higher:?} > {lower:?}");
            assert!(higher.outranks_or_equals(lower));
            assert!(!lower.outranks(higher), "{lower:?} !> {higher:?}");
            assert!(!lower.outranks_or_equals(higher));
        }
    }
}

#[test]
fn operator_roles_are_ordered_admin_supervisor_operator_installer() {
    let order = [
        Role::OperatorAdmin,
        Role::CentreSupervisor,
        Role::CentreOperator,
        Role::Installer,
    ];
    for (i, &higher) in order.iter().enumerate() {
        for &lower in &order[i + 1..] {
            assert!(higher.outranks(lower), "{higher:?} > {lower:?}");
            assert!(!lower.outranks_or_equals(higher));
        }
    }
}

#[test]
fn dealer_admin_outranks_dealer_technician() {
    assert!(Role::DealerAdmin.outranks(Role::DealerTechnician));
    assert!(!Role::DealerTechnician.outranks_or_equals(Role::DealerAdmin));
}

#[test]
fn every_role_equals_itself_but_does_not_outrank_itself() {
    for &role in Role::all() {
        assert!(role.outranks_or_equals(role), "{role:?}");
        assert!(!role.outranks(role), "{role:?}");
        assert_eq!(role.rank().partial_cmp(&role.rank()), Some(Ordering::Equal));
    }
}

#[test]
fn roles_of_different_kinds_are_incomparable() {
    for &a in Role::all() {
        for &b in Role::all() {
            if a.org_kind() == b.org_kind() {
                continue;
            }
            assert_eq!(a.rank().partial_cmp(&b.rank()), None, "{a:?} vs {b:?}");
            assert!(!a.outranks(b), "{a:?} vs {b:?}");
            assert!(!a.outranks_or_equals(b), "{a:?} vs {b:?}");
            let (x, y) = (a.rank(), b.rank());
            assert_eq!([x < y, x > y, x <= y, x >= y], [false; 4], "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn levels_are_distinct_within_a_kind_so_equal_rank_means_same_role() {
    for &a in Role::all() {
        for &b in Role::all() {
            assert_eq!(a.rank() == b.rank(), a == b, "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn all_lists_eleven_distinct_roles() {
    let roles: BTreeSet<_> = Role::all().iter().map(|r| r.as_str()).collect();
    assert_eq!(roles.len(), 11);
    assert_eq!(Role::all().len(), 11);
}

#[test]
fn serde_names_are_as_str_and_distinguish_the_three_administrators() {
    for &role in Role::all() {
        let json = serde_json::to_string(&role).unwrap();
        assert_eq!(json, format!("\"{}\"", role.as_str()));
        assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
    }
    assert_eq!(Role::CustomerAdmin.as_str(), "customer_admin");
    assert_eq!(Role::OperatorAdmin.as_str(), "operator_admin");
    assert_eq!(Role::DealerAdmin.as_str(), "dealer_admin");
    assert!(serde_json::from_str::<Role>("\"administrator\"").is_err());
}

#[test]
fn names_and_descriptions_are_distinct_and_present() {
    let names: BTreeSet<_> = Role::all().iter().map(|r| r.name()).collect();
    assert_eq!(names.len(), Role::all().len());
    assert_eq!(Role::Owner.name(), "Owner (master user)");
    for &role in Role::all() {
        assert!(role.description().ends_with('.'), "{role:?}");
        assert_eq!(role.to_string(), role.name());
    }
}

#[test]
fn viewer_looks_only() {
    assert_eq!(
        set(Role::Viewer.permissions()),
        set(&[
            P::ViewSites,
            P::ViewUnits,
            P::ViewEvents,
            P::ViewAlarms,
            P::ViewLiveVideo,
            P::ViewClips,
            P::ViewIncidentReports,
            P::ViewResponseTimes,
        ])
    );
    assert!(Role::Viewer.permissions().iter().all(|p| p.is_view()));
}

#[test]
fn keyholder_is_viewer_plus_disarm() {
    let mut expected = set(Role::Viewer.permissions());
    expected.insert(P::Disarm);
    assert_eq!(set(Role::Keyholder.permissions()), expected);
}

#[test]
fn site_manager_is_keyholder_plus_schedule_level_contacts_recipients_relocation() {
    let mut expected = set(Role::Keyholder.permissions());
    expected.extend([
        P::EditSchedule,
        P::SetLevel,
        P::ManageContacts,
        P::ManageReportRecipients,
        P::Relocate,
    ]);
    assert_eq!(set(Role::SiteManager.permissions()), expected);
}

#[test]
fn customer_admin_is_site_manager_plus_sites_users_sharing_audit_tokens() {
    let mut expected = set(Role::SiteManager.permissions());
    expected.extend([
        P::ManageSites,
        P::ManageUsers,
        P::ManageSharing,
        P::ViewAudit,
        P::ManageApiTokens,
    ]);
    assert_eq!(set(Role::CustomerAdmin.permissions()), expected);
}

#[test]
fn owner_is_customer_admin_plus_grant_dealer_access() {
    let mut expected = set(Role::CustomerAdmin.permissions());
    expected.insert(P::GrantDealerAccess);
    assert_eq!(set(Role::Owner.permissions()), expected);
}

#[test]
fn installer_claims_relocates_and_sees_fleet() {
    assert_eq!(
        set(Role::Installer.permissions()),
        set(&[
            P::ViewSites,
            P::ViewUnits,
            P::ViewEvents,
            P::ClaimUnits,
            P::Relocate,
            P::ViewFleet,
        ])
    );
}

#[test]
fn centre_operator_is_installer_plus_alarm_handling_and_video() {
    let mut expected = set(Role::Installer.permissions());
    expected.extend([
        P::ViewAlarms,
        P::HandleAlarms,
        P::ViewLiveVideo,
        P::ViewClips,
        P::ViewIncidentReports,
    ]);
    assert_eq!(set(Role::CentreOperator.permissions()), expected);
}

#[test]
fn centre_supervisor_is_centre_operator_plus_response_times_audit_users() {
    let mut expected = set(Role::CentreOperator.permissions());
    expected.extend([P::ViewResponseTimes, P::ViewAudit, P::ManageUsers]);
    assert_eq!(set(Role::CentreSupervisor.permissions()), expected);
}

#[test]
fn operator_admin_has_everything_except_grant_dealer_access() {
    let mut expected = set(Permission::all());
    expected.remove(&P::GrantDealerAccess);
    assert_eq!(set(Role::OperatorAdmin.permissions()), expected);
}

#[test]
fn dealer_technician_reads_without_live_video_clips_or_audit() {
    assert_eq!(
        set(Role::DealerTechnician.permissions()),
        set(&[
            P::ViewSites,
            P::ViewUnits,
            P::ViewEvents,
            P::ViewAlarms,
            P::ViewIncidentReports,
            P::ViewResponseTimes,
            P::ViewFleet,
        ])
    );
}

#[test]
fn dealer_admin_is_technician_plus_users_audit_tokens() {
    let mut expected = set(Role::DealerTechnician.permissions());
    expected.extend([P::ManageUsers, P::ViewAudit, P::ManageApiTokens]);
    assert_eq!(set(Role::DealerAdmin.permissions()), expected);
}

#[test]
fn only_the_owner_may_grant_dealer_access_and_only_the_operator_admin_manage_organisations() {
    for &role in Role::all() {
        assert_eq!(
            role.has(P::GrantDealerAccess),
            role == Role::Owner,
            "{role:?}"
        );
        assert_eq!(
            role.has(P::ManageOrganisations),
            role == Role::OperatorAdmin,
            "{role:?}"
        );
    }
}

#[test]
fn every_permission_is_held_by_at_least_one_role() {
    for &p in Permission::all() {
        assert!(Role::all().iter().any(|r| r.has(p)), "{p} held by nobody");
    }
}

#[test]
fn permission_lists_have_no_duplicates() {
    for &role in Role::all() {
        assert_eq!(
            set(role.permissions()).len(),
            role.permissions().len(),
            "{role:?}"
        );
    }
}

/// The invariant that makes "never grant more than you have" a rank check.
#[test]
fn a_role_holds_every_permission_of_the_roles_it_outranks() {
    for &a in Role::all() {
        for &b in Role::all() {
            if a.outranks(b) {
                assert!(
                    set(a.permissions()).is_superset(&set(b.permissions())),
                    "{a:?} outranks {b:?} but lacks {:?}",
                    set(b.permissions())
                        .difference(&set(a.permissions()))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}

/// The table in this module's doc comment is the documentation people read:
/// keep it true.
#[test]
fn the_module_doc_table_matches_the_permission_lists() {
    let columns = [
        Role::Viewer,
        Role::Keyholder,
        Role::SiteManager,
        Role::CustomerAdmin,
        Role::Owner,
        Role::Installer,
        Role::CentreOperator,
        Role::CentreSupervisor,
        Role::OperatorAdmin,
        Role::DealerTechnician,
        Role::DealerAdmin,
    ];
    let source = include_str!("../role.rs");
    let mut seen = BTreeSet::new();
    for line in source.lines() {
        let Some(row) = line.strip_prefix("//! | ") else {
            continue;
        };
        let cells: Vec<&str> = row
            .trim_end_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let Ok(permission) = serde_json::from_str::<Permission>(&format!("\"{}\"", cells[0]))
        else {
            continue; // the header and the separator
        };
        assert_eq!(cells.len(), columns.len() + 1, "{line}");
        for (role, cell) in columns.iter().zip(&cells[1..]) {
            assert_eq!(
                role.has(permission),
                *cell == "✓",
                "table says {cell:?} for {role:?} / {permission}"
            );
        }
        seen.insert(permission);
    }
    assert_eq!(seen, set(Permission::all()), "every permission has a row");
}
