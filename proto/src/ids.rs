//! Typed identifiers.
//!
//! Every id is a UUID behind its own newtype so an `EventId` can never be
//! passed where a `UnitId` is expected. Ids print as 32 lowercase hex digits
//! (no hyphens): that form is alphanumeric, which the broker's tenant prefix
//! requires of unit ids, and we use it for every id so there is one spelling.
//! Parsing also accepts the hyphenated and braced UUID forms.
//!
//! On the wire (CBOR) an id is its 16 raw bytes; in human-readable formats
//! (JSON, TOML) it is the 32-digit string.
//!
//! Generated ids are UUIDv7 (time-ordered). Generation takes the instant and
//! the random bits as arguments, because this crate never reads a clock or an
//! entropy source.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// A string was not a valid id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id {input:?}: expected a UUID (32 hex digits, hyphens optional)")]
pub struct IdError {
    /// Which kind of id was being parsed (`"unit"`, `"event"`, …).
    pub kind: &'static str,
    /// The rejected input, truncated to 64 characters.
    pub input: String,
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// Which kind of id this is, for messages.
            pub const KIND: &'static str = $kind;

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Builds a time-ordered UUIDv7 from an instant and 10 random
            /// bytes supplied by the caller (this crate reads no clock and no
            /// entropy source).
            pub fn v7(at: Timestamp, random: [u8; 10]) -> Self {
                let millis = u64::try_from(at.as_millisecond()).unwrap_or(0);
                Self(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The id's 16 bytes.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.simple(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.simple())
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, IdError> {
                Uuid::try_parse(s).map(Self).map_err(|_| IdError {
                    kind: $kind,
                    input: s.chars().take(64).collect(),
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.collect_str(self)
                } else {
                    serializer.serialize_bytes(self.0.as_bytes())
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if deserializer.is_human_readable() {
                    let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    Uuid::deserialize(deserializer).map(Self)
                }
            }
        }
    };
}

define_id!(
    /// An organisation: the operator, a customer or a partner/dealer.
    OrgId, "organisation"
);
define_id!(
    /// A person who signs in to the hub (never sent to units).
    UserId, "user"
);
define_id!(
    /// A site (a customer location; may be a sub-site of a master site).
    SiteId, "site"
);
define_id!(
    /// A unit: one agent, one MQTT identity, one certificate.
    UnitId, "unit"
);
define_id!(
    /// A camera on a unit.
    CameraId, "camera"
);
define_id!(
    /// An event, generated on the unit when it happens.
    EventId, "event"
);
define_id!(
    /// A command from the hub to a unit.
    CommandId, "command"
);
define_id!(
    /// A video clip recorded around an event.
    ClipId, "clip"
);
define_id!(
    /// One live-view upstream session from a unit's camera to the hub.
    StreamId, "stream"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_32_hex_digits_and_parses_back() {
        let id = UnitId::v7(Timestamp::from_second(1_700_000_000).unwrap(), [7; 10]);
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(text.parse::<UnitId>().unwrap(), id);
        assert_eq!(id.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn hyphenated_form_is_accepted() {
        let id: EventId = "0190f3a4-7e5b-7c3d-8a1b-2c3d4e5f6a7b".parse().unwrap();
        assert_eq!(id.to_string(), "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b");
    }

    #[test]
    fn garbage_is_refused_with_the_kind_named() {
        let err = "not-a-unit".parse::<UnitId>().unwrap_err();
        assert_eq!(err.kind, "unit");
        assert!(err.to_string().contains("invalid unit id"), "{err}");
    }

    #[test]
    fn v7_ids_sort_by_time() {
        let early = EventId::v7(Timestamp::from_second(1_700_000_000).unwrap(), [255; 10]);
        let late = EventId::v7(Timestamp::from_second(1_700_000_001).unwrap(), [0; 10]);
        assert!(early < late);
    }

    #[test]
    fn json_uses_the_string_form() {
        let id: SiteId = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b".parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"0190f3a47e5b7c3d8a1b2c3d4e5f6a7b\"");
        assert_eq!(serde_json::from_str::<SiteId>(&json).unwrap(), id);
    }
}
