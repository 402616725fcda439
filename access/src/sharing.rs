//! What a customer's account shows its users.
//!
//! Four features can be switched off per customer: incident reports,
//! response times, clips and live video. Switched off, no customer user (the
//! owner included) and no dealer user sees them at that customer, whatever
//! their role. Operator users are not limited by sharing: the monitoring
//! centre needs video to do its job.
//!
//! Incident reports can also be held back until the monitoring centre has
//! reviewed them (`incident_reports_after_review`).
//!
//! **Default: everything shared.** These are the customer's own data and the
//! reason they use the portal; the switches exist to turn a feature *off*
//! (a privacy policy, a works council), not to unlock it. A missing field in
//! stored or submitted settings therefore means "shared".

use std::fmt;

use serde::{Deserialize, Serialize};

/// One switchable feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SharedFeature {
    /// Incident reports.
    IncidentReports,
    /// Response and handling times.
    ResponseTimes,
    /// Recorded clips.
    Clips,
    /// Live video.
    LiveView,
}

impl fmt::Display for SharedFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SharedFeature::IncidentReports => "incident reports",
            SharedFeature::ResponseTimes => "response times",
            SharedFeature::Clips => "clips",
            SharedFeature::LiveView => "live video",
        })
    }
}

/// A customer's sharing settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sharing {
    /// Users see incident reports. Default: true.
    pub incident_reports: bool,
    /// Users see response and handling times. Default: true.
    pub response_times: bool,
    /// Users see recorded clips. Default: true.
    pub clips: bool,
    /// Users see live video. Default: true.
    pub live_view: bool,
    /// Incident reports reach users only once someone in the monitoring
    /// centre has reviewed and shared them (the guarding portals' "share
    /// all incident reports" left unticked). Default: false, every report
    /// is shared as soon as the alarm is handled.
    pub incident_reports_after_review: bool,
}

impl Sharing {
    /// Everything shared (the default).
    pub const ALL: Sharing = Sharing {
        incident_reports: true,
        response_times: true,
        clips: true,
        live_view: true,
        incident_reports_after_review: false,
    };

    /// Nothing shared.
    pub const NONE: Sharing = Sharing {
        incident_reports: false,
        response_times: false,
        clips: false,
        live_view: false,
        incident_reports_after_review: false,
    };

    /// Whether `feature` is shared.
    pub const fn shares(self, feature: SharedFeature) -> bool {
        match feature {
            SharedFeature::IncidentReports => self.incident_reports,
            SharedFeature::ResponseTimes => self.response_times,
            SharedFeature::Clips => self.clips,
            SharedFeature::LiveView => self.live_view,
        }
    }
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing::ALL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_shares_everything() {
        let sharing = Sharing::default();
        for feature in [
            SharedFeature::IncidentReports,
            SharedFeature::ResponseTimes,
            SharedFeature::Clips,
            SharedFeature::LiveView,
        ] {
            assert!(sharing.shares(feature), "{feature}");
            assert!(!Sharing::NONE.shares(feature), "{feature}");
        }
    }

    #[test]
    fn each_switch_controls_only_its_feature() {
        let sharing = Sharing {
            clips: false,
            ..Sharing::ALL
        };
        assert!(!sharing.shares(SharedFeature::Clips));
        assert!(sharing.shares(SharedFeature::LiveView));
        assert!(sharing.shares(SharedFeature::IncidentReports));
        assert!(sharing.shares(SharedFeature::ResponseTimes));
    }

    #[test]
    fn missing_fields_deserialise_as_shared_and_unknown_fields_are_refused() {
        let sharing: Sharing = serde_json::from_str(r#"{"live_view": false}"#).unwrap();
        assert_eq!(
            sharing,
            Sharing {
                live_view: false,
                ..Sharing::ALL
            }
        );
        assert!(serde_json::from_str::<Sharing>(r#"{"live_video": false}"#).is_err());
    }
}
