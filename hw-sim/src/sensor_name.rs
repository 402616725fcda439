//! The sensor names people type (`pir`, `door`, …) and the protocol
//! messages they stand for. Shared by `picket-sim trigger` and scenarios so
//! both accept exactly the same names and the same `restore` (for `power`:
//! mains restored; for `tamper`: tamper restored).

use std::fmt;
use std::str::FromStr;

use picket_proto::ids::UnitId;
use picket_proto::level::SensorKind;
use picket_proto::message::PowerEvent;
use picket_proto::sim::SimMessage;

/// The longest sensor id we send (`pir-1` is typical).
pub const MAX_SENSOR_ID_BYTES: usize = 64;

/// A kind of input a simulated unit has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SensorName {
    /// Passive infrared motion detector.
    Pir,
    /// Door or window contact.
    Door,
    /// Enclosure tamper switch (with `restore`, a `TamperRestored`: the
    /// enclosure is closed again).
    Tamper,
    /// Mains power supervision (sends a `Power` change, not a `Trigger`).
    Power,
    /// Panic or hold-up button.
    Panic,
    /// Video analytics on a camera.
    Video,
}

/// A sensor name, id or flag that does not make a valid message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SensorNameError {
    /// Not one of the names.
    #[error("unknown sensor {0:?}: expected one of pir, door, tamper, power, panic, video")]
    Unknown(String),
    /// An id was given for `power`, which has none.
    #[error("a sensor id does not apply to power (mains power has no sensor id)")]
    IdWithPower,
    /// `restore` was set for a sensor other than `power` or `tamper`.
    #[error(
        "restore applies only to power (mains restored) and tamper (tamper restored), not to {0}"
    )]
    RestoreNotApplicable(SensorName),
    /// The id is empty, too long or has control characters.
    #[error("invalid sensor id {0:?}: 1 to {MAX_SENSOR_ID_BYTES} bytes without control characters")]
    BadId(String),
}

impl SensorName {
    /// Every name, in the order help texts list them.
    pub const ALL: [SensorName; 6] = [
        SensorName::Pir,
        SensorName::Door,
        SensorName::Tamper,
        SensorName::Power,
        SensorName::Panic,
        SensorName::Video,
    ];

    /// The name as typed.
    pub fn as_str(self) -> &'static str {
        match self {
            SensorName::Pir => "pir",
            SensorName::Door => "door",
            SensorName::Tamper => "tamper",
            SensorName::Power => "power",
            SensorName::Panic => "panic",
            SensorName::Video => "video",
        }
    }

    /// The protocol's sensor kind and the default sensor id, or `None` for
    /// `power`, which is a power change rather than a trigger.
    pub fn trigger_kind(self) -> Option<(SensorKind, &'static str)> {
        match self {
            SensorName::Pir => Some((SensorKind::Motion, "pir-1")),
            SensorName::Door => Some((SensorKind::Door, "door-1")),
            SensorName::Tamper => Some((SensorKind::Tamper, "tamper-1")),
            SensorName::Panic => Some((SensorKind::Panic, "panic-1")),
            SensorName::Video => Some((SensorKind::VideoAnalytics, "video-1")),
            SensorName::Power => None,
        }
    }

    /// The message this sensor sends for `unit`: a `Trigger` with `id` (or
    /// the default id), or for `power` a `Power` change (`MainsLost`, or
    /// `MainsRestored` when `restore`). With `restore`, `tamper` sends a
    /// `TamperRestored` with the id instead; other sensors refuse it.
    pub fn message(
        self,
        unit: UnitId,
        id: Option<&str>,
        restore: bool,
    ) -> Result<SimMessage, SensorNameError> {
        match self.trigger_kind() {
            Some((kind, default_id)) => {
                if restore && self != SensorName::Tamper {
                    return Err(SensorNameError::RestoreNotApplicable(self));
                }
                let sensor = id.unwrap_or(default_id);
                let valid = !sensor.is_empty()
                    && sensor.len() <= MAX_SENSOR_ID_BYTES
                    && !sensor.chars().any(char::is_control);
                if !valid {
                    return Err(SensorNameError::BadId(sensor.to_owned()));
                }
                let sensor = sensor.to_owned();
                Ok(if restore {
                    SimMessage::TamperRestored { unit, sensor }
                } else {
                    SimMessage::Trigger { unit, sensor, kind }
                })
            }
            None => {
                if id.is_some() {
                    return Err(SensorNameError::IdWithPower);
                }
                let event = if restore {
                    PowerEvent::MainsRestored
                } else {
                    PowerEvent::MainsLost
                };
                Ok(SimMessage::Power { unit, event })
            }
        }
    }
}

