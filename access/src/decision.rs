//! The answer to "may they?", and why not.

use jiff::Timestamp;
use picket_proto::ids::{OrgId, SiteId};
use serde::{Deserialize, Serialize};

use crate::org::OrgKind;
use crate::permission::Permission;
use crate::role::Role;
use crate::sharing::SharedFeature;
use crate::target::TargetKind;

/// Allowed, or denied with a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused.
    Deny(DenyReason),
}

impl Decision {
    /// Whether the decision allows.
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// The reason, if denied.
    pub const fn reason(&self) -> Option<&DenyReason> {
        match self {
            Decision::Allow => None,
            Decision::Deny(reason) => Some(reason),
        }
    }

    /// `Ok(())` when allowed, for `?`.
    pub fn into_result(self) -> Result<(), DenyReason> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(reason),
        }
    }
}

impl From<Result<(), DenyReason>> for Decision {
    fn from(result: Result<(), DenyReason>) -> Self {
        match result {
            Ok(()) => Decision::Allow,
            Err(reason) => Decision::Deny(reason),
        }
    }
}

/// Why a decision denied. `Display` says it in words for the person who was
/// refused (and for the audit log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DenyReason {
    /// The actor's access is revoked.
    #[error("your access has been revoked")]
    Revoked,
    /// The actor's role is not a role of their organisation's kind, or their
    /// organisation is unknown: the session is stale or the data is wrong.
    #[error("your account is inconsistent: {role} is not a role of your organisation")]
    InconsistentActor {
        /// The actor's role.
        role: Role,
        /// The actor's organisation.
        org: OrgId,
    },
    /// No such organisation.
    #[error("organisation {org} does not exist")]
    UnknownOrganisation {
        /// The organisation asked about.
        org: OrgId,
    },
    /// No such site.
    #[error("site {site} does not exist")]
    UnknownSite {
        /// The site asked about.
        site: SiteId,
    },
    /// The site's tree is inconsistent (unknown parent, a cycle, a parent of
    /// another customer, too deep); denied rather than guessed.
    #[error("site {site}'s place in the site tree is inconsistent")]
    BrokenSiteTree {
        /// The site asked about.
        site: SiteId,
    },
    /// The target belongs to another organisation.
    #[error("that belongs to another organisation")]
    NotYourOrganisation,
    /// A dealer user asked about a customer that does not list their dealer.
    #[error("that customer is not served by your organisation")]
    NotYourCustomer,
    /// The site is outside the actor's site scope.
    #[error("site {site} is outside your sites")]
    OutsideYourSites {
        /// The site asked about.
        site: SiteId,
    },
    /// An organisation-wide target needs access to all sites.
    #[error("{permission} for a whole organisation needs access to all of its sites")]
    NeedsAllSites {
        /// The permission asked for.
        permission: Permission,
    },
    /// The actor's role does not hold the permission.
    #[error("your role ({role}) does not include {permission}")]
    RoleLacksPermission {
        /// The actor's role.
        role: Role,
        /// The permission asked for.
        permission: Permission,
    },
    /// The permission cannot be checked against this kind of target.
    #[error("{permission} does not apply to {target}")]
    NotApplicable {
        /// The permission asked for.
        permission: Permission,
        /// The kind of target given.
        target: TargetKind,
    },
    /// Dealer access never includes this (live video, clips, audit,
    /// credentials, sharing, granting dealer access).
    #[error("dealer access never includes {permission}")]
    DealerAccessExcludes {
        /// The permission asked for.
        permission: Permission,
    },
    /// The dealer needs an active grant from the customer and has none.
    #[error("{permission} needs dealer access, which the customer's owner has not granted")]
    DealerAccessNotGranted {
        /// The permission asked for.
        permission: Permission,
    },
    /// The dealer's grant from the customer has ended.
    #[error("{permission} needs dealer access, which ended at {until}")]
    DealerAccessExpired {
        /// The permission asked for.
        permission: Permission,
        /// When the latest grant ended.
        until: Timestamp,
    },
    /// The customer does not share this feature with its users.
    #[error("this customer's account does not share {feature}")]
    SharingOff {
        /// The feature switched off.
        feature: SharedFeature,
    },
    /// The user to see or manage has a higher role than the actor.
    #[error("you cannot manage a user whose role ({role}) is above yours")]
    UserOutranksYou {
        /// The user's role.
        role: Role,
    },
    /// The user to see or manage has access to sites the actor does not.
    #[error("you cannot manage a user with access to sites outside yours")]
    UserOutsideYourSites,
    /// The role to assign is above the actor's.
    #[error("you cannot give a role ({role}) above your own")]
    CannotGrantAboveYourRole {
        /// The role asked for.
        role: Role,
    },
    /// The sites to assign include some outside the actor's.
    #[error("you cannot give access to sites outside yours")]
    CannotGrantBeyondYourSites,
    /// A site to assign is not one the user's organisation owns (for a
    /// dealer: one of its customers'; for the operator: any customer's).
    #[error("site {site} is not a site the user's organisation owns or serves")]
    SiteOutsideOrganisation {
        /// The site.
        site: SiteId,
    },
    /// The role is of another kind of organisation than the user's.
    #[error("{role} is not a role of a {kind} organisation")]
    RoleNotOfOrganisation {
        /// The role asked for.
        role: Role,
        /// The kind of the user's organisation.
        kind: OrgKind,
    },
    /// An organisation's top role always covers all of its sites.
    #[error("{role} always has access to all sites")]
    TopRoleNeedsAllSites {
        /// The top role.
        role: Role,
    },
    /// Users cannot change their own role or sites.
    #[error("you cannot change your own role or sites")]
    CannotChangeOwnAccess,
    /// Users cannot revoke themselves.
    #[error("you cannot revoke your own access")]
    CannotRevokeYourself,
    /// Across organisations only an operator administrator manages users,
    /// and only the organisation's top user (onboarding).
    #[error(
        "another organisation's users are its own to manage; an operator administrator may only manage its {top_role}"
    )]
    OnlyTopUserAcrossOrganisations {
        /// The other organisation's top role.
        top_role: Role,
    },
}

