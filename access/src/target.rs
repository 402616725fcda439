//! What a decision is about.

use std::fmt;

use picket_proto::ids::{OrgId, SiteId};
use serde::{Deserialize, Serialize};

use crate::role::Role;
use crate::scope::SiteScope;

/// The thing an actor wants to act on.
///
/// Units, cameras, events, clips and everything else that lives at a site are
/// checked as their [`Target::Site`]: the caller resolves them first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// An organisation as a whole: all of its sites and its organisation-wide
    /// settings. To create an organisation, check
    /// [`Permission::ManageOrganisations`](crate::Permission::ManageOrganisations)
    /// against the operator's own organisation.
    Organisation(OrgId),
    /// One site (and what is at it), including creating a sub-site under it.
    Site(SiteId),
    /// Another user, as they are now. For changes use
    /// [`may_assign`](crate::may_assign) and [`may_revoke`](crate::may_revoke).
    User {
        /// The user's organisation.
        org: OrgId,
        /// The user's current role.
        role: Role,
        /// The user's current sites.
        scope: SiteScope,
    },
}

impl Target {
    /// Which kind of target this is.
    pub const fn kind(&self) -> TargetKind {
        match self {
            Target::Organisation(_) => TargetKind::Organisation,
            Target::Site(_) => TargetKind::Site,
            Target::User { .. } => TargetKind::User,
        }
    }
}

/// The kinds of [`Target`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TargetKind {
    /// [`Target::Organisation`].
    Organisation,
    /// [`Target::Site`].
    Site,
    /// [`Target::User`].
    User,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetKind::Organisation => "an organisation",
            TargetKind::Site => "a site",
            TargetKind::User => "a user",
        })
    }
}
