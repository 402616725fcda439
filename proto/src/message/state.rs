//! What a unit reports about itself: applied state, heartbeats with health,
//! and its online/offline status.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::config::ConfigVersion;
use crate::arming::ArmState;
use crate::ids::CameraId;
use crate::relocation::RelocationState;

/// The unit's applied config and effective state, sent on change and on
/// request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedState {
    /// The desired-config version the unit has applied (`None`: none yet).
    pub applied_config: Option<ConfigVersion>,
    /// Why the unit refused the newest config it received, if it did.
    pub config_error: Option<String>,
    /// The effective arm state.
    pub state: ArmState,
    /// Why, in words.
    pub reason: String,
    /// When the state next changes by itself.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::optional")]
    pub changes_at: Option<Timestamp>,
    /// The relocation state.
    pub relocation: RelocationState,
}

/// A periodic sign of life with health figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Increases by one per heartbeat since the agent started.
    pub seq: u64,
    /// Seconds since the agent started.
    pub uptime_s: u64,
    /// Health figures.
    pub health: Health,
}

/// Health of a unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Free bytes on the clip store.
    pub disk_free_bytes: u64,
    /// Size of the clip store.
    pub disk_total_bytes: u64,
    /// Board temperature, if the unit has a sensor.
    pub temperature_c: Option<f32>,
    /// Each camera's state.
    pub cameras: Vec<CameraHealth>,
    /// The unit's clock minus the hub's, as last measured, in milliseconds.
    pub clock_skew_ms: Option<i64>,
    /// Events waiting for the hub's acknowledgement.
    pub outbox_events: u32,
    /// Clips waiting to be uploaded.
    pub clips_pending: u32,
    /// Bytes over the unit's clip quota that only clips the hub does not
    /// have yet hold (the unit never deletes those): a warning that its
    /// disk is filling. Absent (0) from older units.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub clips_over_quota_bytes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One camera's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraHealth {
    /// Which camera.
    pub camera: CameraId,
    /// Its state.
    pub status: CameraStatus,
}

/// A camera's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CameraStatus {
    /// Delivering video.
    Streaming,
    /// Not delivering video; the agent is reconnecting.
    Lost,
    /// Configured off.
    Disabled,
}

/// Online/offline, retained; `Offline` is also the unit's MQTT last will.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// Connected.
    Online,
    /// Disconnected (published by the broker as the last will, or by the
    /// unit on a clean shutdown).
    Offline,
}
