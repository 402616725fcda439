//! Seeing and managing other users.
//!
//! The rule customers know from the portal: *you can only see and manage
//! users for the sites you have access to, at your role level and below, and
//! you can never give more than you have.* In detail, managing needs
//! [`Permission::ManageUsers`] and:
//!
//! - **Same organisation.** A user of another organisation is out of reach,
//!   with one exception: an operator administrator may manage the *top user*
//!   of a customer (its owner) or a dealer (its administrator), to onboard
//!   the organisation and to recover a lost owner. This is the one place
//!   someone gives a role with a permission they lack (an owner can grant
//!   dealer access; the operator cannot): someone has to create the first
//!   owner. Other operator roles never manage other organisations' users.
//! - **Role level and below.** An existing user's role must not outrank the
//!   actor's, nor may the new role; equal is allowed, so an owner may
//!   appoint another owner and only an owner can. A customer may have
//!   several owners (two partners, a family); the hub must keep at least
//!   one active owner per customer, which needs a count this crate does not
//!   have. Roles of another kind of organisation are refused.
//! - **Sites.** An existing user's scope and the new scope must be within
//!   the actor's ([`SiteScope::is_within`]); listed sites must be the
//!   organisation's own (for a dealer: its customers'; for the operator:
//!   any customer's). An organisation's top role always gets all sites: it
//!   holds organisation-wide powers.
//! - **Not yourself.** Nobody changes their own role or sites or revokes
//!   themselves: another user at or above their level must. Editing
//!   yourself with role and sites unchanged (a name, a phone number) passes.
//!
//! Listing users is [`may_see_user`] per user. Invites, edits and revokes
//! are [`may_assign`] and [`may_revoke`].

use picket_proto::ids::{OrgId, SiteId, UserId};

use crate::actor::Actor;
use crate::decide::check_actor;
use crate::decision::{Decision, DenyReason};
use crate::directory::Directory;
use crate::org::OrgKind;
use crate::permission::Permission;
use crate::role::Role;
use crate::scope::SiteScope;

/// A user who exists, as the caller found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExistingUser<'a> {
    /// Who.
    pub id: UserId,
    /// Their current role.
    pub role: Role,
    /// Their current sites.
    pub scope: &'a SiteScope,
}

/// Whether `actor` may see (and so manage) a user of `org` with `role` and
/// `scope` in the user list.
pub fn may_see_user(
    actor: &Actor,
    org: OrgId,
    role: Role,
    scope: &SiteScope,
    directory: &(impl Directory + ?Sized),
) -> Decision {
    see_user(actor, org, role, scope, directory).into()
}

/// Whether `actor` may give a user of `org` the role `new_role` and the sites
/// `new_scope`: an invite when `current` is `None`, an edit otherwise.
pub fn may_assign(
    actor: &Actor,
    org: OrgId,
    current: Option<ExistingUser<'_>>,
    new_role: Role,
    new_scope: &SiteScope,
    directory: &(impl Directory + ?Sized),
) -> Decision {
    assign(actor, org, current, new_role, new_scope, directory).into()
}

/// Whether `actor` may revoke `user` of `org`.
pub fn may_revoke(
    actor: &Actor,
    org: OrgId,
    user: ExistingUser<'_>,
    directory: &(impl Directory + ?Sized),
) -> Decision {
    revoke(actor, org, user, directory).into()
}

/// How the actor reaches the user's organisation.
#[derive(Clone, Copy)]
enum Reach {
    /// Their own organisation: the rank rules apply.
    Own,
    /// An operator administrator onboarding another organisation's top user.
    Onboarding { top: Role },
}

pub(crate) fn see_user(
    actor: &Actor,
    org: OrgId,
    role: Role,
    scope: &SiteScope,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    let (kind, reach) = reach(actor, org, directory)?;
    existing(actor, kind, reach, role, scope, directory)
}

fn assign(
    actor: &Actor,
    org: OrgId,
    current: Option<ExistingUser<'_>>,
    new_role: Role,
    new_scope: &SiteScope,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    let (kind, reach) = reach(actor, org, directory)?;
    if let Some(user) = current {
        if user.id == actor.user && (user.role != new_role || user.scope != new_scope) {
            return Err(DenyReason::CannotChangeOwnAccess);
        }
        existing(actor, kind, reach, user.role, user.scope, directory)?;
    }
    assignable(actor, org, kind, reach, new_role, new_scope, directory)
}

