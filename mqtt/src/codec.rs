//! MQTT 3.1.1 (OASIS standard, protocol level 4): the packets units use.
//!
//! [`decode`] reads one packet from the front of a buffer, borrowing topic,
//! payload and strings from it, and says how many bytes it used, or that
//! the buffer does not hold a whole packet yet. Everything a unit could
//! send that Picket does not use (QoS 2, MQTT 3.1 and 5, reserved flags,
//! packets only a server sends) is an error with a reason, and the
//! connection is closed: the spec requires it for malformed packets, and a
//! unit that sends them is not one of ours.
//!
//! The `encode_*` functions append a packet to a `Vec`.

use std::fmt;

/// The largest remaining length the spec allows (four length bytes).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// Why bytes from a client are not a packet the hub accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The remaining length is longer than four bytes.
    #[error("malformed remaining length (more than four bytes)")]
    BadLength,
    /// The packet is larger than the hub accepts.
    #[error("packet of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Its size (fixed header included).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A packet type units never send, or a reserved one.
    #[error("packet type {0} is not accepted from a client")]
    UnexpectedType(u8),
    /// The fixed header's flags are not the ones the spec requires.
    #[error("packet type {kind} with invalid flags {flags:#06b}")]
    BadFlags {
        /// The packet type.
        kind: u8,
        /// The flags.
        flags: u8,
    },
    /// The body ends before a field does, or has bytes after the last one.
    #[error("malformed {0} packet: {1}")]
    Malformed(&'static str, &'static str),
    /// A string is not UTF-8 or holds U+0000.
    #[error("malformed {0} packet: a string is not valid UTF-8 without NUL")]
    BadString(&'static str),
    /// QoS 2 (units use 0 and 1).
    #[error("QoS 2 is not supported; use QoS 0 or 1")]
    QoS2,
    /// QoS 3 does not exist.
    #[error("malformed {0} packet: QoS 3")]
    BadQoS(&'static str),
    /// Packet identifier 0 is not allowed.
    #[error("malformed {0} packet: packet identifier 0")]
    ZeroPacketId(&'static str),
    /// CONNECT with another protocol than MQTT 3.1.1.
    #[error("unsupported protocol {name:?} level {level}; units speak MQTT 3.1.1 (level 4)")]
    Protocol {
        /// The protocol name.
        name: String,
        /// The protocol level.
        level: u8,
    },
}

/// A last will, as sent in CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will<'a> {
    /// Its topic.
    pub topic: &'a str,
    /// Its payload.
    pub payload: &'a [u8],
    /// 0 or 1.
    pub qos: u8,
    /// Whether to retain it.
    pub retain: bool,
}

/// CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect<'a> {
    /// The client identifier.
    pub client_id: &'a str,
    /// Seconds; 0 turns keep-alive off.
    pub keep_alive: u16,
    /// Start a new session (true) or resume the stored one.
    pub clean_session: bool,
    /// The last will.
    pub will: Option<Will<'a>>,
    /// User name, if sent (units authenticate by certificate).
    pub username: Option<&'a str>,
    /// Password, if sent.
    pub password: Option<&'a [u8]>,
}

/// PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish<'a> {
    /// The topic (never empty, no wildcards).
    pub topic: &'a str,
    /// The payload.
    pub payload: &'a [u8],
    /// 0 or 1.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate flag (a resend).
    pub dup: bool,
    /// Packet identifier (QoS 1 only).
    pub pid: Option<u16>,
}

