//! Desired config: what the hub wants a unit to do, versioned.
//!
//! The hub publishes it retained on the unit's `cfg` topic; the unit checks
//! it, persists it, applies it and reports the applied version. Until then
//! the portal shows the change as pending.

use serde::{Deserialize, Serialize};

use crate::disarm::TemporaryDisarm;
use crate::ids::{CameraId, SiteId};
use crate::level::{SecurityLevel, SensorKind};
use crate::relocation::RelocationState;
use crate::schedule::WeeklySchedule;

/// A desired-config version; increases with every change the hub makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigVersion(pub u64);

impl std::fmt::Display for ConfigVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Everything a unit needs to run on its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DesiredConfig {
    /// Version of this config.
    pub version: ConfigVersion,
    /// The site the unit stands at.
    pub site: SiteId,
    /// The site's schedule (validated when decoded).
    pub schedule: WeeklySchedule,
    /// The site's security level.
    pub level: SecurityLevel,
    /// A temporary disarm, if set.
    pub disarm: Option<TemporaryDisarm>,
    /// The unit's relocation state.
    pub relocation: RelocationState,
    /// Whether the unit's model can be relocated.
    pub relocation_supported: bool,
    /// The unit's sensor inputs.
    pub sensors: Vec<SensorConfig>,
    /// The unit's cameras.
    pub cameras: Vec<CameraConfig>,
    /// Clip recording around alarms.
    pub clips: ClipSettings,
}

/// One sensor input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorConfig {
    /// Id on the unit, e.g. `pir-1`.
    pub id: String,
    /// What kind of sensor it is.
    pub kind: SensorKind,
    /// Name shown to people, e.g. "North fence PIR".
    pub name: String,
}

/// One camera.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraConfig {
    /// Id.
    pub id: CameraId,
    /// Name shown to people.
    pub name: String,
    /// Where the unit reads it: an `rtsp://` URL (credentials are provisioned
    /// on the unit, not sent here) or a local device path.
    pub source: String,
}

/// Clip recording settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipSettings {
    /// Seconds before the alarm (0–60).
    pub pre_roll_s: u16,
    /// Seconds after the alarm (1–300).
    pub post_roll_s: u16,
    /// Longest clip when alarms keep extending it (seconds).
    pub max_clip_s: u16,
}

impl ClipSettings {
    /// Pre-roll 0–60 s, post-roll 1–300 s, and a longest clip of at least
    /// pre + post and at most 600 s.
    pub fn check(&self) -> Result<(), ConfigError> {
        let c = self;
        if c.pre_roll_s > 60
            || !(1..=300).contains(&c.post_roll_s)
            || c.max_clip_s > 600
            || c.max_clip_s < c.pre_roll_s.saturating_add(c.post_roll_s)
        {
            return Err(ConfigError::Clips {
                pre: c.pre_roll_s,
                post: c.post_roll_s,
                max: c.max_clip_s,
            });
        }
        Ok(())
    }
}

impl Default for ClipSettings {
    fn default() -> ClipSettings {
        ClipSettings {
            pre_roll_s: 10,
            post_roll_s: 20,
            max_clip_s: 120,
        }
    }
}

/// A desired config that a unit must refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Clip settings out of range.
    #[error(
        "clip settings out of range: pre-roll {pre}s (0–60), post-roll {post}s (1–300), \
         longest clip {max}s (at least pre + post, at most 600)"
    )]
    Clips {
        /// Pre-roll.
        pre: u16,
        /// Post-roll.
        post: u16,
        /// Cap.
        max: u16,
    },
    /// Two sensors or cameras share an id.
    #[error("duplicate {what} id {id:?}")]
    DuplicateId {
        /// "sensor" or "camera".
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The config is older than the one already applied.
    #[error("config {got} is older than the applied {applied}; ignored")]
    Stale {
        /// Received.
        got: ConfigVersion,
        /// Applied.
        applied: ConfigVersion,
    },
}

impl DesiredConfig {
    /// Checks what serde cannot: ranges and unique ids. (The schedule and
    /// the disarm are already validated when decoded.)
    pub fn check(&self) -> Result<(), ConfigError> {
        self.clips.check()?;
        let mut seen = std::collections::HashSet::new();
        for s in &self.sensors {
            if !seen.insert(s.id.as_str()) {
                return Err(ConfigError::DuplicateId {
                    what: "sensor",
                    id: s.id.clone(),
                });
            }
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.cameras {
            if !seen.insert(c.id) {
                return Err(ConfigError::DuplicateId {
                    what: "camera",
                    id: c.id.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Whether the unit should take this config over the one it applied.
    pub fn supersedes(&self, applied: Option<ConfigVersion>) -> Result<(), ConfigError> {
        match applied {
            Some(applied) if self.version < applied => Err(ConfigError::Stale {
                got: self.version,
                applied,
            }),
            _ => Ok(()),
        }
    }
}
