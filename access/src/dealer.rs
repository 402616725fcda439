//! Dealer access: what a dealer's users may do at a customer they serve.
//!
//! Normally a dealer looks but does not touch: the view permissions its role
//! holds, never live video, clips or the customer's audit log. A customer's
//! owner can grant the dealer organisation temporary, nearly full access
//! (2 hours directly, 24 hours when answering the dealer's emailed request)
//! and end it early. While a grant is active (`from <= now < until`) the
//! dealer's users also get the customer administrator's non-view permissions,
//! except users and API tokens (credentials), sharing and granting dealer
//! access. After it ends they are read-only again.
//!
//! A grant is made by one customer to one dealer organisation for a window
//! during which access is valid; the hub ends it early by recording an
//! earlier `until` ([`DealerGrant::ended_at`]). A grant never creates the
//! dealer relationship: the customer must still list the dealer.

use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::OrgId;
use serde::{Deserialize, Serialize};

use crate::permission::Permission;
use crate::role::Role;

/// How a customer's owner granted dealer access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantKind {
    /// Switched on by the owner themselves: 2 hours.
    Direct,
    /// The owner confirmed the dealer's emailed request: 24 hours.
    ByRequest,
}

impl GrantKind {
    /// How long the grant lasts.
    pub const fn duration(self) -> SignedDuration {
        match self {
            GrantKind::Direct => SignedDuration::from_hours(2),
            GrantKind::ByRequest => SignedDuration::from_hours(24),
        }
    }
}

/// The window `(from, until)` of a grant made at `now`; `until` is exclusive
/// and saturates at [`Timestamp::MAX`].
pub fn dealer_grant_window(kind: GrantKind, now: Timestamp) -> (Timestamp, Timestamp) {
    let until = now.checked_add(kind.duration()).unwrap_or(Timestamp::MAX);
    (now, until)
}

/// One customer's grant of temporary access to a dealer organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DealerGrant {
    /// The customer who granted it.
    pub customer: OrgId,
    /// The dealer organisation it was granted to. Decisions ignore grants to
    /// any other dealer than the actor's, whatever the caller loaded.
    pub dealer: OrgId,
    /// First instant of access.
    pub from: Timestamp,
    /// First instant without access.
    pub until: Timestamp,
}

impl DealerGrant {
    /// A grant from `customer` to `dealer` of `kind`, made at `now`.
    pub fn new(customer: OrgId, dealer: OrgId, kind: GrantKind, now: Timestamp) -> Self {
        let (from, until) = dealer_grant_window(kind, now);
        DealerGrant {
            customer,
            dealer,
            from,
            until,
        }
    }

    /// Whether the grant is in force at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.from <= now && now < self.until
    }

    /// The same grant ended by the owner at `now` (never lengthened).
    pub fn ended_at(self, now: Timestamp) -> Self {
        DealerGrant {
            until: self.until.min(now),
            ..self
        }
    }
}

/// Permissions a dealer never has at a customer, grant or not.
pub(crate) const NEVER_AT_CUSTOMER: &[Permission] = &[
    Permission::ViewLiveVideo,
    Permission::ViewClips,
    Permission::ViewAudit,
    Permission::ManageUsers,
    Permission::ManageApiTokens,
    Permission::ManageSharing,
    Permission::GrantDealerAccess,
];

/// How a dealer user may use a permission at a customer they serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DealerUse {
    /// Always (read-only access).
    Always,
    /// Only during an active grant.
    DuringGrant,
    /// Never at a customer.
    Never,
    /// The dealer's role does not hold it.
    NotInRole,
}

