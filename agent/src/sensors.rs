//! What a sensor trigger becomes, as a pure function of the trigger and the
//! unit's state.
//!
//! - Tamper, a tamper input closing again, and power changes are always
//!   events, in every state (relocation included).
//! - A panic button always raises an alarm (a 24-hour input), except while
//!   relocating, when monitoring is paused.
//! - Motion, door and video analytics raise an alarm only while armed and
//!   only if the security level counts that kind of sensor; otherwise the
//!   trigger is recorded as activity, with no alarm.

use picket_proto::arming::ArmState;
use picket_proto::ids::CameraId;
use picket_proto::level::{SecurityLevel, SensorKind};
use picket_proto::message::{EventKind, PowerEvent};

/// One input from the hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A sensor fired.
    Sensor {
        /// Its id on the unit (`pir-1`).
        sensor: String,
        /// Its kind.
        kind: SensorKind,
        /// The camera covering it, if any.
        camera: Option<CameraId>,
    },
    /// A tamper input that fired is closed again (the enclosure or sensor
    /// is shut).
    TamperRestored {
        /// Its id on the unit (`lid`).
        sensor: String,
    },
    /// A power change.
    Power(PowerEvent),
}

/// The event a trigger makes in `state` at `level`.
pub fn classify(trigger: Trigger, state: ArmState, level: &SecurityLevel) -> EventKind {
    match trigger {
        Trigger::Power(p) => EventKind::Power(p),
        Trigger::TamperRestored { sensor } => EventKind::TamperRestored { sensor },
        Trigger::Sensor {
            sensor,
            kind,
            camera,
        } => {
            let alarm = match kind {
                SensorKind::Tamper => return EventKind::Tamper { sensor },
                SensorKind::Power => return EventKind::Power(PowerEvent::MainsLost),
                SensorKind::Panic => state != ArmState::Paused,
                _ => state == ArmState::Armed && level.counts(kind),
            };
            if alarm {
                EventKind::Alarm {
                    sensor,
                    sensor_kind: kind,
                    camera,
                    state,
                }
            } else {
                EventKind::Activity {
                    sensor,
                    sensor_kind: kind,
                    state,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pir() -> Trigger {
        Trigger::Sensor {
            sensor: "pir-1".into(),
            kind: SensorKind::Motion,
            camera: None,
        }
    }

    #[test]
    fn motion_alarms_only_while_armed() {
        let level = SecurityLevel::standard();
        assert!(matches!(
            classify(pir(), ArmState::Armed, &level),
            EventKind::Alarm { .. }
        ));
        assert!(matches!(
            classify(pir(), ArmState::Disarmed, &level),
            EventKind::Activity { .. }
        ));
        assert!(matches!(
            classify(pir(), ArmState::Paused, &level),
            EventKind::Activity { .. }
        ));
    }

    #[test]
    fn a_level_that_ignores_motion_records_activity_even_when_armed() {
        let level = SecurityLevel {
            sensors: vec![SensorKind::Door],
            ..SecurityLevel::standard()
        };
        assert!(matches!(
            classify(pir(), ArmState::Armed, &level),
            EventKind::Activity { .. }
        ));
    }

    #[test]
    fn tamper_and_power_are_always_events() {
        let level = SecurityLevel::standard();
        for state in [ArmState::Armed, ArmState::Disarmed, ArmState::Paused] {
            let tamper = Trigger::Sensor {
                sensor: "lid".into(),
                kind: SensorKind::Tamper,
                camera: None,
            };
            assert!(matches!(
                classify(tamper, state, &level),
                EventKind::Tamper { .. }
            ));
            assert_eq!(
                classify(Trigger::Power(PowerEvent::MainsLost), state, &level),
                EventKind::Power(PowerEvent::MainsLost)
            );
        }
    }

    #[test]
    fn a_tamper_restored_is_always_an_event() {
        let level = SecurityLevel::standard();
        for state in [ArmState::Armed, ArmState::Disarmed, ArmState::Paused] {
            let restored = Trigger::TamperRestored {
                sensor: "lid".into(),
            };
            assert_eq!(
                classify(restored, state, &level),
                EventKind::TamperRestored {
                    sensor: "lid".into()
                },
                "in {state:?}"
            );
        }
    }

    #[test]
    fn panic_alarms_unless_relocating() {
        let level = SecurityLevel::standard();
        let panic = || Trigger::Sensor {
            sensor: "btn".into(),
            kind: SensorKind::Panic,
            camera: None,
        };
        assert!(matches!(
            classify(panic(), ArmState::Disarmed, &level),
            EventKind::Alarm { .. }
        ));
        assert!(matches!(
            classify(panic(), ArmState::Paused, &level),
            EventKind::Activity { .. }
        ));
    }
}
