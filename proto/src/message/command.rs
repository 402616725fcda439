//! Commands from the hub to a unit, and the unit's answers.
//!
//! Every command carries an id and an expiry. A unit that receives a command
//! after its expiry (it was offline, or its queue was slow) refuses it and
//! says so in its ack, rather than acting on a stale instruction.

use jiff::Timestamp;
use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize};

use super::open_enum::{self, OpenEnum};
use crate::ids::{CameraId, CommandId, StreamId};

/// A command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Unique id; the ack names it.
    pub id: CommandId,
    /// When the hub issued it.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    pub issued_at: Timestamp,
    /// After this instant the unit must refuse it.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    pub expires_at: Timestamp,
    /// What to do.
    pub action: CommandAction,
}

/// What a command asks for. An action from a newer hub decodes as
/// [`CommandAction::Unknown`], which the unit refuses as unsupported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CommandAction {
    /// Start sending a camera's live video to the hub's relay.
    LiveViewStart {
        /// Which camera.
        camera: CameraId,
        /// The upstream session the relay expects.
        stream: StreamId,
        /// Where to dial out to: an `https://` relay, or empty for the
        /// hub's units' HTTPS the unit is configured with.
        relay: String,
    },
    /// Stop a live upstream.
    LiveViewStop {
        /// Which camera.
        camera: CameraId,
        /// The session to end.
        stream: StreamId,
    },
    /// Publish the reported state now.
    ReportState,
    /// An action this build does not know (from a newer peer).
    #[serde(skip_serializing)]
    Unknown {
        /// The tag as received.
        action: String,
    },
}

#[derive(Deserialize)]
struct StartPayload {
    camera: CameraId,
    stream: StreamId,
    relay: String,
}

#[derive(Deserialize)]
struct StopPayload {
    camera: CameraId,
    stream: StreamId,
}

impl OpenEnum for CommandAction {
    const EXPECTING: &'static str = "a command action";

    fn known<'de, A: MapAccess<'de>>(tag: &str, map: &mut A) -> Result<Option<Self>, A::Error> {
        Ok(Some(match tag {
            "live_view_start" => {
                let p: StartPayload = map.next_value()?;
                CommandAction::LiveViewStart {
                    camera: p.camera,
                    stream: p.stream,
                    relay: p.relay,
                }
            }
            "live_view_stop" => {
                let p: StopPayload = map.next_value()?;
                CommandAction::LiveViewStop {
                    camera: p.camera,
                    stream: p.stream,
                }
            }
            // A unit variant may also come as {"report_state": null}.
            "report_state" => {
                map.next_value::<serde::de::IgnoredAny>()?;
                CommandAction::ReportState
            }
            _ => return Ok(None),
        }))
    }

    fn unit_variant(tag: &str) -> Option<Self> {
        (tag == "report_state").then_some(CommandAction::ReportState)
    }

    fn unknown(action: String) -> Self {
        CommandAction::Unknown { action }
    }
}

impl<'de> Deserialize<'de> for CommandAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        open_enum::deserialize(d)
    }
}

/// A command that must not be carried out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// Received after its expiry.
    #[error(
        "command {id} expired at {expired_at} and was received at {received_at}; it was not carried out"
    )]
    Expired {
        /// The command.
        id: CommandId,
        /// Its expiry.
        expired_at: Timestamp,
        /// When the unit got it.
        received_at: Timestamp,
    },
    /// This build does not know the action.
    #[error("command {id}: action {action:?} is not supported by this unit's software")]
    Unsupported {
        /// The command.
        id: CommandId,
        /// The action's tag.
        action: String,
    },
}

impl Command {
    /// Whether the command may be carried out when received at `now`.
    pub fn check(&self, now: Timestamp) -> Result<(), CommandError> {
        if now >= self.expires_at {
            return Err(CommandError::Expired {
                id: self.id,
                expired_at: self.expires_at,
                received_at: now,
            });
        }
        if let CommandAction::Unknown { action } = &self.action {
            return Err(CommandError::Unsupported {
                id: self.id,
                action: action.clone(),
            });
        }
        Ok(())
    }
}

/// The unit's answer to a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAck {
    /// The command answered.
    pub command: CommandId,
    /// When the unit decided.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    pub at: Timestamp,
    /// What came of it.
    pub outcome: CommandOutcome,
}

/// What came of a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CommandOutcome {
    /// Carried out.
    Done,
    /// Received too late; not carried out.
    Expired,
    /// Not supported by this unit; not carried out.
    Unsupported,
    /// Tried and failed, with the reason.
    Failed(String),
}

impl From<&CommandError> for CommandOutcome {
    fn from(err: &CommandError) -> CommandOutcome {
        match err {
            CommandError::Expired { .. } => CommandOutcome::Expired,
            CommandError::Unsupported { .. } => CommandOutcome::Unsupported,
        }
    }
}
