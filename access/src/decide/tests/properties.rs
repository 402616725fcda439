//! Property: `decide` never allows outside reach, scope or dealer limits.

use proptest::prelude::*;

use super::*;

fn any_role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::all())
}

fn any_permission() -> impl Strategy<Value = Permission> {
    proptest::sample::select(Permission::all())
}

/// Sites 1–4 and 10–11 of the world, plus an unknown one.
fn any_site() -> impl Strategy<Value = u128> {
    proptest::sample::select(&[1u128, 2, 3, 4, 10, 11, 99][..])
}

fn any_scope() -> impl Strategy<Value = SiteScope> {
    prop_oneof![
        Just(SiteScope::All),
        proptest::collection::btree_set(any_site(), 0..4)
            .prop_map(|s| only(&s.into_iter().collect::<Vec<_>>())),
    ]
}

/// Whether site `n` of the world is covered by `scope`, computed from the
/// fixture's parent links without the crate's code.
fn oracle_covers(scope: &SiteScope, n: u128) -> bool {
    let parent = |n: u128| match n {
        2 => Some(1),
        3 => Some(2),
        11 => Some(10),
        _ => None,
    };
    match scope {
        SiteScope::All => true,
        SiteScope::Only(listed) => {
            let mut at = Some(n);
            while let Some(s) = at {
                if listed.contains(&site(s)) {
                    return true;
                }
                at = parent(s);
            }
            false
        }
    }
}

fn owner_of(n: u128) -> u128 {
    if n >= 10 { CUSTOMER_B } else { CUSTOMER_A }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn decide_never_allows_outside_reach_scope_or_dealer_limits(
        role in any_role(),
        scope in any_scope(),
        revoked in any::<bool>(),
        permission in any_permission(),
        target_site in any_site(),
        grant in proptest::option::of((-100i64..100, 0i64..200, any::<bool>(), any::<bool>())),
        now in -100i64..300,
    ) {
        let org_n = match role.org_kind() {
            OrgKind::Customer => CUSTOMER_A,
            OrgKind::Operator => OPERATOR,
            OrgKind::Dealer => DEALER_X,
        };
        let mut user = actor(org_n, role, scope.clone());
        if revoked {
            user.status = UserStatus::Revoked;
        }
        // Grants are sometimes from the other customer or to the other dealer.
        if let Some((from, length, from_b, to_y)) = grant {
            user.dealer_grants = vec![DealerGrant {
                customer: org(if from_b { CUSTOMER_B } else { CUSTOMER_A }),
                dealer: org(if to_y { DEALER_Y } else { DEALER_X }),
                from: t(from),
                until: t(from + length),
            }];
        }
        let decision = decide(&user, permission, &on_site(target_site), &world(), t(now));
        if decision.is_allowed() {
            prop_assert!(!revoked);
            prop_assert!(target_site != 99);
            prop_assert!(oracle_covers(&scope, target_site));
            let owner = owner_of(target_site);
            match role.org_kind() {
                OrgKind::Customer => {
                    prop_assert_eq!(owner, CUSTOMER_A);
                    prop_assert!(role.has(permission));
                }
                OrgKind::Operator => prop_assert!(role.has(permission)),
                OrgKind::Dealer => {
                    prop_assert_eq!(owner, CUSTOMER_A);
                    prop_assert!(!NEVER_AT_CUSTOMER.contains(&permission));
                    if !permission.is_view() {
                        let (from, length, from_b, to_y) = grant.unwrap();
                        prop_assert!(from <= now && now < from + length);
                        prop_assert!(!from_b && !to_y);
                    }
                }
            }
        }
    }
}
