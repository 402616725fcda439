//! One unit's MQTT session on the hub, as plain data.
//!
//! The session outlives connections: what the unit subscribed to, the
//! desired config the hub retains for it, down messages queued while it is
//! away and those sent but not yet acknowledged. A connection *attaches*
//! with CONNECT (taking over from an earlier connection of the same unit),
//! feeds it the unit's packets, asks it to flush after the hub queued
//! something, and *detaches* when it ends. Every call writes the packets to
//! send into `out` (plaintext MQTT) and returns what the hub must do.
//!
//! Semantics (MQTT 3.1.1, restricted to what Picket needs):
//! - CONNECT: the client id must be the unit's id (the certificate's `O=`);
//!   anything else is answered "client identifier not valid" and leaves the
//!   session untouched. Clean session discards subscriptions and queued
//!   messages (never the retained config, which is the hub's state).
//! - Subscriptions are judged by [`crate::filter::judge`]; a filter beyond
//!   the unit's prefix closes the connection (what rumqttd did, so units
//!   see the same behaviour), no SUBACK.
//! - PUBLISH from the unit must be on a topic under its prefix (ingest then
//!   checks kind and content); anything else closes the connection.
//! - Down messages go out at QoS 1, at most [`Limits::inflight`] at a time;
//!   unacknowledged ones are resent (DUP) when the unit reconnects to its
//!   persistent session. While the unit is away, at most [`Limits::queue`]
//!   wait; when full the oldest event ack goes first (a unit resends an
//!   event that was not acknowledged, and gets the ack again), then the
//!   oldest message. A newer desired config replaces a queued older one.
//! - The last will must be on the unit's own prefix to be accepted; it is
//!   handed to ingest when the connection ends without DISCONNECT, and not
//!   when another connection of the same unit took over.

use std::collections::VecDeque;
use std::sync::Arc;

use picket_proto::ids::UnitId;
use picket_proto::topic::{Topic, TopicKind};

use crate::codec::{
    self, ConnectReturn, Packet, encode_connack, encode_pingresp, encode_puback, encode_publish,
    encode_suback, encode_unsuback,
};
use crate::filter::{self, down_bit};

/// Bounds on one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Down messages sent and not yet acknowledged.
    pub inflight: usize,
    /// Down messages waiting to be sent.
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            inflight: 32,
            queue: 64,
        }
    }
}

/// A message from the unit for ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpMessage {
    /// The topic it came on (under the unit's prefix).
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Why a connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// CONNECT with another client id than the unit's.
    #[error("client id {given:?} is not the certificate's unit {unit}")]
    ClientId {
        /// The unit.
        unit: UnitId,
        /// What the client sent.
        given: String,
    },
    /// A packet before CONNECT, or a second CONNECT.
    #[error("{0} is not allowed here (CONNECT must come first, and once)")]
    OutOfOrder(&'static str),
    /// A PUBLISH outside the unit's prefix.
    #[error("publishing on {topic:?} outside the unit's prefix {prefix}")]
    ForeignTopic {
        /// The topic.
        topic: String,
        /// The unit's prefix.
        prefix: String,
    },
    /// A subscription filter the unit may not use.
    #[error(transparent)]
    Filter(#[from] filter::FilterError),
    /// The connection was replaced by a newer one of the same unit.
    #[error("another connection of the same unit took over")]
    TakenOver,
}

/// What the hub must do after a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond sending `out`.
    None,
    /// Hand this message to ingest, then call [`Session::up_accepted`] with
    /// the packet id (QoS 1) so the unit gets its PUBACK.
    Up(UpMessage, Option<u16>),
    /// The unit said DISCONNECT: close without the will.
    Disconnect,
}

/// What CONNECT did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The session was resumed.
    pub session_present: bool,
    /// The earlier connection that was replaced (close it, without will).
    pub replaced: Option<u64>,
    /// Why the will was not accepted, if it was not.
    pub will_refused: Option<String>,
}

#[derive(Debug, Clone)]
struct Down {
    kind: TopicKind,
    payload: Arc<[u8]>,
    /// Sent because of a new subscription to a retained message.
    retain: bool,
}