/// A packet from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// CONNECT.
    Connect(Connect<'a>),
    /// PUBLISH.
    Publish(Publish<'a>),
    /// PUBACK for the packet id.
    PubAck(u16),
    /// SUBSCRIBE: packet id and (filter, requested QoS) pairs.
    Subscribe(u16, Vec<(&'a str, u8)>),
    /// UNSUBSCRIBE: packet id and filters.
    Unsubscribe(u16, Vec<&'a str>),
    /// PINGREQ.
    PingReq,
    /// DISCONNECT.
    Disconnect,
}

impl Packet<'_> {
    /// The packet's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Packet::Connect(_) => "CONNECT",
            Packet::Publish(_) => "PUBLISH",
            Packet::PubAck(_) => "PUBACK",
            Packet::Subscribe(..) => "SUBSCRIBE",
            Packet::Unsubscribe(..) => "UNSUBSCRIBE",
            Packet::PingReq => "PINGREQ",
            Packet::Disconnect => "DISCONNECT",
        }
    }
}

/// CONNACK return codes (MQTT 3.1.1 §3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ConnectReturn {
    /// Connection accepted.
    Accepted = 0,
    /// Unacceptable protocol version.
    BadProtocol = 1,
    /// Identifier rejected.
    BadClientId = 2,
    /// Server unavailable.
    Unavailable = 3,
    /// Not authorized.
    NotAuthorized = 5,
}

impl fmt::Display for ConnectReturn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectReturn::Accepted => "accepted",
            ConnectReturn::BadProtocol => "unacceptable protocol version",
            ConnectReturn::BadClientId => "client identifier not valid",
            ConnectReturn::Unavailable => "server unavailable",
            ConnectReturn::NotAuthorized => "not authorized",
        })
    }
}

/// Reads the fixed header at the front of `buf`: (type and flags byte,
/// remaining length, header length), or `None` if incomplete.
fn fixed_header(buf: &[u8]) -> Result<Option<(u8, usize, usize)>, CodecError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let mut length = 0usize;
    for i in 0..4 {
        let Some(&byte) = buf.get(1 + i) else {
            return Ok(None);
        };
        length |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((first, length, 2 + i)));
        }
    }
    Err(CodecError::BadLength)
}

/// Decodes the packet at the front of `buf`: `Ok(None)` while `buf` holds
/// only part of it, otherwise the packet and how many bytes it took.
/// Packets larger than `limit` bytes are refused as soon as their header
/// says so, before the rest arrives.
pub fn decode(buf: &[u8], limit: usize) -> Result<Option<(Packet<'_>, usize)>, CodecError> {
    let Some((first, length, header)) = fixed_header(buf)? else {
        return Ok(None);
    };
    let size = header + length;
    if size > limit {
        return Err(CodecError::TooLarge { size, limit });
    }
    if buf.len() < size {
        return Ok(None);
    }
    let body = &buf[header..size];
    let (kind, flags) = (first >> 4, first & 0x0f);
    let fixed_flags = |expected: u8| {
        if flags == expected {
            Ok(())
        } else {
            Err(CodecError::BadFlags { kind, flags })
        }
    };
    let packet = match kind {
        1 => {
            fixed_flags(0)?;
            Packet::Connect(connect(body)?)
        }
        3 => Packet::Publish(publish(flags, body)?),
        4 => {
            fixed_flags(0)?;
            let mut r = Reader::new(body, "PUBACK");
            let pid = r.pid()?;
            r.end()?;
            Packet::PubAck(pid)
        }
        8 => {
            fixed_flags(0b0010)?;
            let mut r = Reader::new(body, "SUBSCRIBE");
            let pid = r.pid()?;
            let mut filters = Vec::new();
            while !r.is_empty() {
                let filter = r.string()?;
                let options = r.u8()?;
                if options & 0xfc != 0 {
                    return Err(CodecError::Malformed(
                        "SUBSCRIBE",
                        "reserved bits set in requested QoS",
                    ));
                }
                if options == 3 {
                    return Err(CodecError::BadQoS("SUBSCRIBE"));
                }
                filters.push((filter, options));
            }
            if filters.is_empty() {
                return Err(CodecError::Malformed("SUBSCRIBE", "no topic filter"));
            }
            Packet::Subscribe(pid, filters)
        }
        10 => {
            fixed_flags(0b0010)?;
            let mut r = Reader::new(body, "UNSUBSCRIBE");
            let pid = r.pid()?;
            let mut filters = Vec::new();
            while !r.is_empty() {
                filters.push(r.string()?);
            }
            if filters.is_empty() {
                return Err(CodecError::Malformed("UNSUBSCRIBE", "no topic filter"));
            }
            Packet::Unsubscribe(pid, filters)
        }
        12 | 14 => {
            fixed_flags(0)?;
            if !body.is_empty() {
                let name = if kind == 12 { "PINGREQ" } else { "DISCONNECT" };
                return Err(CodecError::Malformed(name, "non-empty body"));
            }
            if kind == 12 {
                Packet::PingReq
            } else {
                Packet::Disconnect
            }
        }
        5..=7 => return Err(CodecError::QoS2),
        other => return Err(CodecError::UnexpectedType(other)),
    };
    Ok(Some((packet, size)))
}

