//! Permissions: the things a role lets someone do.
//!
//! Each permission has a stable snake_case name (its serde name, used by the
//! API and stored with audit records) and a human description, so whoever
//! assigns a role sees what it gives. Which role holds which permission is in
//! [`crate::role`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sharing::SharedFeature;
use crate::target::TargetKind;

/// One thing a signed-in person may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Permission {
    /// See sites and sub-sites.
    ViewSites,
    /// Create and edit sites and sub-sites.
    ManageSites,
    /// See units and cameras and their state.
    ViewUnits,
    /// See the event history.
    ViewEvents,
    /// See alarms and how they were handled.
    ViewAlarms,
    /// Change a site's security schedule.
    EditSchedule,
    /// Disarm a site temporarily.
    Disarm,
    /// Set a site's security level.
    SetLevel,
    /// Edit a site's contacts.
    ManageContacts,
    /// Edit who receives a site's reports.
    ManageReportRecipients,
    /// Watch live video.
    ViewLiveVideo,
    /// Watch and download recorded clips.
    ViewClips,
    /// Read incident reports.
    ViewIncidentReports,
    /// See response and handling times.
    ViewResponseTimes,
    /// Invite, edit and revoke users.
    ManageUsers,
    /// Change what the customer's account shares with its users.
    ManageSharing,
    /// Give the customer's dealer temporary, nearly full access.
    GrantDealerAccess,
    /// Read the audit log.
    ViewAudit,
    /// Move units through relocation.
    Relocate,
    /// Register a provisioned unit to a site and commission it.
    ClaimUnits,
    /// Work the monitoring centre's alarm queue.
    HandleAlarms,
    /// See the health of the fleet of units.
    ViewFleet,
    /// Create and edit customer and dealer organisations.
    ManageOrganisations,
    /// Create and revoke one's own API tokens.
    ManageApiTokens,
}

