//! Events: things that happened on a unit.
//!
//! An event gets its id on the unit when it happens and is written to the
//! unit's outbox before anything else; the unit deletes it only when the hub
//! acknowledges (with [`EventAck`]) that it committed it.

use jiff::Timestamp;
use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize};

use super::open_enum::{self, OpenEnum};
use crate::arming::ArmState;
use crate::ids::{CameraId, EventId};
use crate::level::SensorKind;
use crate::relocation::{RelocationActor, RelocationState};

/// One event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id, a UUIDv7 made on the unit.
    pub id: EventId,
    /// Per-unit sequence number, increasing by one per event, kept across
    /// restarts: the hub sees gaps and order at a glance.
    pub seq: u64,
    /// When it happened, by the unit's clock.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

/// What happened. A kind from a newer unit decodes as [`EventKind::Unknown`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A sensor raised an alarm while armed.
    Alarm {
        /// The sensor's id on the unit, e.g. `pir-1`.
        sensor: String,
        /// What kind of sensor it is.
        sensor_kind: SensorKind,
        /// The camera that covers it, if any.
        camera: Option<CameraId>,
        /// The state when it fired.
        state: ArmState,
    },
    /// A sensor triggered while not armed (or not counting at this level):
    /// recorded, no alarm raised.
    Activity {
        /// The sensor's id on the unit.
        sensor: String,
        /// What kind of sensor it is.
        sensor_kind: SensorKind,
        /// The state when it fired.
        state: ArmState,
    },
    /// The enclosure or a sensor was tampered with (reported in any state).
    Tamper {
        /// The sensor's id.
        sensor: String,
    },
    /// The tampered enclosure or sensor is closed again. A tamper restored
    /// within the centre's debounce time raises no queue item.
    TamperRestored {
        /// The sensor's id.
        sensor: String,
    },
    /// Mains or battery changes.
    Power(PowerEvent),
    /// A camera stopped delivering video.
    CameraLost {
        /// Which camera.
        camera: CameraId,
    },
    /// A camera delivers video again.
    CameraRestored {
        /// Which camera.
        camera: CameraId,
    },
    /// A clip of an alarm could not be kept (after a power cut its file
    /// could not be completed from what was on disk): the hub will not get
    /// it, and says so rather than wait for it.
    ClipDiscarded {
        /// The alarm the clip was to show.
        alarm: EventId,
        /// Which camera.
        camera: CameraId,
        /// Why, in words.
        reason: String,
    },
    /// The effective arm state changed.
    ArmStateChanged {
        /// The new state.
        state: ArmState,
        /// Why, in words ("armed by schedule until 07:00").
        reason: String,
    },
    /// The relocation state changed.
    RelocationChanged {
        /// Before.
        from: RelocationState,
        /// After.
        to: RelocationState,
        /// Who moved it.
        by: RelocationActor,
    },
    /// A kind this build does not know (from a newer peer).
    #[serde(skip_serializing)]
    Unknown {
        /// The tag as received.
        kind: String,
    },
}

/// Power supervision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PowerEvent {
    /// Mains power lost; running on battery.
    MainsLost,
    /// Mains power back.
    MainsRestored,
    /// Battery low.
    BatteryLow,
}

impl EventKind {
    /// The wire tag, e.g. `alarm`.
    pub fn tag(&self) -> &str {
        match self {
            EventKind::Alarm { .. } => "alarm",
            EventKind::Activity { .. } => "activity",
            EventKind::Tamper { .. } => "tamper",
            EventKind::TamperRestored { .. } => "tamper_restored",
            EventKind::Power(_) => "power",
            EventKind::CameraLost { .. } => "camera_lost",
            EventKind::CameraRestored { .. } => "camera_restored",
            EventKind::ClipDiscarded { .. } => "clip_discarded",
            EventKind::ArmStateChanged { .. } => "arm_state_changed",
            EventKind::RelocationChanged { .. } => "relocation_changed",
            EventKind::Unknown { kind } => kind,
        }
    }
}

// The payloads of struct variants, for decoding them one by one.
#[derive(Deserialize)]
struct AlarmPayload {
    sensor: String,
    sensor_kind: SensorKind,
    camera: Option<CameraId>,
    state: ArmState,
}

#[derive(Deserialize)]
struct ActivityPayload {
    sensor: String,
    sensor_kind: SensorKind,
    state: ArmState,
}

#[derive(Deserialize)]
struct SensorPayload {
    sensor: String,
}

#[derive(Deserialize)]
struct CameraPayload {
    camera: CameraId,
}

#[derive(Deserialize)]
struct ClipDiscardedPayload {
    alarm: EventId,
    camera: CameraId,
    reason: String,
}

#[derive(Deserialize)]
struct ArmPayload {
    state: ArmState,
    reason: String,
}

#[derive(Deserialize)]
struct RelocationPayload {
    from: RelocationState,
    to: RelocationState,
    by: RelocationActor,
}

impl OpenEnum for EventKind {
    const EXPECTING: &'static str = "an event kind";

    fn known<'de, A: MapAccess<'de>>(tag: &str, map: &mut A) -> Result<Option<Self>, A::Error> {
        Ok(Some(match tag {
            "alarm" => {
                let p: AlarmPayload = map.next_value()?;
                EventKind::Alarm {
                    sensor: p.sensor,
                    sensor_kind: p.sensor_kind,
                    camera: p.camera,
                    state: p.state,
                }
            }
            "activity" => {
                let p: ActivityPayload = map.next_value()?;
                EventKind::Activity {
                    sensor: p.sensor,
                    sensor_kind: p.sensor_kind,
                    state: p.state,
                }
            }
            "tamper" => EventKind::Tamper {
                sensor: map.next_value::<SensorPayload>()?.sensor,
            },
            "tamper_restored" => EventKind::TamperRestored {
                sensor: map.next_value::<SensorPayload>()?.sensor,
            },
            "power" => EventKind::Power(map.next_value()?),
            "camera_lost" => EventKind::CameraLost {
                camera: map.next_value::<CameraPayload>()?.camera,
            },
            "camera_restored" => EventKind::CameraRestored {
                camera: map.next_value::<CameraPayload>()?.camera,
            },
            "clip_discarded" => {
                let p: ClipDiscardedPayload = map.next_value()?;
                EventKind::ClipDiscarded {
                    alarm: p.alarm,
                    camera: p.camera,
                    reason: p.reason,
                }
            }
            "arm_state_changed" => {
                let p: ArmPayload = map.next_value()?;
                EventKind::ArmStateChanged {
                    state: p.state,
                    reason: p.reason,
                }
            }
            "relocation_changed" => {
                let p: RelocationPayload = map.next_value()?;
                EventKind::RelocationChanged {
                    from: p.from,
                    to: p.to,
                    by: p.by,
                }
            }
            _ => return Ok(None),
        }))
    }

    fn unknown(kind: String) -> Self {
        EventKind::Unknown { kind }
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        open_enum::deserialize(d)
    }
}

/// The hub's acknowledgement that it committed these events: the unit may
/// now delete them from its outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAck {
    /// The committed events.
    pub events: Vec<EventId>,
}