fn connect(body: &[u8]) -> Result<Connect<'_>, CodecError> {
    let mut r = Reader::new(body, "CONNECT");
    let name = r.string()?;
    let level = r.u8()?;
    if name != "MQTT" || level != 4 {
        return Err(CodecError::Protocol {
            name: name.chars().take(16).collect(),
            level,
        });
    }
    let flags = r.u8()?;
    if flags & 1 != 0 {
        return Err(CodecError::Malformed("CONNECT", "reserved flag set"));
    }
    let keep_alive = r.u16()?;
    let client_id = r.string()?;
    let will = if flags & 0b100 != 0 {
        let qos = (flags >> 3) & 0b11;
        match qos {
            2 => return Err(CodecError::QoS2),
            3 => return Err(CodecError::BadQoS("CONNECT")),
            _ => {}
        }
        let topic = r.string()?;
        if topic.is_empty() || topic.contains(['+', '#']) {
            return Err(CodecError::Malformed(
                "CONNECT",
                "will topic is empty or has a wildcard",
            ));
        }
        Some(Will {
            topic,
            payload: r.bytes()?,
            qos,
            retain: flags & 0b10_0000 != 0,
        })
    } else {
        if flags & 0b11_1000 != 0 {
            return Err(CodecError::Malformed(
                "CONNECT",
                "will QoS or retain set without a will",
            ));
        }
        None
    };
    let username = if flags & 0b1000_0000 != 0 {
        Some(r.string()?)
    } else {
        None
    };
    let password = if flags & 0b0100_0000 != 0 {
        if username.is_none() {
            return Err(CodecError::Malformed(
                "CONNECT",
                "password without a user name",
            ));
        }
        Some(r.bytes()?)
    } else {
        None
    };
    r.end()?;
    Ok(Connect {
        client_id,
        keep_alive,
        clean_session: flags & 0b10 != 0,
        will,
        username,
        password,
    })
}

fn publish(flags: u8, body: &[u8]) -> Result<Publish<'_>, CodecError> {
    let qos = (flags >> 1) & 0b11;
    match qos {
        2 => return Err(CodecError::QoS2),
        3 => return Err(CodecError::BadQoS("PUBLISH")),
        _ => {}
    }
    let dup = flags & 0b1000 != 0;
    if qos == 0 && dup {
        return Err(CodecError::Malformed("PUBLISH", "DUP set on QoS 0"));
    }
    let mut r = Reader::new(body, "PUBLISH");
    let topic = r.string()?;
    if topic.is_empty() {
        return Err(CodecError::Malformed("PUBLISH", "empty topic"));
    }
    if topic.contains(['+', '#']) {
        return Err(CodecError::Malformed("PUBLISH", "wildcard in topic"));
    }
    let pid = if qos == 1 { Some(r.pid()?) } else { None };
    Ok(Publish {
        topic,
        payload: r.rest(),
        qos,
        retain: flags & 1 != 0,
        dup,
        pid,
    })
}