impl fmt::Display for SensorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SensorName {
    type Err = SensorNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SensorName::ALL
            .into_iter()
            .find(|name| name.as_str() == s)
            .ok_or_else(|| SensorNameError::Unknown(s.to_owned()))
    }
}

/// A short human description of a request, for logs and command output:
/// `trigger pir-1 (Motion) on unit 0190…`.
pub fn describe(message: &SimMessage) -> String {
    match message {
        SimMessage::Trigger { unit, sensor, kind } => {
            format!("trigger {sensor} ({kind:?}) on unit {unit}")
        }
        SimMessage::TamperRestored { unit, sensor } => {
            format!("tamper restored {sensor} on unit {unit}")
        }
        SimMessage::Power { unit, event } => format!("power {event:?} on unit {unit}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit() -> UnitId {
        "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b".parse().unwrap()
    }

    #[test]
    fn names_round_trip() {
        for name in SensorName::ALL {
            assert_eq!(name.as_str().parse::<SensorName>().unwrap(), name);
        }
        assert!(matches!(
            "smoke".parse::<SensorName>(),
            Err(SensorNameError::Unknown(_))
        ));
    }

    #[test]
    fn maps_names_to_messages() {
        assert_eq!(
            SensorName::Pir.message(unit(), None, false).unwrap(),
            SimMessage::Trigger {
                unit: unit(),
                sensor: "pir-1".into(),
                kind: SensorKind::Motion
            }
        );
        assert_eq!(
            SensorName::Video
                .message(unit(), Some("cam-2"), false)
                .unwrap(),
            SimMessage::Trigger {
                unit: unit(),
                sensor: "cam-2".into(),
                kind: SensorKind::VideoAnalytics
            }
        );
        assert_eq!(
            SensorName::Power.message(unit(), None, true).unwrap(),
            SimMessage::Power {
                unit: unit(),
                event: PowerEvent::MainsRestored
            }
        );
    }

    #[test]
    fn tamper_with_restore_is_a_tamper_restored() {
        assert_eq!(
            SensorName::Tamper.message(unit(), None, false).unwrap(),
            SimMessage::Trigger {
                unit: unit(),
                sensor: "tamper-1".into(),
                kind: SensorKind::Tamper
            }
        );
        let restored = SensorName::Tamper.message(unit(), None, true).unwrap();
        assert_eq!(
            restored,
            SimMessage::TamperRestored {
                unit: unit(),
                sensor: "tamper-1".into()
            }
        );
        assert_eq!(
            describe(&restored),
            format!("tamper restored tamper-1 on unit {}", unit())
        );
        assert_eq!(
            SensorName::Tamper.message(unit(), Some("lid"), true),
            Ok(SimMessage::TamperRestored {
                unit: unit(),
                sensor: "lid".into()
            })
        );
        assert!(matches!(
            SensorName::Tamper.message(unit(), Some("a\nb"), true),
            Err(SensorNameError::BadId(_))
        ));
    }

    #[test]
    fn refuses_flags_that_do_not_apply() {
        assert_eq!(
            SensorName::Power.message(unit(), Some("x"), false),
            Err(SensorNameError::IdWithPower)
        );
        for name in [
            SensorName::Pir,
            SensorName::Door,
            SensorName::Panic,
            SensorName::Video,
        ] {
            assert_eq!(
                name.message(unit(), None, true),
                Err(SensorNameError::RestoreNotApplicable(name))
            );
        }
        assert_eq!(
            SensorName::Door
                .message(unit(), None, true)
                .unwrap_err()
                .to_string(),
            "restore applies only to power (mains restored) and tamper (tamper restored), not to door"
        );
        assert!(matches!(
            SensorName::Door.message(unit(), Some(""), false),
            Err(SensorNameError::BadId(_))
        ));
    }
}
