//! The codec against the MQTT 3.1.1 spec: hand-written packets decode,
//! encoders write the spec's bytes, partial input waits, everything else is
//! refused with a reason, and nothing panics.

use super::client::{
    encode_connect, encode_disconnect, encode_pingreq, encode_subscribe, encode_unsubscribe,
};
use super::*;

mod examples;
mod properties;
mod refusals;

/// The limit the hub uses in these tests (above a 64 KiB payload).
pub(super) const LIMIT: usize = 70_000;

/// CONNECT (§3.1) from "unit-1": clean session, keep-alive 60 s, a retained
/// QoS 1 will "bye" on "w/t", user name "u" and a binary password.
#[rustfmt::skip]
pub(super) const CONNECT_FULL: &[u8] = &[
    0x10, 35,
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // protocol name, level 4
    0b1110_1110, // user, password, will retain, will QoS 1, will, clean session
    0x00, 60, // keep-alive
    0x00, 0x06, b'u', b'n', b'i', b't', b'-', b'1', // client id
    0x00, 0x03, b'w', b'/', b't', // will topic
    0x00, 0x03, b'b', b'y', b'e', // will payload
    0x00, 0x01, b'u', // user name
    0x00, 0x02, 0x00, 0xff, // password
];

/// The smallest CONNECT: empty client id, clean session, no keep-alive.
#[rustfmt::skip]
pub(super) const CONNECT_MINIMAL: &[u8] = &[
    0x10, 12,
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04,
    0b0000_0010,
    0x00, 0x00,
    0x00, 0x00,
];

/// PUBLISH QoS 1 on "a/b", packet id 10, payload "hi".
#[rustfmt::skip]
pub(super) const PUBLISH_QOS1: &[u8] = &[
    0x32, 9,
    0x00, 0x03, b'a', b'/', b'b',
    0x00, 0x0a,
    b'h', b'i',
];

/// PUBLISH QoS 0 on "a/b", payload "hi".
#[rustfmt::skip]
pub(super) const PUBLISH_QOS0: &[u8] = &[
    0x30, 7,
    0x00, 0x03, b'a', b'/', b'b',
    b'h', b'i',
];

/// PUBACK for packet id 10.
pub(super) const PUBACK: &[u8] = &[0x40, 2, 0x00, 0x0a];

/// SUBSCRIBE, packet id 1: "a/+" at QoS 1 and "b/#" at QoS 0.
#[rustfmt::skip]
pub(super) const SUBSCRIBE: &[u8] = &[
    0x82, 14,
    0x00, 0x01,
    0x00, 0x03, b'a', b'/', b'+', 0x01,
    0x00, 0x03, b'b', b'/', b'#', 0x00,
];

/// UNSUBSCRIBE, packet id 2: "a/+" and "b/#".
#[rustfmt::skip]
pub(super) const UNSUBSCRIBE: &[u8] = &[
    0xa2, 12,
    0x00, 0x02,
    0x00, 0x03, b'a', b'/', b'+',
    0x00, 0x03, b'b', b'/', b'#',
];

pub(super) const PINGREQ: &[u8] = &[0xc0, 0];
pub(super) const DISCONNECT: &[u8] = &[0xe0, 0];

/// Every valid client packet above.
pub(super) const CLIENT_PACKETS: &[&[u8]] = &[
    CONNECT_FULL,
    CONNECT_MINIMAL,
    PUBLISH_QOS1,
    PUBLISH_QOS0,
    PUBACK,
    SUBSCRIBE,
    UNSUBSCRIBE,
    PINGREQ,
    DISCONNECT,
];

#[track_caller]
fn decoded(bytes: &[u8]) -> (Packet<'_>, usize) {
    match decode(bytes, LIMIT) {
        Ok(Some(decoded)) => decoded,
        other => panic!("{bytes:02x?} did not decode: {other:?}"),
    }
}

/// Asserts `decode` refuses `bytes` with `expected`, and that the error's
/// text mentions `text`.
#[track_caller]
fn refused(bytes: &[u8], expected: CodecError, text: &str) {
    let err = match decode(bytes, LIMIT) {
        Err(err) => err,
        other => panic!("{bytes:02x?} was not refused: {other:?}"),
    };
    assert_eq!(err, expected, "{bytes:02x?}");
    let shown = err.to_string();
    assert!(shown.contains(text), "{shown:?} does not say {text:?}");
}

/// A packet with a one-byte remaining length.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first, u8::try_from(body.len()).expect("short body")];
    assert!(body.len() < 128);
    out.extend_from_slice(body);
    out
}

/// CONNECT with the given protocol name and level, connect flags, and
/// what follows the keep-alive.
fn connect(name: &[u8], level: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u16::try_from(name.len()).unwrap().to_be_bytes());
    body.extend_from_slice(name);
    body.extend_from_slice(&[level, flags, 0, 60]);
    body.extend_from_slice(payload);
    packet(0x10, &body)
}

#[track_caller]
fn refused_at(bytes: &[u8], limit: usize, expected: CodecError) {
    assert_eq!(decode(bytes, limit), Err(expected));
}