/// Reads fields from a packet body.
struct Reader<'a> {
    buf: &'a [u8],
    packet: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], packet: &'static str) -> Reader<'a> {
        Reader { buf, packet }
    }

    fn short(&self) -> CodecError {
        CodecError::Malformed(self.packet, "body ends inside a field")
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        let (&b, rest) = self.buf.split_first().ok_or_else(|| self.short())?;
        self.buf = rest;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn pid(&mut self) -> Result<u16, CodecError> {
        match self.u16()? {
            0 => Err(CodecError::ZeroPacketId(self.packet)),
            pid => Ok(pid),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let len = usize::from(self.u16()?);
        if self.buf.len() < len {
            return Err(self.short());
        }
        let (bytes, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(bytes)
    }

    fn string(&mut self) -> Result<&'a str, CodecError> {
        let bytes = self.bytes()?;
        match std::str::from_utf8(bytes) {
            Ok(s) if !s.contains('\0') => Ok(s),
            _ => Err(CodecError::BadString(self.packet)),
        }
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    fn end(&self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError::Malformed(
                self.packet,
                "bytes after the last field",
            ))
        }
    }
}

/// Appends a fixed header.
fn header(out: &mut Vec<u8>, first: u8, mut length: usize) {
    debug_assert!(length <= MAX_REMAINING_LENGTH);
    out.push(first);
    loop {
        let mut byte = (length & 0x7f) as u8;
        length >>= 7;
        if length > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if length == 0 {
            break;
        }
    }
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s[..usize::from(len)]);
}

/// CONNACK.
pub fn encode_connack(out: &mut Vec<u8>, session_present: bool, code: ConnectReturn) {
    // A refused CONNECT never has a session (§3.2.2.2).
    let present = session_present && code == ConnectReturn::Accepted;
    out.extend_from_slice(&[0x20, 2, u8::from(present), code as u8]);
}

/// PUBLISH; `pid` for QoS 1, `None` for QoS 0. Topics longer than 65,535
/// bytes are cut (ours are under 100).
pub fn encode_publish(
    out: &mut Vec<u8>,
    topic: &str,
    payload: &[u8],
    pid: Option<u16>,
    dup: bool,
    retain: bool,
) {
    let topic = &topic.as_bytes()[..topic.len().min(usize::from(u16::MAX))];
    let mut first = 0x30 | u8::from(retain);
    if pid.is_some() {
        first |= 0b10;
        if dup {
            first |= 0b1000;
        }
    }
    let length = 2 + topic.len() + pid.map_or(0, |_| 2) + payload.len();
    header(out, first, length);
    string(out, topic);
    if let Some(pid) = pid {
        out.extend_from_slice(&pid.to_be_bytes());
    }
    out.extend_from_slice(payload);
}

/// PUBACK.
pub fn encode_puback(out: &mut Vec<u8>, pid: u16) {
    out.push(0x40);
    out.push(2);
    out.extend_from_slice(&pid.to_be_bytes());
}

/// SUBACK with one return code per filter (0 or 1: granted QoS; 0x80:
/// failure).
pub fn encode_suback(out: &mut Vec<u8>, pid: u16, codes: &[u8]) {
    header(out, 0x90, 2 + codes.len());
    out.extend_from_slice(&pid.to_be_bytes());
    out.extend_from_slice(codes);
}

/// UNSUBACK.
pub fn encode_unsuback(out: &mut Vec<u8>, pid: u16) {
    out.push(0xb0);
    out.push(2);
    out.extend_from_slice(&pid.to_be_bytes());
}

/// PINGRESP.
pub fn encode_pingresp(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xd0, 0]);
}

/// Client-side encoders, for tests and benches that play a unit.
pub mod client {
    use super::{Connect, header, string};

