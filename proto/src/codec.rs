//! CBOR encoding and decoding of [`Envelope`]s, with limits.
//!
//! CBOR goes through serde with `ciborium`, a maintained crate (the older
//! `serde_cbor` is unmaintained: RUSTSEC-2021-0127).
//!
//! Decoding refuses, each with its own [`CodecError`]:
//! - payloads over [`MAX_MESSAGE_BYTES`], before parsing anything;
//! - a protocol version other than [`PROTOCOL_VERSION`], before decoding the
//!   body (whose shape a newer version may have changed);
//! - anything that is not one well-formed envelope: bad CBOR, missing or
//!   mistyped fields, invalid schedules or disarms, trailing bytes, nesting
//!   deeper than [`MAX_NESTING`];
//! - with [`decode_on`], a message whose unit is not the topic's unit, or
//!   whose kind does not belong on that topic, or that this build does not
//!   know.

use crate::ids::UnitId;
use crate::message::{Envelope, PROTOCOL_VERSION};
use crate::topic::Topic;

/// The largest payload we encode or decode.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The deepest nesting of arrays and maps we decode.
pub const MAX_NESTING: usize = 32;

/// A message that could not be encoded or was refused on decoding.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// Over the size limit.
    #[error("message of {len} bytes exceeds the limit of {MAX_MESSAGE_BYTES} bytes")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// Not one well-formed envelope.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// Another protocol version.
    #[error(
        "protocol version {0} is not supported (this build speaks version {PROTOCOL_VERSION}); \
         update the older side"
    )]
    UnsupportedVersion(u64),
    /// A body kind this build does not know.
    #[error("unknown message kind {0:?} on {1} (sent by newer software?); ignored")]
    UnknownKind(String, String),
    /// The envelope names another unit than the topic.
    #[error("message on {topic} claims to be for unit {claimed}")]
    WrongUnit {
        /// The topic it came on.
        topic: String,
        /// The unit in the envelope.
        claimed: UnitId,
    },
    /// The body does not belong on this topic.
    #[error("a {kind} message does not belong on {topic}")]
    WrongTopic {
        /// The topic it came on.
        topic: String,
        /// The body's kind.
        kind: String,
    },
    /// The envelope cannot be encoded.
    #[error("cannot encode message: {0}")]
    Encode(String),
}

/// Encodes an envelope; refuses unknown bodies and oversize results.
pub fn encode(envelope: &Envelope) -> Result<Vec<u8>, CodecError> {
    if envelope.body.topic_kind().is_none() {
        return Err(CodecError::Encode(format!(
            "a message of unknown kind {:?} cannot be sent",
            envelope.body.kind()
        )));
    }
    let mut out = Vec::with_capacity(128);
    ciborium::into_writer(envelope, &mut out).map_err(|e| CodecError::Encode(e.to_string()))?;
    if out.len() > MAX_MESSAGE_BYTES {
        return Err(CodecError::TooLarge { len: out.len() });
    }
    Ok(out)
}

/// Decodes one envelope. An unknown body kind decodes as
/// [`Body::Unknown`](crate::message::Body::Unknown).
pub fn decode(bytes: &[u8]) -> Result<Envelope, CodecError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(CodecError::TooLarge { len: bytes.len() });
    }
    let version = peek_version(bytes)?;
    if version != u64::from(PROTOCOL_VERSION) {
        return Err(CodecError::UnsupportedVersion(version));
    }
    let mut rest = bytes;
    let envelope: Envelope =
        ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_NESTING).map_err(describe)?;
    if !rest.is_empty() {
        return Err(CodecError::Malformed(format!(
            "{} bytes after the end of the message",
            rest.len()
        )));
    }
    Ok(envelope)
}

/// Decodes a message received on `topic` and checks that it belongs there:
/// same unit as the topic, a kind this build knows, and the topic kind that
/// kind is sent on.
pub fn decode_on(topic: &Topic, bytes: &[u8]) -> Result<Envelope, CodecError> {
    let envelope = decode(bytes)?;
    if envelope.unit != topic.unit {
        return Err(CodecError::WrongUnit {
            topic: topic.to_string(),
            claimed: envelope.unit,
        });
    }
    match envelope.body.topic_kind() {
        None => Err(CodecError::UnknownKind(
            envelope.body.kind().to_owned(),
            topic.to_string(),
        )),
        Some(kind) if kind != topic.kind => Err(CodecError::WrongTopic {
            topic: topic.to_string(),
            kind: envelope.body.kind().to_owned(),
        }),
        Some(_) => Ok(envelope),
    }
}

/// Reads the protocol version without decoding the rest.
///
/// Our encoder writes `v` first, so the fast path reads the first map entry
/// directly; any other layout falls back to a serde pass that skips all other
/// fields.
fn peek_version(bytes: &[u8]) -> Result<u64, CodecError> {
    // A map of up to 23 entries (0xa0..=0xb7), then the one-letter text "v".
    if let [0xa0..=0xb7, 0x61, b'v', rest @ ..] = bytes {
        match rest {
            [n @ 0x00..=0x17, ..] => return Ok(u64::from(*n)),
            [0x18, n, ..] => return Ok(u64::from(*n)),
            [0x19, a, b, ..] => return Ok(u64::from(u16::from_be_bytes([*a, *b]))),
            _ => {}
        }
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        v: u64,
    }
    let probe: Probe =
        ciborium::de::from_reader_with_recursion_limit(bytes, MAX_NESTING).map_err(describe)?;
    Ok(probe.v)
}

fn describe(err: ciborium::de::Error<std::io::Error>) -> CodecError {
    use ciborium::de::Error;
    CodecError::Malformed(match err {
        Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated: the message ends in the middle of a value".to_owned()
        }
        Error::Io(e) => format!("read error: {e}"),
        Error::Syntax(at) => format!("invalid CBOR at byte {at}"),
        Error::Semantic(Some(at), msg) => format!("{msg} (at byte {at})"),
        Error::Semantic(None, msg) => msg,
        Error::RecursionLimitExceeded => format!("nested deeper than {MAX_NESTING} levels"),
    })
}
