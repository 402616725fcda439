//! Security levels: named profiles chosen per site by the customer from the
//! ones the operator defines.

use serde::{Deserialize, Serialize};

/// How a level relates to the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelArming {
    /// Armed when the schedule says so (the usual case).
    BySchedule,
    /// Armed at all times, whatever the schedule says.
    AlwaysArmed,
    /// Never armed (monitoring off), whatever the schedule says.
    NeverArmed,
}

/// Kinds of input that can raise an alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SensorKind {
    /// Passive infrared motion detector.
    Motion,
    /// Door or window contact.
    Door,
    /// Video analytics on a camera (line crossing, intrusion zone).
    VideoAnalytics,
    /// Enclosure tamper switch.
    Tamper,
    /// Mains power and battery supervision.
    Power,
    /// Panic or hold-up button.
    Panic,
}

/// Deterrence outputs the unit drives when an alarm is raised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Warnings {
    /// Sound the siren.
    pub siren: bool,
    /// Flash the strobe.
    pub strobe: bool,
    /// Play the recorded voice warning.
    pub voice: bool,
}

/// A named security level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityLevel {
    /// Name shown to people, e.g. "Standard" or "Construction 24/7".
    pub name: String,
    /// Whether the level follows the schedule or overrides it.
    pub arming: LevelArming,
    /// Which sensor kinds raise alarms while armed.
    pub sensors: Vec<SensorKind>,
    /// What the unit does on site when an alarm is raised.
    pub warnings: Warnings,
    /// Priority of this site's alarms in the monitoring centre's queue;
    /// 1 is the most urgent.
    pub centre_priority: u8,
}

impl SecurityLevel {
    /// The usual level: follows the schedule, every sensor, all warnings,
    /// normal priority.
    pub fn standard() -> SecurityLevel {
        SecurityLevel {
            name: "Standard".into(),
            arming: LevelArming::BySchedule,
            sensors: vec![
                SensorKind::Motion,
                SensorKind::Door,
                SensorKind::VideoAnalytics,
                SensorKind::Tamper,
                SensorKind::Power,
                SensorKind::Panic,
            ],
            warnings: Warnings {
                siren: true,
                strobe: true,
                voice: true,
            },
            centre_priority: 3,
        }
    }

    /// Whether a sensor of `kind` raises an alarm at this level.
    pub fn counts(&self, kind: SensorKind) -> bool {
        self.sensors.contains(&kind)
    }
}