    /// CONNECT.
    pub fn encode_connect(out: &mut Vec<u8>, connect: &Connect<'_>) {
        let mut body = Vec::new();
        string(&mut body, b"MQTT");
        body.push(4);
        let mut flags = u8::from(connect.clean_session) << 1;
        if let Some(will) = &connect.will {
            flags |= 0b100 | (will.qos << 3) | (u8::from(will.retain) << 5);
        }
        if connect.username.is_some() {
            flags |= 0b1000_0000;
        }
        if connect.password.is_some() {
            flags |= 0b0100_0000;
        }
        body.push(flags);
        body.extend_from_slice(&connect.keep_alive.to_be_bytes());
        string(&mut body, connect.client_id.as_bytes());
        if let Some(will) = &connect.will {
            string(&mut body, will.topic.as_bytes());
            string(&mut body, will.payload);
        }
        if let Some(user) = connect.username {
            string(&mut body, user.as_bytes());
        }
        if let Some(password) = connect.password {
            string(&mut body, password);
        }
        header(out, 0x10, body.len());
        out.extend_from_slice(&body);
    }

    /// SUBSCRIBE.
    pub fn encode_subscribe(out: &mut Vec<u8>, pid: u16, filters: &[(&str, u8)]) {
        let length = 2 + filters.iter().map(|(f, _)| 3 + f.len()).sum::<usize>();
        header(out, 0x82, length);
        out.extend_from_slice(&pid.to_be_bytes());
        for (filter, qos) in filters {
            string(out, filter.as_bytes());
            out.push(*qos);
        }
    }

    /// UNSUBSCRIBE.
    pub fn encode_unsubscribe(out: &mut Vec<u8>, pid: u16, filters: &[&str]) {
        let length = 2 + filters.iter().map(|f| 2 + f.len()).sum::<usize>();
        header(out, 0xa2, length);
        out.extend_from_slice(&pid.to_be_bytes());
        for filter in filters {
            string(out, filter.as_bytes());
        }
    }

    /// PINGREQ.
    pub fn encode_pingreq(out: &mut Vec<u8>) {
        out.extend_from_slice(&[0xc0, 0]);
    }

    /// DISCONNECT.
    pub fn encode_disconnect(out: &mut Vec<u8>) {
        out.extend_from_slice(&[0xe0, 0]);
    }
}

/// A packet the hub sends, decoded (for tests and benches that play a
/// unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerPacket<'a> {
    /// CONNACK: session present, return code.
    ConnAck(bool, u8),
    /// PUBLISH.
    Publish(Publish<'a>),
    /// PUBACK.
    PubAck(u16),
    /// SUBACK: packet id, return codes.
    SubAck(u16, &'a [u8]),
    /// UNSUBACK.
    UnsubAck(u16),
    /// PINGRESP.
    PingResp,
}

/// Decodes a packet the hub sent (the client side of [`decode`]).
pub fn decode_server(buf: &[u8]) -> Result<Option<(ServerPacket<'_>, usize)>, CodecError> {
    let Some((first, length, header)) = fixed_header(buf)? else {
        return Ok(None);
    };
    let size = header + length;
    if buf.len() < size {
        return Ok(None);
    }
    let body = &buf[header..size];
    let (kind, flags) = (first >> 4, first & 0x0f);
    let two = |name| -> Result<[u8; 2], CodecError> {
        body.try_into()
            .map_err(|_| CodecError::Malformed(name, "expected two bytes"))
    };
    let packet = match kind {
        2 => {
            let [present, code] = two("CONNACK")?;
            ServerPacket::ConnAck(present == 1, code)
        }
        3 => ServerPacket::Publish(publish(flags, body)?),
        4 => ServerPacket::PubAck(u16::from_be_bytes(two("PUBACK")?)),
        9 => {
            if body.len() < 3 {
                return Err(CodecError::Malformed("SUBACK", "too short"));
            }
            ServerPacket::SubAck(u16::from_be_bytes([body[0], body[1]]), &body[2..])
        }
        11 => ServerPacket::UnsubAck(u16::from_be_bytes(two("UNSUBACK")?)),
        13 => ServerPacket::PingResp,
        other => return Err(CodecError::UnexpectedType(other)),
    };
    Ok(Some((packet, size)))
}

#[cfg(test)]
mod tests;