/// One unit's session.
#[derive(Debug)]
pub struct Session {
    unit: UnitId,
    limits: Limits,
    /// Bit mask over [`filter::DOWN_KINDS`].
    subscribed: u8,
    persistent: bool,
    retained_config: Option<Arc<[u8]>>,
    queue: VecDeque<Down>,
    inflight: VecDeque<(u16, Down)>,
    next_pid: u16,
    will: Option<Box<UpMessage>>,
    link: Option<u64>,
    dropped: u64,
}

impl Session {
    /// A session for `unit` with nothing in it.
    pub fn new(unit: UnitId, limits: Limits) -> Session {
        Session {
            unit,
            limits,
            subscribed: 0,
            persistent: false,
            retained_config: None,
            queue: VecDeque::new(),
            inflight: VecDeque::new(),
            next_pid: 1,
            will: None,
            link: None,
            dropped: 0,
        }
    }

    /// The unit.
    pub fn unit(&self) -> UnitId {
        self.unit
    }

    /// The connection attached now, if any.
    pub fn link(&self) -> Option<u64> {
        self.link
    }

    /// Whether `link` is the attached connection.
    pub fn is_current(&self, link: u64) -> bool {
        self.link == Some(link)
    }

    /// Down messages dropped from a full queue so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Down messages waiting and in flight.
    pub fn pending(&self) -> (usize, usize) {
        (self.queue.len(), self.inflight.len())
    }

