//! The MQTT topic scheme, parsed and formatted only here.
//!
//! Every unit topic is `/tenants/<unit>/v1/<kind>`: the embedded broker lets
//! a unit's certificate (subject `O=<unit>`) publish and subscribe only under
//! `/tenants/<unit>/`, so unit isolation follows from the scheme. `<unit>` is
//! the unit id as 32 lowercase hex digits, exactly as [`UnitId`] prints it.
//!
//! | kind | direction | retained | carries |
//! |---|---|---|---|
//! | `evt` | unit → hub | no | [`Body::Event`](crate::message::Body::Event) |
//! | `state` | unit → hub | no | [`Body::ReportedState`](crate::message::Body::ReportedState) |
//! | `ack` | unit → hub | no | [`Body::CommandAck`](crate::message::Body::CommandAck) |
//! | `hb` | unit → hub | no | [`Body::Heartbeat`](crate::message::Body::Heartbeat) |
//! | `clip` | unit → hub | no | [`Body::ClipNotice`](crate::message::Body::ClipNotice) |
//! | `status` | unit → hub | yes (and last will) | [`Body::Status`](crate::message::Body::Status) |
//! | `cfg` | hub → unit | yes | [`Body::DesiredConfig`](crate::message::Body::DesiredConfig) |
//! | `cmd` | hub → unit | no | [`Body::Command`](crate::message::Body::Command) |
//! | `evack` | hub → unit | no | [`Body::EventAck`](crate::message::Body::EventAck) |

use std::fmt;

use crate::ids::UnitId;

/// The fixed first segment.
pub const TENANTS: &str = "tenants";
/// The topic scheme version segment.
pub const TOPIC_VERSION: &str = "v1";

/// Which way a topic's messages flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Published by the unit, read by the hub.
    Up,
    /// Published by the hub, read by the unit.
    Down,
}

/// The last segment of a unit topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TopicKind {
    /// Events (`evt`).
    Event,
    /// Reported state (`state`).
    State,
    /// Command acknowledgements (`ack`).
    CommandAck,
    /// Heartbeats with health (`hb`).
    Heartbeat,
    /// Clip notices (`clip`).
    Clip,
    /// Online/offline status, retained, also the last will (`status`).
    Status,
    /// Desired config, retained (`cfg`).
    Config,
    /// Commands (`cmd`).
    Command,
    /// The hub's acknowledgements of committed events (`evack`).
    EventAck,
}

impl TopicKind {
    /// Every kind, in table order.
    pub const ALL: [TopicKind; 9] = [
        TopicKind::Event,
        TopicKind::State,
        TopicKind::CommandAck,
        TopicKind::Heartbeat,
        TopicKind::Clip,
        TopicKind::Status,
        TopicKind::Config,
        TopicKind::Command,
        TopicKind::EventAck,
    ];

    /// The topic segment.
    pub const fn segment(self) -> &'static str {
        match self {
            TopicKind::Event => "evt",
            TopicKind::State => "state",
            TopicKind::CommandAck => "ack",
            TopicKind::Heartbeat => "hb",
            TopicKind::Clip => "clip",
            TopicKind::Status => "status",
            TopicKind::Config => "cfg",
            TopicKind::Command => "cmd",
            TopicKind::EventAck => "evack",
        }
    }

    /// Who publishes on it.
    pub const fn direction(self) -> Direction {
        match self {
            TopicKind::Config | TopicKind::Command | TopicKind::EventAck => Direction::Down,
            _ => Direction::Up,
        }
    }

    /// Whether messages on it are published retained.
    pub const fn retained(self) -> bool {
        matches!(self, TopicKind::Config | TopicKind::Status)
    }

    fn from_segment(segment: &str) -> Option<TopicKind> {
        TopicKind::ALL.into_iter().find(|k| k.segment() == segment)
    }
}

/// A concrete unit topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Topic {
    /// The unit whose prefix it is under.
    pub unit: UnitId,
    /// What it carries.
    pub kind: TopicKind,
}

/// A topic that is not one of ours, or not the expected unit's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// Not `/tenants/<unit>/v1/<kind>`.
    #[error("topic {0:?} is not a Picket unit topic (/tenants/<unit>/v1/<kind>)")]
    NotUnitTopic(String),
    /// The unit segment is not a canonical unit id.
    #[error("topic {topic:?}: {segment:?} is not a unit id (32 lowercase hex digits)")]
    BadUnit {
        /// The topic.
        topic: String,
        /// The offending segment.
        segment: String,
    },
    /// A topic scheme version we do not speak.
    #[error(
        "topic {topic:?}: topic version {version:?} is not supported (this build speaks {TOPIC_VERSION})"
    )]
    UnsupportedVersion {
        /// The topic.
        topic: String,
        /// The version segment.
        version: String,
    },
    /// A kind segment we do not know.
    #[error("topic {topic:?}: unknown message kind {kind:?}")]
    UnknownKind {
        /// The topic.
        topic: String,
        /// The kind segment.
        kind: String,
    },
    /// A valid topic, but for another unit than the one expected.
    #[error("topic {topic} belongs to unit {found}, not to {expected}")]
    OtherUnit {
        /// The topic.
        topic: String,
        /// The unit that was expected.
        expected: UnitId,
        /// The unit in the topic.
        found: UnitId,
    },
}