/// Classifies `permission` for a dealer user with `role` at a customer.
pub(crate) fn dealer_use(role: Role, permission: Permission) -> DealerUse {
    if NEVER_AT_CUSTOMER.contains(&permission) {
        DealerUse::Never
    } else if permission.is_view() {
        if role.has(permission) {
            DealerUse::Always
        } else {
            DealerUse::NotInRole
        }
    } else if Role::CustomerAdmin.has(permission) {
        DealerUse::DuringGrant
    } else {
        DealerUse::NotInRole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{org, t};

    #[test]
    fn direct_grant_lasts_two_hours_from_now() {
        let (from, until) = dealer_grant_window(GrantKind::Direct, t(1000));
        assert_eq!(from, t(1000));
        assert_eq!(until, t(1000 + 2 * 3600));
    }

    #[test]
    fn grant_by_request_lasts_twenty_four_hours_from_now() {
        let (from, until) = dealer_grant_window(GrantKind::ByRequest, t(1000));
        assert_eq!(from, t(1000));
        assert_eq!(until, t(1000 + 24 * 3600));
    }

    #[test]
    fn a_window_near_the_end_of_time_saturates_instead_of_panicking() {
        let (from, until) = dealer_grant_window(GrantKind::ByRequest, Timestamp::MAX);
        assert_eq!(from, Timestamp::MAX);
        assert_eq!(until, Timestamp::MAX);
    }

    #[test]
    fn a_grant_is_active_from_its_start_until_just_before_its_end() {
        let grant = DealerGrant::new(org(1), org(50), GrantKind::Direct, t(0));
        assert!(!grant.is_active(t(-1)));
        assert!(grant.is_active(t(0)));
        assert!(grant.is_active(t(2 * 3600 - 1)));
        assert!(!grant.is_active(t(2 * 3600)));
    }

    #[test]
    fn ending_a_grant_early_stops_it_and_never_lengthens_it() {
        let grant = DealerGrant::new(org(1), org(50), GrantKind::Direct, t(0));
        let ended = grant.ended_at(t(60));
        assert!(!ended.is_active(t(60)));
        assert!(ended.is_active(t(59)));
        assert_eq!(grant.ended_at(t(10 * 3600)), grant);
    }

    #[test]
    fn the_grant_adds_exactly_the_customer_admins_non_view_permissions_but_credentials_and_sharing()
    {
        let during: Vec<_> = Permission::all()
            .iter()
            .copied()
            .filter(|&p| dealer_use(Role::DealerTechnician, p) == DealerUse::DuringGrant)
            .collect();
        assert_eq!(
            during,
            [
                Permission::ManageSites,
                Permission::EditSchedule,
                Permission::Disarm,
                Permission::SetLevel,
                Permission::ManageContacts,
                Permission::ManageReportRecipients,
                Permission::Relocate,
            ]
        );
        for role in [Role::DealerAdmin, Role::DealerTechnician] {
            for &p in Permission::all() {
                let by_admin = Role::CustomerAdmin.has(p) && !p.is_view();
                let excluded = matches!(
                    p,
                    Permission::ManageUsers
                        | Permission::ManageApiTokens
                        | Permission::ManageSharing
                );
                assert_eq!(
                    dealer_use(role, p) == DealerUse::DuringGrant,
                    by_admin && !excluded,
                    "{role:?} {p}"
                );
            }
        }
    }

    #[test]
    fn dealers_always_have_their_roles_views_but_never_video_clips_or_audit() {
        for role in [Role::DealerAdmin, Role::DealerTechnician] {
            for &p in Permission::all() {
                if p.is_view() && !NEVER_AT_CUSTOMER.contains(&p) {
                    assert_eq!(dealer_use(role, p), DealerUse::Always, "{role:?} {p}");
                }
            }
            for p in [
                Permission::ViewLiveVideo,
                Permission::ViewClips,
                Permission::ViewAudit,
                Permission::ManageUsers,
                Permission::GrantDealerAccess,
                Permission::ManageSharing,
                Permission::ManageApiTokens,
            ] {
                assert_eq!(dealer_use(role, p), DealerUse::Never, "{role:?} {p}");
            }
            for p in [
                Permission::HandleAlarms,
                Permission::ClaimUnits,
                Permission::ManageOrganisations,
            ] {
                assert_eq!(dealer_use(role, p), DealerUse::NotInRole, "{role:?} {p}");
            }
        }
    }

    #[test]
    fn grant_serialises_with_rfc3339_instants() {
        let grant = DealerGrant::new(org(1), org(50), GrantKind::Direct, t(0));
        let json = serde_json::to_value(grant).unwrap();
        assert_eq!(json["from"], "1970-01-01T00:00:00Z");
        assert_eq!(json["until"], "1970-01-01T02:00:00Z");
    }
}