impl Permission {
    /// Every permission, in declaration order.
    pub const fn all() -> &'static [Permission] {
        use Permission::*;
        &[
            ViewSites,
            ManageSites,
            ViewUnits,
            ViewEvents,
            ViewAlarms,
            EditSchedule,
            Disarm,
            SetLevel,
            ManageContacts,
            ManageReportRecipients,
            ViewLiveVideo,
            ViewClips,
            ViewIncidentReports,
            ViewResponseTimes,
            ManageUsers,
            ManageSharing,
            GrantDealerAccess,
            ViewAudit,
            Relocate,
            ClaimUnits,
            HandleAlarms,
            ViewFleet,
            ManageOrganisations,
            ManageApiTokens,
        ]
    }

    /// The stable snake_case name (the same as the serde name).
    pub const fn as_str(self) -> &'static str {
        use Permission::*;
        match self {
            ViewSites => "view_sites",
            ManageSites => "manage_sites",
            ViewUnits => "view_units",
            ViewEvents => "view_events",
            ViewAlarms => "view_alarms",
            EditSchedule => "edit_schedule",
            Disarm => "disarm",
            SetLevel => "set_level",
            ManageContacts => "manage_contacts",
            ManageReportRecipients => "manage_report_recipients",
            ViewLiveVideo => "view_live_video",
            ViewClips => "view_clips",
            ViewIncidentReports => "view_incident_reports",
            ViewResponseTimes => "view_response_times",
            ManageUsers => "manage_users",
            ManageSharing => "manage_sharing",
            GrantDealerAccess => "grant_dealer_access",
            ViewAudit => "view_audit",
            Relocate => "relocate",
            ClaimUnits => "claim_units",
            HandleAlarms => "handle_alarms",
            ViewFleet => "view_fleet",
            ManageOrganisations => "manage_organisations",
            ManageApiTokens => "manage_api_tokens",
        }
    }

    /// What the permission allows, as a sentence for the role list.
    pub const fn description(self) -> &'static str {
        use Permission::*;
        match self {
            ViewSites => "See sites and their sub-sites.",
            ManageSites => "Create and edit sites and sub-sites.",
            ViewUnits => "See units and cameras and their current state.",
            ViewEvents => "See the history of events from units.",
            ViewAlarms => "See alarms and how the monitoring centre handled them.",
            EditSchedule => "Change a site's security schedule.",
            Disarm => "Disarm a site for a while, for example to work there in the evening.",
            SetLevel => "Set a site's security level.",
            ManageContacts => "Add, edit and remove a site's contacts.",
            ManageReportRecipients => {
                "Add, edit and remove the people who receive a site's reports."
            }
            ViewLiveVideo => "Watch live video from cameras.",
            ViewClips => "Watch and download recorded video clips.",
            ViewIncidentReports => "Read incident reports.",
            ViewResponseTimes => "See response and handling times.",
            ManageUsers => {
                "Invite, edit and revoke users at or below one's own role, for one's own sites."
            }
            ManageSharing => {
                "Choose what the customer's account shows its users: incident reports, response times, clips and live video."
            }
            GrantDealerAccess => {
                "Give the customer's dealer 2 or 24 hours of nearly full access, and end it early."
            }
            ViewAudit => "Read the audit log of who did what.",
            Relocate => "Put units in relocation and request or confirm their activation.",
            ClaimUnits => "Register a provisioned unit to a site and commission it.",
            HandleAlarms => "Work the monitoring centre's alarm queue.",
            ViewFleet => "See the health of units: connectivity, storage, versions.",
            ManageOrganisations => "Create and edit customer and dealer organisations.",
            ManageApiTokens => "Create and revoke one's own API tokens.",
        }
    }

    /// Whether this permission only looks (its name starts with `view_`).
    pub const fn is_view(self) -> bool {
        use Permission::*;
        matches!(
            self,
            ViewSites
                | ViewUnits
                | ViewEvents
                | ViewAlarms
                | ViewLiveVideo
                | ViewClips
                | ViewIncidentReports
                | ViewResponseTimes
                | ViewAudit
                | ViewFleet
        )
    }

    /// The customer sharing setting that must also be on for customer and
    /// dealer users to use this permission, if any.
    pub const fn shared_feature(self) -> Option<SharedFeature> {
        match self {
            Permission::ViewIncidentReports => Some(SharedFeature::IncidentReports),
            Permission::ViewResponseTimes => Some(SharedFeature::ResponseTimes),
            Permission::ViewClips => Some(SharedFeature::Clips),
            Permission::ViewLiveVideo => Some(SharedFeature::LiveView),
            _ => None,
        }
    }

    /// Whether this permission can be checked against a target of this kind.
    ///
    /// Every permission applies to an organisation. Organisation-wide
    /// permissions (users, sharing, dealer access, organisations, API tokens)
    /// do not apply to a single site; only [`Permission::ManageUsers`]
    /// applies to a user.
    pub const fn applies_to(self, kind: TargetKind) -> bool {
        use Permission::*;
        match kind {
            TargetKind::Organisation => true,
            TargetKind::Site => !matches!(
                self,
                ManageUsers
                    | ManageSharing
                    | GrantDealerAccess
                    | ManageOrganisations
                    | ManageApiTokens
            ),
            TargetKind::User => matches!(self, ManageUsers),
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn all_lists_every_permission_once() {
        let set: BTreeSet<_> = Permission::all().iter().collect();
        assert_eq!(set.len(), Permission::all().len());
        assert_eq!(set.len(), 24);
    }

    #[test]
    fn as_str_is_the_serde_name_and_round_trips() {
        for &p in Permission::all() {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Permission>(&json).unwrap(), p);
        }
    }

    #[test]
    fn names_are_unique_snake_case() {
        let names: BTreeSet<_> = Permission::all().iter().map(|p| p.as_str()).collect();
        assert_eq!(names.len(), Permission::all().len());
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn descriptions_are_sentences() {
        for &p in Permission::all() {
            let d = p.description();
            assert!(d.ends_with('.'), "{p}: {d}");
            assert!(d.starts_with(|c: char| c.is_ascii_uppercase()), "{p}: {d}");
        }
    }

    #[test]
    fn is_view_exactly_when_the_name_starts_with_view() {
        for &p in Permission::all() {
            assert_eq!(p.is_view(), p.as_str().starts_with("view_"), "{p}");
        }
    }

    #[test]
    fn shared_features_gate_the_four_shareable_views() {
        let gated: Vec<_> = Permission::all()
            .iter()
            .filter(|p| p.shared_feature().is_some())
            .copied()
            .collect();
        assert_eq!(
            gated,
            [
                Permission::ViewLiveVideo,
                Permission::ViewClips,
                Permission::ViewIncidentReports,
                Permission::ViewResponseTimes,
            ]
        );
    }

    #[test]
    fn applies_to_organisation_always_to_user_only_manage_users() {
        for &p in Permission::all() {
            assert!(p.applies_to(TargetKind::Organisation), "{p}");
            assert_eq!(
                p.applies_to(TargetKind::User),
                p == Permission::ManageUsers,
                "{p}"
            );
        }
    }

    #[test]
    fn organisation_wide_permissions_do_not_apply_to_a_site() {
        for p in [
            Permission::ManageUsers,
            Permission::ManageSharing,
            Permission::GrantDealerAccess,
            Permission::ManageOrganisations,
            Permission::ManageApiTokens,
        ] {
            assert!(!p.applies_to(TargetKind::Site), "{p}");
        }
        assert!(Permission::Disarm.applies_to(TargetKind::Site));
        assert!(Permission::ClaimUnits.applies_to(TargetKind::Site));
    }
}