impl Topic {
    /// The topic of `kind` for `unit`.
    pub const fn new(unit: UnitId, kind: TopicKind) -> Topic {
        Topic { unit, kind }
    }

    /// Parses a concrete topic (no wildcards).
    pub fn parse(topic: &str) -> Result<Topic, TopicError> {
        let not_ours = || TopicError::NotUnitTopic(truncate(topic));
        let rest = topic.strip_prefix('/').ok_or_else(not_ours)?;
        let mut parts = rest.split('/');
        let (Some(tenants), Some(unit), Some(version), Some(kind), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(not_ours());
        };
        if tenants != TENANTS {
            return Err(not_ours());
        }
        let unit_id = parse_unit_segment(unit).ok_or_else(|| TopicError::BadUnit {
            topic: truncate(topic),
            segment: truncate(unit),
        })?;
        if version != TOPIC_VERSION {
            return Err(TopicError::UnsupportedVersion {
                topic: truncate(topic),
                version: truncate(version),
            });
        }
        let kind = TopicKind::from_segment(kind).ok_or_else(|| TopicError::UnknownKind {
            topic: truncate(topic),
            kind: truncate(kind),
        })?;
        Ok(Topic {
            unit: unit_id,
            kind,
        })
    }

    /// Parses a topic and requires it to be `unit`'s.
    pub fn parse_for(topic: &str, unit: UnitId) -> Result<Topic, TopicError> {
        let parsed = Topic::parse(topic)?;
        if parsed.unit != unit {
            return Err(TopicError::OtherUnit {
                topic: truncate(topic),
                expected: unit,
                found: parsed.unit,
            });
        }
        Ok(parsed)
    }

    /// The subscription filter for `kind` on every unit (the hub's view):
    /// `/tenants/+/v1/<kind>`.
    pub fn filter_all_units(kind: TopicKind) -> String {
        format!("/{TENANTS}/+/{TOPIC_VERSION}/{}", kind.segment())
    }

    /// The prefix a unit may use, `/tenants/<unit>/` (what the broker
    /// enforces from the certificate).
    pub fn unit_prefix(unit: UnitId) -> String {
        format!("/{TENANTS}/{unit}/")
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/{TENANTS}/{}/{TOPIC_VERSION}/{}",
            self.unit,
            self.kind.segment()
        )
    }
}

/// Only the canonical spelling counts: the broker compares prefixes as text.
fn parse_unit_segment(segment: &str) -> Option<UnitId> {
    let canonical = segment.len() == 32
        && segment
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if canonical {
        segment.parse().ok()
    } else {
        None
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b";
    const OTHER: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7c";

    fn unit() -> UnitId {
        UNIT.parse().unwrap()
    }

    #[test]
    fn every_kind_round_trips() {
        for kind in TopicKind::ALL {
            let topic = Topic::new(unit(), kind);
            let text = topic.to_string();
            assert_eq!(text, format!("/tenants/{UNIT}/v1/{}", kind.segment()));
            assert!(text.starts_with(&Topic::unit_prefix(unit())));
            assert_eq!(Topic::parse(&text).unwrap(), topic);
        }
    }

    #[test]
    fn another_units_topic_is_refused() {
        let err = Topic::parse_for(&format!("/tenants/{OTHER}/v1/cmd"), unit()).unwrap_err();
        assert!(matches!(err, TopicError::OtherUnit { .. }), "{err}");
        assert!(err.to_string().contains("belongs to unit"), "{err}");
    }

    #[test]
    fn malformed_topics_are_refused() {
        let cases = [
            format!("tenants/{UNIT}/v1/evt"),
            format!("/tenants/{UNIT}/v1/evt/extra"),
            format!("/tenants/{UNIT}/v1"),
            format!("/tenant/{UNIT}/v1/evt"),
            "/tenants/+/v1/evt".to_string(),
            "/tenants/#".to_string(),
            format!("/tenants/{}/v1/evt", UNIT.to_uppercase()),
            "/tenants/0190f3a4-7e5b-7c3d-8a1b-2c3d4e5f6a7b/v1/evt".to_string(),
            String::new(),
        ];
        for case in &cases {
            assert!(Topic::parse(case).is_err(), "{case} parsed");
        }
    }

    #[test]
    fn unknown_version_and_kind_say_so() {
        let err = Topic::parse(&format!("/tenants/{UNIT}/v2/evt")).unwrap_err();
        assert!(
            matches!(err, TopicError::UnsupportedVersion { .. }),
            "{err}"
        );
        let err = Topic::parse(&format!("/tenants/{UNIT}/v1/selfdestruct")).unwrap_err();
        assert!(err.to_string().contains("unknown message kind"), "{err}");
    }

    #[test]
    fn hub_filter_uses_a_single_level_wildcard() {
        assert_eq!(
            Topic::filter_all_units(TopicKind::Event),
            "/tenants/+/v1/evt"
        );
    }

    #[test]
    fn directions_and_retention() {
        assert_eq!(TopicKind::Config.direction(), Direction::Down);
        assert_eq!(TopicKind::Event.direction(), Direction::Up);
        assert!(TopicKind::Config.retained() && TopicKind::Status.retained());
        assert!(!TopicKind::Event.retained());
    }
}
