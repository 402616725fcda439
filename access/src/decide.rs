//! `decide`: may this actor use this permission on this target, now?
//!
//! The checks run in this order, and the first failure is the reason:
//!
//! 1. **The actor**: revoked actors get nothing; the directory must agree
//!    that the actor's organisation is of their role's kind.
//! 2. **The target** must be one the permission applies to, and must exist.
//! 3. **Reach**, by the actor's kind of organisation:
//!    - *customer* users act only inside their own organisation;
//!    - *operator* users act at every customer (the operator runs the
//!      service), on the dealers' organisations and on their own;
//!    - *dealer* users act on their own organisation and at the customers
//!      that list their dealer organisation.
//! 4. **Permission**: the role must hold it. At a customer, dealer users are
//!    further limited ([`crate::dealer`]): read-only, plus the grantable
//!    permissions during an active grant, never the excluded ones.
//! 5. **Sites**: a site must be in the actor's scope (listed, or a sub-site
//!    of a listed site). An organisation target stands for *all* of the
//!    organisation's sites and its organisation-wide settings, so it needs
//!    [`SiteScope::All`] — for every permission, views included: an
//!    organisation-wide view (all alarms, response-time statistics, the
//!    audit log) would show sites outside a restriction. Restricted users
//!    list things by checking each site. The one exception is
//!    [`Permission::ManageApiTokens`], which concerns only the actor's own
//!    tokens, and a token never carries more than its owner has.
//! 6. **Sharing**: for customer and dealer users, the customer must share
//!    the feature (live video, clips, incident reports, response times).
//!    Operator users are not limited by sharing.
//!
//! Two rules about other organisations' users:
//! - Managing users of another organisation is only for an operator
//!   administrator, and only that organisation's top user (a customer's
//!   owner, a dealer's administrator): onboarding a new organisation and
//!   recovering a lost owner. Everything below the top user is the
//!   organisation's own business. See [`crate::users`].
//! - API tokens are personal: [`Permission::ManageApiTokens`] applies only
//!   to the actor's own organisation.

use jiff::Timestamp;
use picket_proto::ids::{OrgId, SiteId};

use crate::actor::Actor;
use crate::dealer::{DealerUse, dealer_use};
use crate::decision::{Decision, DenyReason};
use crate::directory::Directory;
use crate::org::OrgKind;
use crate::permission::Permission;
use crate::role::Role;
use crate::scope::SiteScope;
use crate::target::Target;
use crate::users::see_user;

/// Decides whether `actor` may use `permission` on `target` at `now`.
pub fn decide(
    actor: &Actor,
    permission: Permission,
    target: &Target,
    directory: &(impl Directory + ?Sized),
    now: Timestamp,
) -> Decision {
    check(actor, permission, target, directory, now).into()
}

fn check(
    actor: &Actor,
    permission: Permission,
    target: &Target,
    directory: &(impl Directory + ?Sized),
    now: Timestamp,
) -> Result<(), DenyReason> {
    check_actor(actor, directory)?;
    if !permission.applies_to(target.kind()) {
        return Err(DenyReason::NotApplicable {
            permission,
            target: target.kind(),
        });
    }
    match target {
        Target::Organisation(org) => organisation(actor, permission, *org, directory, now),
        Target::Site(site) => site_check(actor, permission, *site, directory, now),
        Target::User { org, role, scope } => see_user(actor, *org, *role, scope, directory),
    }
}

/// Step 1: the actor is active and consistent with the directory.
pub(crate) fn check_actor(
    actor: &Actor,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    if actor.is_revoked() {
        return Err(DenyReason::Revoked);
    }
    if directory.org_kind(actor.org) != Some(actor.org_kind()) {
        return Err(DenyReason::InconsistentActor {
            role: actor.role,
            org: actor.org,
        });
    }
    Ok(())
}

