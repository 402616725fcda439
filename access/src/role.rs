//! Roles: ordered within an organisation kind, each with a fixed set of
//! permissions.
//!
//! | permission | viewer | keyholder | site manager | customer admin | owner | installer | centre operator | centre supervisor | operator admin | dealer technician | dealer admin |
//! |---|---|---|---|---|---|---|---|---|---|---|---|
//! | view_sites | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view_units | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view_events | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view_alarms | ✓ | ✓ | ✓ | ✓ | ✓ | | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view_live_video | ✓ | ✓ | ✓ | ✓ | ✓ | | ✓ | ✓ | ✓ | | |
//! | view_clips | ✓ | ✓ | ✓ | ✓ | ✓ | | ✓ | ✓ | ✓ | | |
//! | view_incident_reports | ✓ | ✓ | ✓ | ✓ | ✓ | | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view_response_times | ✓ | ✓ | ✓ | ✓ | ✓ | | | ✓ | ✓ | ✓ | ✓ |
//! | disarm | | ✓ | ✓ | ✓ | ✓ | | | | ✓ | | |
//! | edit_schedule | | | ✓ | ✓ | ✓ | | | | ✓ | | |
//! | set_level | | | ✓ | ✓ | ✓ | | | | ✓ | | |
//! | manage_contacts | | | ✓ | ✓ | ✓ | | | | ✓ | | |
//! | manage_report_recipients | | | ✓ | ✓ | ✓ | | | | ✓ | | |
//! | relocate | | | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | | |
//! | manage_sites | | | | ✓ | ✓ | | | | ✓ | | |
//! | manage_users | | | | ✓ | ✓ | | | ✓ | ✓ | | ✓ |
//! | manage_sharing | | | | ✓ | ✓ | | | | ✓ | | |
//! | view_audit | | | | ✓ | ✓ | | | ✓ | ✓ | | ✓ |
//! | manage_api_tokens | | | | ✓ | ✓ | | | | ✓ | | ✓ |
//! | grant_dealer_access | | | | | ✓ | | | | | | |
//! | claim_units | | | | | | ✓ | ✓ | ✓ | ✓ | | |
//! | view_fleet | | | | | | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | handle_alarms | | | | | | | ✓ | ✓ | ✓ | | |
//! | manage_organisations | | | | | | | | | ✓ | | |
//!
//! **Invariant** (tested): within a kind, a role has every permission of the
//! roles it outranks. So "you can never grant more than you have" follows
//! from "you can never assign a role above your own".
//!
//! Notes on the choices:
//! - The centre operator can claim units because it outranks the installer
//!   and must hold everything an installer does (remote commissioning checks
//!   are centre work anyway). Both can relocate: in
//!   `picket_proto::relocation` the monitoring centre activates moved units.
//! - The operator administrator has everything except granting dealer
//!   access, which only a customer's owner may do.
//! - Dealer roles list what they hold in their own organisation and at the
//!   customers they serve; what a dealer may do *at a customer* is further
//!   limited in [`crate::dealer`].

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::org::OrgKind;
use crate::permission::Permission;

/// A user's role in their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Customer: the master user.
    Owner,
    /// Customer: administers users and settings.
    CustomerAdmin,
    /// Customer: runs sites day to day.
    SiteManager,
    /// Customer: may disarm.
    Keyholder,
    /// Customer: looks only.
    Viewer,
    /// Operator: everything the operator can do.
    OperatorAdmin,
    /// Operator: leads the monitoring centre.
    CentreSupervisor,
    /// Operator: handles alarms.
    CentreOperator,
    /// Operator: installs and commissions units.
    Installer,
    /// Dealer: administers the dealer's users.
    DealerAdmin,
    /// Dealer: services the dealer's customers.
    DealerTechnician,
}

/// A role's rank: comparable only with ranks of the same organisation kind.
///
/// `partial_cmp` is `None` across kinds, so `<`, `>`, `<=` and `>=` are all
/// false there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rank {
    kind: OrgKind,
    level: u8,
}

impl Rank {
    /// The organisation kind this rank is in.
    pub const fn kind(self) -> OrgKind {
        self.kind
    }

