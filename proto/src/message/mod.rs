//! Messages between units and the hub, in a versioned envelope.
//!
//! Every MQTT payload is one CBOR-encoded [`Envelope`]: the protocol version,
//! the sending unit (or, downwards, the addressed unit), when it was sent,
//! and a [`Body`]. See [`codec`](crate::codec) for limits and decoding rules.
//!
//! **Forward compatibility.** Within a protocol version, a newer peer may add
//! fields (older peers ignore them) and variants (older peers decode them as
//! an `Unknown` value carrying the tag, never as a panic). Anything else
//! needs a new protocol version, which older peers refuse with a clear error.

mod clip;
mod command;
mod config;
mod event;
mod open_enum;
mod state;

use jiff::Timestamp;
use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize};

pub use clip::{ClipNotice, Sha256};
pub use command::{Command, CommandAck, CommandAction, CommandError, CommandOutcome};
pub use config::{
    CameraConfig, ClipSettings, ConfigError, ConfigVersion, DesiredConfig, SensorConfig,
};
pub use event::{Event, EventAck, EventKind, PowerEvent};
pub use state::{CameraHealth, CameraStatus, Health, Heartbeat, ReportedState, UnitStatus};

use crate::ids::UnitId;
use crate::topic::TopicKind;
use open_enum::OpenEnum;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;

/// One message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Protocol version; always first on the wire so it is read first.
    pub v: u16,
    /// The unit the message is from (up) or for (down).
    pub unit: UnitId,
    /// When the sender sent it, by the sender's clock.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    pub sent_at: Timestamp,
    /// The content.
    pub body: Body,
}

impl Envelope {
    /// An envelope of the current protocol version.
    pub fn new(unit: UnitId, sent_at: Timestamp, body: Body) -> Envelope {
        Envelope {
            v: PROTOCOL_VERSION,
            unit,
            sent_at,
            body,
        }
    }
}

/// The content of a message. Each kind belongs on one topic kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Body {
    /// Up, `evt`.
    Event(Event),
    /// Up, `state`.
    ReportedState(ReportedState),
    /// Up, `ack`.
    CommandAck(CommandAck),
    /// Up, `hb`.
    Heartbeat(Heartbeat),
    /// Up, `clip`.
    ClipNotice(ClipNotice),
    /// Up, `status` (retained; last will).
    Status(UnitStatus),
    /// Down, `cfg` (retained).
    DesiredConfig(Box<DesiredConfig>),
    /// Down, `cmd`.
    Command(Command),
    /// Down, `evack`.
    EventAck(EventAck),
    /// A kind this build does not know (from a newer peer). Never encoded.
    #[serde(skip_serializing)]
    Unknown {
        /// The tag as received.
        kind: String,
    },
}

impl Body {
    /// The wire tag, e.g. `event`.
    pub fn kind(&self) -> &str {
        match self {
            Body::Event(_) => "event",
            Body::ReportedState(_) => "reported_state",
            Body::CommandAck(_) => "command_ack",
            Body::Heartbeat(_) => "heartbeat",
            Body::ClipNotice(_) => "clip_notice",
            Body::Status(_) => "status",
            Body::DesiredConfig(_) => "desired_config",
            Body::Command(_) => "command",
            Body::EventAck(_) => "event_ack",
            Body::Unknown { kind } => kind,
        }
    }

    /// The topic kind this body belongs on (`None` for unknown bodies).
    pub fn topic_kind(&self) -> Option<TopicKind> {
        Some(match self {
            Body::Event(_) => TopicKind::Event,
            Body::ReportedState(_) => TopicKind::State,
            Body::CommandAck(_) => TopicKind::CommandAck,
            Body::Heartbeat(_) => TopicKind::Heartbeat,
            Body::ClipNotice(_) => TopicKind::Clip,
            Body::Status(_) => TopicKind::Status,
            Body::DesiredConfig(_) => TopicKind::Config,
            Body::Command(_) => TopicKind::Command,
            Body::EventAck(_) => TopicKind::EventAck,
            Body::Unknown { .. } => return None,
        })
    }
}

impl OpenEnum for Body {
    const EXPECTING: &'static str = "a message body";

    fn known<'de, A: MapAccess<'de>>(tag: &str, map: &mut A) -> Result<Option<Self>, A::Error> {
        Ok(Some(match tag {
            "event" => Body::Event(map.next_value()?),
            "reported_state" => Body::ReportedState(map.next_value()?),
            "command_ack" => Body::CommandAck(map.next_value()?),
            "heartbeat" => Body::Heartbeat(map.next_value()?),
            "clip_notice" => Body::ClipNotice(map.next_value()?),
            "status" => Body::Status(map.next_value()?),
            "desired_config" => Body::DesiredConfig(map.next_value()?),
            "command" => Body::Command(map.next_value()?),
            "event_ack" => Body::EventAck(map.next_value()?),
            _ => return Ok(None),
        }))
    }

    fn unknown(kind: String) -> Self {
        Body::Unknown { kind }
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        open_enum::deserialize(d)
    }
}
