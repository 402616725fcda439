//! Kinds of organisation.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// What an organisation is to the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrgKind {
    /// The security company running the hub and the monitoring centre.
    /// There is one.
    Operator,
    /// A customer: owns sites.
    Customer,
    /// A dealer (partner) serving some customers.
    Dealer,
}

impl OrgKind {
    /// Every kind, for listing.
    pub const fn all() -> &'static [OrgKind] {
        &[OrgKind::Operator, OrgKind::Customer, OrgKind::Dealer]
    }

    /// The roles of this kind, highest first.
    pub const fn roles(self) -> &'static [Role] {
        match self {
            OrgKind::Operator => &[
                Role::OperatorAdmin,
                Role::CentreSupervisor,
                Role::CentreOperator,
                Role::Installer,
            ],
            OrgKind::Customer => &[
                Role::Owner,
                Role::CustomerAdmin,
                Role::SiteManager,
                Role::Keyholder,
                Role::Viewer,
            ],
            OrgKind::Dealer => &[Role::DealerAdmin, Role::DealerTechnician],
        }
    }

    /// The highest role of this kind: the organisation's top user.
    pub const fn top_role(self) -> Role {
        match self {
            OrgKind::Operator => Role::OperatorAdmin,
            OrgKind::Customer => Role::Owner,
            OrgKind::Dealer => Role::DealerAdmin,
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrgKind::Operator => "operator",
            OrgKind::Customer => "customer",
            OrgKind::Dealer => "dealer",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_a_kind_are_that_kind_and_listed_highest_first() {
        for &kind in OrgKind::all() {
            let roles = kind.roles();
            assert!(roles.iter().all(|r| r.org_kind() == kind), "{kind}");
            for pair in roles.windows(2) {
                assert!(
                    pair[0].outranks(pair[1]),
                    "{:?} above {:?}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn top_role_is_the_first_listed_and_outranks_every_other_role_of_its_kind() {
        for &kind in OrgKind::all() {
            let top = kind.top_role();
            assert_eq!(kind.roles().first(), Some(&top));
            for &other in &kind.roles()[1..] {
                assert!(top.outranks(other));
            }
        }
    }

    #[test]
    fn every_role_belongs_to_exactly_one_kind_list() {
        for &role in Role::all() {
            let lists = OrgKind::all()
                .iter()
                .filter(|k| k.roles().contains(&role))
                .count();
            assert_eq!(lists, 1, "{role:?}");
        }
    }

    #[test]
    fn org_kind_serialises_snake_case() {
        assert_eq!(
            serde_json::to_string(&OrgKind::Customer).unwrap(),
            "\"customer\""
        );
        assert_eq!(
            serde_json::from_str::<OrgKind>("\"dealer\"").unwrap(),
            OrgKind::Dealer
        );
    }
}
