//! Property: never more sites or a higher role than the actor has.

use proptest::prelude::*;

use super::*;

fn any_role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::all())
}

/// Sites of the world, plus an unknown one.
fn any_site() -> impl Strategy<Value = u128> {
    proptest::sample::select(&[1u128, 2, 3, 4, 10, 11, 99][..])
}

fn any_scope() -> impl Strategy<Value = SiteScope> {
    prop_oneof![
        1 => Just(SiteScope::All),
        3 => proptest::collection::btree_set(any_site(), 0..4)
            .prop_map(|s| only(&s.into_iter().collect::<Vec<_>>())),
    ]
}

fn any_org() -> impl Strategy<Value = u128> {
    proptest::sample::select(&[OPERATOR, CUSTOMER_A, CUSTOMER_B, DEALER_X, DEALER_Y][..])
}

/// `inner ⊆ outer` over the world's fixed tree, without the crate's code.
fn oracle_within(inner: &SiteScope, outer: &SiteScope) -> bool {
    let parent = |n: u128| match n {
        2 => Some(1),
        3 => Some(2),
        11 => Some(10),
        _ => None,
    };
    let known = [1u128, 2, 3, 4, 10, 11];
    match (inner, outer) {
        (_, SiteScope::All) => true,
        (SiteScope::All, SiteScope::Only(_)) => false,
        (SiteScope::Only(a), SiteScope::Only(b)) => a.iter().all(|s| {
            known.iter().any(|&n| {
                if site(n) != *s {
                    return false;
                }
                let mut at = Some(n);
                while let Some(x) = at {
                    if b.contains(&site(x)) {
                        return true;
                    }
                    at = parent(x);
                }
                false
            })
        }),
    }
}

/// Roles that can manage users, three times as likely as any role.
fn any_actor_role() -> impl Strategy<Value = Role> {
    let managers: Vec<Role> = Role::all()
        .iter()
        .copied()
        .filter(|r| r.has(Permission::ManageUsers))
        .collect();
    prop_oneof![3 => proptest::sample::select(managers), 1 => any_role()]
}

/// A role of `kind` half the time, any role otherwise.
fn role_near(kind: OrgKind, pick: (bool, proptest::sample::Index, Role)) -> Role {
    let (same_kind, index, any) = pick;
    if same_kind {
        *index.get(kind.roles())
    } else {
        any
    }
}

fn any_pick() -> impl Strategy<Value = (bool, proptest::sample::Index, Role)> {
    (any::<bool>(), any::<proptest::sample::Index>(), any_role())
}

fn home_org(role: Role) -> u128 {
    match role.org_kind() {
        OrgKind::Customer => CUSTOMER_A,
        OrgKind::Operator => OPERATOR,
        OrgKind::Dealer => DEALER_X,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn may_assign_never_gives_more_sites_or_a_higher_role_than_the_actor_has(
        actor_role in any_actor_role(),
        actor_scope in any_scope(),
        other_org in proptest::option::weighted(0.25, any_org()),
        current in proptest::option::of((any_pick(), any_scope(), any::<bool>())),
        new_pick in any_pick(),
        new_scope in any_scope(),
    ) {
        let actor_org = home_org(actor_role);
        let target_org = other_org.unwrap_or(actor_org);
        let kind = world().org_kind(org(target_org)).unwrap();
        let current = current.map(|(pick, scope, is_me)| (role_near(kind, pick), scope, is_me));
        let new_role = role_near(kind, new_pick);
        let me = actor(actor_org, actor_role, actor_scope.clone());
        let existing = current.as_ref().map(|(role, scope, is_me)| ExistingUser {
            id: if *is_me { user(ME) } else { user(2) },
            role: *role,
            scope,
        });
        let decision = may_assign(&me, org(target_org), existing, new_role, &new_scope, &world());
        if decision.is_allowed() {
            prop_assert!(actor_role.has(Permission::ManageUsers));
            prop_assert!(!new_role.outranks(actor_role));
            prop_assert_eq!(new_role.org_kind(), kind);
            prop_assert!(
                oracle_within(&new_scope, &actor_scope),
                "new scope {:?} not within {:?}", new_scope, actor_scope
            );
            if let Some((role, scope, is_me)) = &current {
                prop_assert!(!role.outranks(actor_role));
                prop_assert!(oracle_within(scope, &actor_scope));
                if *is_me {
                    prop_assert_eq!(*role, new_role);
                    prop_assert_eq!(scope, &new_scope);
                }
            }
            if target_org == actor_org {
                prop_assert!(actor_role.outranks_or_equals(new_role));
            } else {
                // Only onboarding crosses organisations.
                prop_assert_eq!(actor_role, Role::OperatorAdmin);
                prop_assert_eq!(new_role, kind.top_role());
            }
        }
    }

    #[test]
    fn may_revoke_never_reaches_a_user_above_or_outside_the_actor(
        actor_role in any_actor_role(),
        actor_scope in any_scope(),
        pick in any_pick(),
        scope in any_scope(),
        is_me in any::<bool>(),
    ) {
        let actor_org = home_org(actor_role);
        let role = role_near(actor_role.org_kind(), pick);
        let me = actor(actor_org, actor_role, actor_scope.clone());
        let target = ExistingUser { id: if is_me { user(ME) } else { user(2) }, role, scope: &scope };
        if may_revoke(&me, org(actor_org), target, &world()).is_allowed() {
            prop_assert!(!is_me);
            prop_assert!(actor_role.outranks_or_equals(role));
            prop_assert!(oracle_within(&scope, &actor_scope));
        }
    }
}