impl DenyReason {
    /// Whether the hub should answer as if the target did not exist (404
    /// rather than 403), so that ids of other organisations' and other
    /// sites' things cannot be probed.
    pub const fn hides_target(&self) -> bool {
        matches!(
            self,
            DenyReason::UnknownOrganisation { .. }
                | DenyReason::UnknownSite { .. }
                | DenyReason::NotYourOrganisation
                | DenyReason::NotYourCustomer
                | DenyReason::OutsideYourSites { .. }
                | DenyReason::UserOutsideYourSites
                | DenyReason::UserOutranksYou { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_result_and_from_result_round_trip() {
        assert_eq!(Decision::Allow.into_result(), Ok(()));
        assert_eq!(
            Decision::Deny(DenyReason::Revoked).into_result(),
            Err(DenyReason::Revoked)
        );
        assert_eq!(Decision::from(Ok(())), Decision::Allow);
        assert!(!Decision::from(Err(DenyReason::Revoked)).is_allowed());
        assert_eq!(
            Decision::Deny(DenyReason::Revoked).reason(),
            Some(&DenyReason::Revoked)
        );
        assert_eq!(Decision::Allow.reason(), None);
    }

    #[test]
    fn display_says_why_in_words() {
        let r = DenyReason::RoleLacksPermission {
            role: Role::Viewer,
            permission: Permission::Disarm,
        };
        assert_eq!(r.to_string(), "your role (Viewer) does not include disarm");
        let r = DenyReason::DealerAccessExcludes {
            permission: Permission::ViewLiveVideo,
        };
        assert_eq!(
            r.to_string(),
            "dealer access never includes view_live_video"
        );
        let r = DenyReason::SharingOff {
            feature: SharedFeature::Clips,
        };
        assert_eq!(
            r.to_string(),
            "this customer's account does not share clips"
        );
    }

    #[test]
    fn serialises_with_a_reason_tag() {
        let r = DenyReason::UserOutranksYou { role: Role::Owner };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"reason": "user_outranks_you", "role": "owner"})
        );
        assert_eq!(serde_json::from_value::<DenyReason>(json).unwrap(), r);
        assert_eq!(
            serde_json::to_value(DenyReason::Revoked).unwrap(),
            serde_json::json!({"reason": "revoked"})
        );
    }

    #[test]
    fn other_organisations_and_sites_are_hidden_but_missing_permissions_are_not() {
        assert!(DenyReason::NotYourOrganisation.hides_target());
        assert!(DenyReason::NotYourCustomer.hides_target());
        assert!(
            DenyReason::OutsideYourSites {
                site: crate::testkit::site(1)
            }
            .hides_target()
        );
        assert!(!DenyReason::Revoked.hides_target());
        assert!(
            !DenyReason::RoleLacksPermission {
                role: Role::Viewer,
                permission: Permission::Disarm
            }
            .hides_target()
        );
    }
}
