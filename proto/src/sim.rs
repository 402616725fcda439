//! The simulated-hardware protocol between `picket-sim` and an agent's
//! `sim` hardware backend (and `picket-sim trigger`): one JSON object per
//! line over a Unix socket. It lives here because the agent and the
//! simulator must agree on it and may not depend on each other.
//!
//! An agent connects and says [`SimMessage::Hello`]; the simulator forwards
//! triggers, tamper restores and power changes addressed to that unit; the
//! agent answers each with [`SimMessage::Recorded`] once it has recorded it,
//! and reports its outputs.
//! A control client's request is answered [`SimMessage::Delivered`] only when
//! the unit has recorded it.

use serde::{Deserialize, Serialize};

use crate::arming::ArmState;
use crate::ids::UnitId;
use crate::level::SensorKind;
use crate::message::PowerEvent;

/// One line of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SimMessage {
    /// Agent → simulator: "I am this unit".
    Hello {
        /// The unit.
        unit: UnitId,
    },
    /// Control → simulator → agent: a sensor fires.
    Trigger {
        /// The unit it is on.
        unit: UnitId,
        /// The sensor's id on the unit (`pir-1`).
        sensor: String,
        /// Its kind.
        kind: SensorKind,
    },
    /// Control → simulator → agent: a tamper input that fired is closed
    /// again (the unit records `tamper_restored`). Added after `trigger` and
    /// `power`: an agent older than it does not know the line.
    TamperRestored {
        /// The unit it is on.
        unit: UnitId,
        /// The tamper input's id on the unit (`tamper-1`).
        sensor: String,
    },
    /// Control → simulator → agent: mains power changes.
    Power {
        /// The unit.
        unit: UnitId,
        /// The change.
        event: PowerEvent,
    },
    /// Agent → simulator: what its outputs show now.
    Outputs {
        /// The arm state (status LED).
        state: ArmState,
        /// Siren sounding.
        siren: bool,
        /// Strobe flashing.
        strobe: bool,
    },
    /// Agent → simulator: the oldest trigger, tamper restore or power change
    /// forwarded to it and not yet answered is now recorded durably (answers come in
    /// order). Like a latched alarm input, a trigger counts only once read.
    Recorded,
    /// Simulator → control: done — the unit recorded it.
    Delivered,
    /// Simulator → control: not done, and why.
    Failed {
        /// Why.
        reason: String,
    },
}

/// The longest line either side accepts.
pub const MAX_LINE_BYTES: usize = 4096;

impl SimMessage {
    /// One line of JSON, newline-terminated.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }

    /// Parses one line.
    pub fn from_line(line: &str) -> Result<SimMessage, String> {
        if line.len() > MAX_LINE_BYTES {
            return Err(format!(
                "line of {} bytes exceeds {MAX_LINE_BYTES}",
                line.len()
            ));
        }
        serde_json::from_str(line.trim_end()).map_err(|e| format!("not a simulator message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_one_line() {
        let unit: UnitId = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b".parse().unwrap();
        let m = SimMessage::Trigger {
            unit,
            sensor: "pir-1".into(),
            kind: SensorKind::Motion,
        };
        let line = m.to_line();
        assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
        assert_eq!(SimMessage::from_line(&line).unwrap(), m);
        assert!(SimMessage::from_line("{\"nope\":1}").is_err());
    }

    #[test]
    fn tamper_restored_round_trips_and_keeps_its_shape() {
        let unit: UnitId = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b".parse().unwrap();
        let m = SimMessage::TamperRestored {
            unit,
            sensor: "tamper-1".into(),
        };
        let line = m.to_line();
        assert_eq!(
            line,
            "{\"tamper_restored\":{\"unit\":\"0190f3a47e5b7c3d8a1b2c3d4e5f6a7b\",\"sensor\":\"tamper-1\"}}\n"
        );
        assert_eq!(SimMessage::from_line(&line).unwrap(), m);
        // The existing lines are unchanged by its addition.
        let trigger = "{\"trigger\":{\"unit\":\"0190f3a47e5b7c3d8a1b2c3d4e5f6a7b\",\"sensor\":\"tamper-1\",\"kind\":\"tamper\"}}";
        assert_eq!(
            SimMessage::from_line(trigger).unwrap(),
            SimMessage::Trigger {
                unit,
                sensor: "tamper-1".into(),
                kind: SensorKind::Tamper,
            }
        );
        assert!(
            SimMessage::from_line(
                "{\"tamper_restored\":{\"unit\":\"0190f3a47e5b7c3d8a1b2c3d4e5f6a7b\"}}"
            )
            .is_err()
        );
    }
}