    /// The level within the kind; 1 is the lowest.
    pub const fn level(self) -> u8 {
        self.level
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (self.kind == other.kind).then(|| self.level.cmp(&other.level))
    }
}

use Permission as P;

const VIEWER: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ViewAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
];
const KEYHOLDER: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ViewAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::Disarm,
];
const SITE_MANAGER: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ViewAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::Disarm,
    P::EditSchedule,
    P::SetLevel,
    P::ManageContacts,
    P::ManageReportRecipients,
    P::Relocate,
];
const CUSTOMER_ADMIN: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ViewAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::Disarm,
    P::EditSchedule,
    P::SetLevel,
    P::ManageContacts,
    P::ManageReportRecipients,
    P::Relocate,
    P::ManageSites,
    P::ManageUsers,
    P::ManageSharing,
    P::ViewAudit,
    P::ManageApiTokens,
];
const OWNER: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ViewAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::Disarm,
    P::EditSchedule,
    P::SetLevel,
    P::ManageContacts,
    P::ManageReportRecipients,
    P::Relocate,
    P::ManageSites,
    P::ManageUsers,
    P::ManageSharing,
    P::ViewAudit,
    P::ManageApiTokens,
    P::GrantDealerAccess,
];
const INSTALLER: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ClaimUnits,
    P::Relocate,
    P::ViewFleet,
];
const CENTRE_OPERATOR: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ClaimUnits,
    P::Relocate,
    P::ViewFleet,
    P::ViewAlarms,
    P::HandleAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
];
const CENTRE_SUPERVISOR: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ClaimUnits,
    P::Relocate,
    P::ViewFleet,
    P::ViewAlarms,
    P::HandleAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::ViewAudit,
    P::ManageUsers,
];
const OPERATOR_ADMIN: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ClaimUnits,
    P::Relocate,
    P::ViewFleet,
    P::ViewAlarms,
    P::HandleAlarms,
    P::ViewLiveVideo,
    P::ViewClips,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::ViewAudit,
    P::ManageUsers,
    P::ManageSites,
    P::EditSchedule,
    P::Disarm,
    P::SetLevel,
    P::ManageContacts,
    P::ManageReportRecipients,
    P::ManageSharing,
    P::ManageOrganisations,
    P::ManageApiTokens,
];
const DEALER_TECHNICIAN: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ViewAlarms,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::ViewFleet,
];
const DEALER_ADMIN: &[Permission] = &[
    P::ViewSites,
    P::ViewUnits,
    P::ViewEvents,
    P::ViewAlarms,
    P::ViewIncidentReports,
    P::ViewResponseTimes,
    P::ViewFleet,
    P::ManageUsers,
    P::ViewAudit,
    P::ManageApiTokens,
];

