//! The signed-in person a decision is for.

use picket_proto::ids::{OrgId, UserId};
use serde::{Deserialize, Serialize};

use crate::dealer::DealerGrant;
use crate::org::OrgKind;
use crate::role::Role;
use crate::scope::SiteScope;

/// Whether a user may sign in and act at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UserStatus {
    /// May act, within role and scope.
    #[default]
    Active,
    /// Access revoked: every decision denies.
    Revoked,
}

/// The signed-in person, as the caller resolved them from their session.
///
/// The organisation's kind is not stored: it is the role's kind, and
/// decisions check that the directory agrees about `org`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Who.
    pub user: UserId,
    /// Their organisation.
    pub org: OrgId,
    /// Their role in it.
    pub role: Role,
    /// The sites they may act on.
    pub scope: SiteScope,
    /// Active or revoked.
    pub status: UserStatus,
    /// For dealer users: the dealer-access grants customers have given the
    /// dealer organisation, as currently recorded (expired ones may stay;
    /// grants to other dealers are ignored). Ignored for everyone else.
    #[serde(default)]
    pub dealer_grants: Vec<DealerGrant>,
}

impl Actor {
    /// An active actor with no dealer grants.
    pub fn new(user: UserId, org: OrgId, role: Role, scope: SiteScope) -> Self {
        Actor {
            user,
            org,
            role,
            scope,
            status: UserStatus::Active,
            dealer_grants: Vec::new(),
        }
    }

    /// The kind of the actor's organisation (their role's kind).
    pub const fn org_kind(&self) -> OrgKind {
        self.role.org_kind()
    }

    /// Whether the actor's access is revoked.
    pub const fn is_revoked(&self) -> bool {
        matches!(self.status, UserStatus::Revoked)
    }
}