fn revoke(
    actor: &Actor,
    org: OrgId,
    user: ExistingUser<'_>,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    let (kind, reach) = reach(actor, org, directory)?;
    if user.id == actor.user {
        return Err(DenyReason::CannotRevokeYourself);
    }
    existing(actor, kind, reach, user.role, user.scope, directory)
}

/// The actor may manage users of `org` at all.
fn reach(
    actor: &Actor,
    org: OrgId,
    directory: &(impl Directory + ?Sized),
) -> Result<(OrgKind, Reach), DenyReason> {
    check_actor(actor, directory)?;
    if !actor.role.has(Permission::ManageUsers) {
        return Err(DenyReason::RoleLacksPermission {
            role: actor.role,
            permission: Permission::ManageUsers,
        });
    }
    let kind = directory
        .org_kind(org)
        .ok_or(DenyReason::UnknownOrganisation { org })?;
    if org == actor.org {
        return Ok((kind, Reach::Own));
    }
    match (actor.org_kind(), kind) {
        (OrgKind::Operator, OrgKind::Customer | OrgKind::Dealer) => {
            let top = kind.top_role();
            if actor.role == Role::OperatorAdmin {
                Ok((kind, Reach::Onboarding { top }))
            } else {
                Err(DenyReason::OnlyTopUserAcrossOrganisations { top_role: top })
            }
        }
        _ => Err(DenyReason::NotYourOrganisation),
    }
}

/// The actor may see a user who has `role` and `scope`.
fn existing(
    actor: &Actor,
    kind: OrgKind,
    reach: Reach,
    role: Role,
    scope: &SiteScope,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    if role.org_kind() != kind {
        return Err(DenyReason::RoleNotOfOrganisation { role, kind });
    }
    match reach {
        Reach::Own if role.outranks(actor.role) => {
            return Err(DenyReason::UserOutranksYou { role });
        }
        Reach::Onboarding { top } if role != top => {
            return Err(DenyReason::OnlyTopUserAcrossOrganisations { top_role: top });
        }
        Reach::Own | Reach::Onboarding { .. } => {}
    }
    if !scope.is_within(&actor.scope, directory) {
        return Err(DenyReason::UserOutsideYourSites);
    }
    Ok(())
}

/// The actor may give `role` and `scope` to a user of `org`.
fn assignable(
    actor: &Actor,
    org: OrgId,
    kind: OrgKind,
    reach: Reach,
    role: Role,
    scope: &SiteScope,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    if role.org_kind() != kind {
        return Err(DenyReason::RoleNotOfOrganisation { role, kind });
    }
    match reach {
        Reach::Own if role.outranks(actor.role) => {
            return Err(DenyReason::CannotGrantAboveYourRole { role });
        }
        Reach::Onboarding { top } if role != top => {
            return Err(DenyReason::OnlyTopUserAcrossOrganisations { top_role: top });
        }
        Reach::Own | Reach::Onboarding { .. } => {}
    }
    if role == kind.top_role() && !scope.is_all() {
        return Err(DenyReason::TopRoleNeedsAllSites { role });
    }
    if let SiteScope::Only(sites) = scope {
        for &site in sites {
            if !org_reaches_site(org, kind, site, directory) {
                return Err(DenyReason::SiteOutsideOrganisation { site });
            }
        }
    }
    if !scope.is_within(&actor.scope, directory) {
        return Err(DenyReason::CannotGrantBeyondYourSites);
    }
    Ok(())
}

/// Whether a user of `org` could ever act on `site`: a customer's own sites,
/// a dealer's customers' sites, any customer's site for the operator.
fn org_reaches_site(
    org: OrgId,
    kind: OrgKind,
    site: SiteId,
    directory: &(impl Directory + ?Sized),
) -> bool {
    let Some(entry) = directory.site(site) else {
        return false;
    };
    match kind {
        OrgKind::Customer => entry.owner == org,
        OrgKind::Dealer => directory.is_dealer_of(org, entry.owner),
        OrgKind::Operator => directory.org_kind(entry.owner) == Some(OrgKind::Customer),
    }
}

#[cfg(test)]
mod tests;