impl Role {
    /// Every role, grouped by kind (operator, customer, dealer), highest
    /// first within each kind.
    pub const fn all() -> &'static [Role] {
        &[
            Role::OperatorAdmin,
            Role::CentreSupervisor,
            Role::CentreOperator,
            Role::Installer,
            Role::Owner,
            Role::CustomerAdmin,
            Role::SiteManager,
            Role::Keyholder,
            Role::Viewer,
            Role::DealerAdmin,
            Role::DealerTechnician,
        ]
    }

    /// The kind of organisation this role exists in.
    pub const fn org_kind(self) -> OrgKind {
        match self {
            Role::Owner
            | Role::CustomerAdmin
            | Role::SiteManager
            | Role::Keyholder
            | Role::Viewer => OrgKind::Customer,
            Role::OperatorAdmin
            | Role::CentreSupervisor
            | Role::CentreOperator
            | Role::Installer => OrgKind::Operator,
            Role::DealerAdmin | Role::DealerTechnician => OrgKind::Dealer,
        }
    }

    /// The role's rank within its kind.
    pub const fn rank(self) -> Rank {
        let level = match self {
            Role::Owner => 5,
            Role::CustomerAdmin => 4,
            Role::SiteManager => 3,
            Role::Keyholder => 2,
            Role::Viewer => 1,
            Role::OperatorAdmin => 4,
            Role::CentreSupervisor => 3,
            Role::CentreOperator => 2,
            Role::Installer => 1,
            Role::DealerAdmin => 2,
            Role::DealerTechnician => 1,
        };
        Rank {
            kind: self.org_kind(),
            level,
        }
    }

    /// Whether `self` is strictly above `other`; false across kinds.
    pub fn outranks(self, other: Role) -> bool {
        self.rank() > other.rank()
    }

    /// Whether `self` is at or above `other`; false across kinds.
    pub fn outranks_or_equals(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    /// The stable snake_case name (the same as the serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::CustomerAdmin => "customer_admin",
            Role::SiteManager => "site_manager",
            Role::Keyholder => "keyholder",
            Role::Viewer => "viewer",
            Role::OperatorAdmin => "operator_admin",
            Role::CentreSupervisor => "centre_supervisor",
            Role::CentreOperator => "centre_operator",
            Role::Installer => "installer",
            Role::DealerAdmin => "dealer_admin",
            Role::DealerTechnician => "dealer_technician",
        }
    }

    /// The role's name for people.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Owner => "Owner (master user)",
            Role::CustomerAdmin => "Administrator",
            Role::SiteManager => "Site manager",
            Role::Keyholder => "Keyholder",
            Role::Viewer => "Viewer",
            Role::OperatorAdmin => "Operator administrator",
            Role::CentreSupervisor => "Centre supervisor",
            Role::CentreOperator => "Centre operator",
            Role::Installer => "Installer",
            Role::DealerAdmin => "Dealer administrator",
            Role::DealerTechnician => "Dealer technician",
        }
    }

    /// What the role is for, for whoever assigns it.
    pub const fn description(self) -> &'static str {
        match self {
            Role::Owner => {
                "The customer's master user: everything an administrator can do, and the only one who can give the dealer temporary access."
            }
            Role::CustomerAdmin => {
                "Manages the customer's users, sites and sharing settings, and reads the audit log."
            }
            Role::SiteManager => {
                "Runs sites day to day: schedules, security level, disarming, site contacts, report recipients and relocation."
            }
            Role::Keyholder => {
                "Sees everything a viewer sees and can disarm a site, for example to work there after hours."
            }
            Role::Viewer => {
                "Looks only: sites, units, events, alarms, live video, clips, incident reports and response times."
            }
            Role::OperatorAdmin => {
                "Runs the service: creates customers and dealers, onboards their first user, and can do everything at every customer except grant dealer access."
            }
            Role::CentreSupervisor => {
                "Leads the monitoring centre: everything a centre operator does, plus response times, the audit log and managing operator users at or below their level."
            }
            Role::CentreOperator => {
                "Works the alarm queue: sees alarms, events, live video and clips at every customer, checks relocated and newly installed units."
            }
            Role::Installer => {
                "Installs units: registers provisioned units to sites, commissions and relocates them, and sees fleet health."
            }
            Role::DealerAdmin => {
                "Manages the dealer's users and API tokens; at customers, the same access as a technician."
            }
            Role::DealerTechnician => {
                "Read-only view of the dealer's customers' sites, units, events and alarms; nearly full access while a customer grants it, never live video, clips or users."
            }
        }
    }

    /// The permissions this role holds.
    pub const fn permissions(self) -> &'static [Permission] {
        match self {
            Role::Owner => OWNER,
            Role::CustomerAdmin => CUSTOMER_ADMIN,
            Role::SiteManager => SITE_MANAGER,
            Role::Keyholder => KEYHOLDER,
            Role::Viewer => VIEWER,
            Role::OperatorAdmin => OPERATOR_ADMIN,
            Role::CentreSupervisor => CENTRE_SUPERVISOR,
            Role::CentreOperator => CENTRE_OPERATOR,
            Role::Installer => INSTALLER,
            Role::DealerAdmin => DEALER_ADMIN,
            Role::DealerTechnician => DEALER_TECHNICIAN,
        }
    }

    /// Whether this role holds `permission`.
    pub fn has(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
