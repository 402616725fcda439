//! Clip notices: a clip was recorded and is ready to upload.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{CameraId, ClipId, EventId};

/// A clip recorded around an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipNotice {
    /// The clip.
    pub clip: ClipId,
    /// The event it was recorded for.
    pub event: EventId,
    /// The camera.
    pub camera: CameraId,
    /// First frame's instant.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    pub starts_at: Timestamp,
    /// Last frame's instant.
    #[serde(with = "jiff::fmt::serde::timestamp::millisecond::required")]
    pub ends_at: Timestamp,
    /// File size.
    pub bytes: u64,
    /// SHA-256 of the file, checked by the hub after upload.
    pub sha256: Sha256,
}

/// A SHA-256 digest: raw bytes in CBOR, hex in human-readable formats.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256(pub [u8; 32]);

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({self})")
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Sha256;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 digest (32 bytes or 64 hex digits)")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Sha256, E> {
                <[u8; 32]>::try_from(v)
                    .map(Sha256)
                    .map_err(|_| E::invalid_length(v.len(), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sha256, E> {
                let bytes = v.as_bytes();
                if bytes.len() != 64 {
                    return Err(E::invalid_length(bytes.len(), &self));
                }
                let mut out = [0u8; 32];
                for (i, pair) in bytes.chunks(2).enumerate() {
                    let text = std::str::from_utf8(pair).map_err(E::custom)?;
                    out[i] = u8::from_str_radix(text, 16)
                        .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))?;
                }
                Ok(Sha256(out))
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(V)
        } else {
            deserializer.deserialize_bytes(V)
        }
    }
}