    /// Handles CONNECT on connection `link`; writes CONNACK (and, for a
    /// resumed session, the resends and queued messages) into `out`.
    pub fn connect(
        &mut self,
        link: u64,
        connect: &codec::Connect<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Attached, Refusal> {
        if connect.client_id != self.unit.to_string() {
            encode_connack(out, false, ConnectReturn::BadClientId);
            return Err(Refusal::ClientId {
                unit: self.unit,
                given: connect.client_id.chars().take(64).collect(),
            });
        }
        let replaced = self.link.replace(link).filter(|old| *old != link);
        let session_present = !connect.clean_session && self.persistent && self.has_session_state();
        if !session_present {
            self.reset();
        }
        self.persistent = !connect.clean_session;
        let prefix = Topic::unit_prefix(self.unit);
        let mut will_refused = None;
        self.will = match &connect.will {
            Some(will) if will.topic.starts_with(&prefix) => Some(Box::new(UpMessage {
                topic: will.topic.to_owned(),
                payload: will.payload.to_vec(),
            })),
            Some(will) => {
                will_refused = Some(format!(
                    "last will on {:?} is outside the unit's prefix {prefix}; it will never be published",
                    will.topic.chars().take(120).collect::<String>()
                ));
                None
            }
            None => None,
        };
        encode_connack(out, session_present, ConnectReturn::Accepted);
        for (pid, down) in &self.inflight {
            let topic = Topic::new(self.unit, down.kind).to_string();
            encode_publish(out, &topic, &down.payload, Some(*pid), true, down.retain);
        }
        self.flush(out);
        Ok(Attached {
            session_present,
            replaced,
            will_refused,
        })
    }

    fn has_session_state(&self) -> bool {
        self.subscribed != 0 || !self.inflight.is_empty() || !self.queue.is_empty()
    }

    fn reset(&mut self) {
        self.subscribed = 0;
        self.queue = VecDeque::new();
        self.inflight = VecDeque::new();
    }

    /// Handles a packet from the unit on connection `link` (after its
    /// CONNECT).
    pub fn handle(
        &mut self,
        link: u64,
        packet: Packet<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Action, Refusal> {
        if !self.is_current(link) {
            return Err(Refusal::TakenOver);
        }
        match packet {
            Packet::Connect(_) => Err(Refusal::OutOfOrder("a second CONNECT")),
            Packet::Publish(publish) => {
                let prefix = Topic::unit_prefix(self.unit);
                if !publish.topic.starts_with(&prefix) {
                    return Err(Refusal::ForeignTopic {
                        topic: publish.topic.chars().take(120).collect(),
                        prefix,
                    });
                }
                let up = UpMessage {
                    topic: publish.topic.to_owned(),
                    payload: publish.payload.to_vec(),
                };
                Ok(Action::Up(up, publish.pid))
            }
            Packet::PubAck(pid) => {
                if let Some(i) = self.inflight.iter().position(|(p, _)| *p == pid) {
                    self.inflight.remove(i);
                    if self.inflight.is_empty() {
                        self.inflight = VecDeque::new();
                    }
                }
                self.flush(out);
                Ok(Action::None)
            }
            Packet::Subscribe(pid, filters) => {
                let mut codes = Vec::with_capacity(filters.len());
                let mut added = 0u8;
                for (filter, qos) in &filters {
                    added |= filter::judge(self.unit, filter)?;
                    codes.push((*qos).min(1));
                }
                encode_suback(out, pid, &codes);
                let config = down_bit(TopicKind::Config).unwrap_or(0);
                if added & config != 0
                    && let Some(payload) = self.retained_config.clone()
                {
                    self.queue.retain(|d| d.kind != TopicKind::Config);
                    self.enqueue(Down {
                        kind: TopicKind::Config,
                        payload,
                        retain: true,
                    });
                }
                self.subscribed |= added;
                self.flush(out);
                Ok(Action::None)
            }
            Packet::Unsubscribe(pid, filters) => {
                for filter in &filters {
                    // Filters are judged like SUBSCRIBE's, so a unit cannot
                    // probe others' topics this way either.
                    self.subscribed &= !filter::judge(self.unit, filter)?;
                }
                encode_unsuback(out, pid);
                Ok(Action::None)
            }
            Packet::PingReq => {
                encode_pingresp(out);
                Ok(Action::None)
            }
            Packet::Disconnect => {
                self.will = None;
                Ok(Action::Disconnect)
            }
        }
    }

    /// Ingest has taken the unit's QoS 1 message `pid`: PUBACK it.
    pub fn up_accepted(&mut self, pid: Option<u16>, out: &mut Vec<u8>) {
        if let Some(pid) = pid {
            encode_puback(out, pid);
        }
    }

    /// The hub has a message for the unit. Returns whether an attached
    /// connection should flush now.
    pub fn push(&mut self, kind: TopicKind, payload: Arc<[u8]>) -> bool {
        let Some(bit) = down_bit(kind) else {
            return false;
        };
        if kind == TopicKind::Config {
            self.retained_config = Some(payload.clone());
            self.queue.retain(|d| d.kind != TopicKind::Config);
        }
        let reachable = self.link.is_some() || self.persistent;
        if self.subscribed & bit == 0 || !reachable {
            return false;
        }
        self.enqueue(Down {
            kind,
            payload,
            retain: false,
        });
        self.link.is_some()
    }

    fn enqueue(&mut self, down: Down) {
        if self.queue.len() >= self.limits.queue {
            let victim = self
                .queue
                .iter()
                .position(|d| d.kind == TopicKind::EventAck)
                .unwrap_or(0);
            self.queue.remove(victim);
            self.dropped += 1;
        }
        self.queue.push_back(down);
    }

    /// Sends queued messages while the in-flight window has room.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        if self.link.is_none() {
            return;
        }
        while self.inflight.len() < self.limits.inflight {
            let Some(down) = self.queue.pop_front() else {
                break;
            };
            let pid = self.take_pid();
            let topic = Topic::new(self.unit, down.kind).to_string();
            encode_publish(out, &topic, &down.payload, Some(pid), false, down.retain);
            self.inflight.push_back((pid, down));
        }
        if self.queue.is_empty() {
            self.queue = VecDeque::new();
        }
    }

    fn take_pid(&mut self) -> u16 {
        loop {
            let pid = self.next_pid;
            self.next_pid = self.next_pid.checked_add(1).unwrap_or(1);
            if !self.inflight.iter().any(|(p, _)| *p == pid) {
                return pid;
            }
        }
    }

    /// Connection `link` ended; `graceful` if the unit sent DISCONNECT.
    /// Returns the last will to hand to ingest, if it is due.
    pub fn detach(&mut self, link: u64, graceful: bool) -> Option<UpMessage> {
        if !self.is_current(link) {
            // Taken over: the newer connection speaks for the unit now.
            return None;
        }
        self.link = None;
        let will = self.will.take();
        if !self.persistent {
            self.reset();
        }
        if graceful { None } else { will.map(|w| *w) }
    }
}

#[cfg(test)]
mod tests;