fn organisation(
    actor: &Actor,
    permission: Permission,
    org: OrgId,
    directory: &(impl Directory + ?Sized),
    now: Timestamp,
) -> Result<(), DenyReason> {
    let kind = directory
        .org_kind(org)
        .ok_or(DenyReason::UnknownOrganisation { org })?;
    if org == actor.org {
        role_holds(actor, permission)?;
    } else {
        if permission == Permission::ManageApiTokens {
            return Err(DenyReason::NotYourOrganisation);
        }
        match (actor.org_kind(), kind) {
            (_, OrgKind::Customer) => reach_customer(actor, permission, org, directory, now)?,
            (OrgKind::Operator, OrgKind::Dealer) => role_holds(actor, permission)?,
            _ => return Err(DenyReason::NotYourOrganisation),
        }
        if permission == Permission::ManageUsers && actor.role != Role::OperatorAdmin {
            return Err(DenyReason::OnlyTopUserAcrossOrganisations {
                top_role: kind.top_role(),
            });
        }
    }
    if permission != Permission::ManageApiTokens && !actor.scope.is_all() {
        return Err(DenyReason::NeedsAllSites { permission });
    }
    if kind == OrgKind::Customer {
        shared(actor, permission, org, directory)?;
    }
    Ok(())
}

fn site_check(
    actor: &Actor,
    permission: Permission,
    site: SiteId,
    directory: &(impl Directory + ?Sized),
    now: Timestamp,
) -> Result<(), DenyReason> {
    let entry = directory
        .site(site)
        .ok_or(DenyReason::UnknownSite { site })?;
    if directory.org_kind(entry.owner) != Some(OrgKind::Customer) {
        return Err(DenyReason::BrokenSiteTree { site });
    }
    reach_customer(actor, permission, entry.owner, directory, now)?;
    in_scope(&actor.scope, site, directory)?;
    shared(actor, permission, entry.owner, directory)
}

/// Steps 3 and 4 at a customer organisation.
fn reach_customer(
    actor: &Actor,
    permission: Permission,
    customer: OrgId,
    directory: &(impl Directory + ?Sized),
    now: Timestamp,
) -> Result<(), DenyReason> {
    match actor.org_kind() {
        OrgKind::Customer if customer == actor.org => role_holds(actor, permission),
        OrgKind::Customer => Err(DenyReason::NotYourOrganisation),
        OrgKind::Operator => role_holds(actor, permission),
        OrgKind::Dealer if directory.is_dealer_of(actor.org, customer) => {
            dealer_at_customer(actor, permission, customer, now)
        }
        OrgKind::Dealer => Err(DenyReason::NotYourCustomer),
    }
}

fn role_holds(actor: &Actor, permission: Permission) -> Result<(), DenyReason> {
    if actor.role.has(permission) {
        Ok(())
    } else {
        Err(DenyReason::RoleLacksPermission {
            role: actor.role,
            permission,
        })
    }
}

fn dealer_at_customer(
    actor: &Actor,
    permission: Permission,
    customer: OrgId,
    now: Timestamp,
) -> Result<(), DenyReason> {
    match dealer_use(actor.role, permission) {
        DealerUse::Always => Ok(()),
        DealerUse::Never => Err(DenyReason::DealerAccessExcludes { permission }),
        DealerUse::NotInRole => role_holds(actor, permission),
        DealerUse::DuringGrant => {
            let grants = actor
                .dealer_grants
                .iter()
                .filter(|g| g.customer == customer && g.dealer == actor.org);
            let mut ended: Option<Timestamp> = None;
            for grant in grants {
                if grant.is_active(now) {
                    return Ok(());
                }
                if grant.until <= now {
                    ended = ended.max(Some(grant.until));
                }
            }
            Err(match ended {
                Some(until) => DenyReason::DealerAccessExpired { permission, until },
                None => DenyReason::DealerAccessNotGranted { permission },
            })
        }
    }
}

/// Step 5 for a site.
fn in_scope(
    scope: &SiteScope,
    site: SiteId,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    match scope.covers(site, directory) {
        Ok(true) => Ok(()),
        Ok(false) => Err(DenyReason::OutsideYourSites { site }),
        Err(_) => Err(DenyReason::BrokenSiteTree { site }),
    }
}

/// Step 6.
fn shared(
    actor: &Actor,
    permission: Permission,
    customer: OrgId,
    directory: &(impl Directory + ?Sized),
) -> Result<(), DenyReason> {
    if actor.org_kind() == OrgKind::Operator {
        return Ok(());
    }
    let Some(feature) = permission.shared_feature() else {
        return Ok(());
    };
    match directory.sharing(customer) {
        None => Err(DenyReason::UnknownOrganisation { org: customer }),
        Some(sharing) if !sharing.shares(feature) => Err(DenyReason::SharingOff { feature }),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
