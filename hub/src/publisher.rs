//! The one task that sends messages to units through the front.
//!
//! Messages go into the unit's session (the front delivers them at QoS 1
//! and resends until the unit's PUBACK). Nothing depends on that delivery
//! alone: event acks are repeated when the unit resends an event, desired
//! config is retained and re-read on every (re)subscribe, and commands are
//! acknowledged by the unit.

use picket_proto::codec::{CodecError, encode};
use picket_proto::message::Envelope;
use picket_proto::topic::Topic;
use tokio::sync::mpsc;

use crate::front::Front;

/// A message for a unit.
#[derive(Debug)]
pub struct Outgoing {
    /// Where (derived from the envelope's unit and body).
    pub topic: Topic,
    /// The encoded envelope.
    pub payload: Vec<u8>,
}

impl Outgoing {
    /// Encodes `envelope` for the topic its body belongs on.
    pub fn new(envelope: &Envelope) -> Result<Outgoing, CodecError> {
        let kind = envelope.body.topic_kind().ok_or_else(|| {
            CodecError::Encode(format!("unknown body kind {}", envelope.body.kind()))
        })?;
        Ok(Outgoing {
            topic: Topic::new(envelope.unit, kind),
            payload: encode(envelope)?,
        })
    }
}

/// Sends [`Outgoing`] messages to the publisher task.
pub type PublishSender = mpsc::Sender<Outgoing>;

/// Starts the publisher task; it ends when every sender is dropped.
pub fn spawn(front: Front) -> PublishSender {
    let (sender, mut receiver) = mpsc::channel::<Outgoing>(4096);
    tokio::spawn(async move {
        while let Some(out) = receiver.recv().await {
            front.send(out.topic.unit, out.topic.kind, out.payload);
        }
    });
    sender
}
