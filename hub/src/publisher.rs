//! The one task that publishes to units through the hub's broker link.
//!
//! rumqttd's in-process link hands messages to the router without a PUBACK
//! of its own; the router delivers them to each unit at the unit's
//! subscription QoS (1, with the unit's PUBACK). Nothing depends on that
//! delivery alone: event acks are repeated when the unit resends an event,
//! desired config is retained and re-read on every (re)subscribe, and
//! commands are acknowledged by the unit.

use picket_proto::codec::{CodecError, encode};
use picket_proto::message::Envelope;
use picket_proto::topic::Topic;
use rumqttd::local::LinkTx;
use rumqttd::protocol::{Packet, Publish};
use tokio::sync::mpsc;

/// A message for a unit.
#[derive(Debug)]
pub struct Outgoing {
    /// Where (derived from the envelope's unit and body).
    pub topic: Topic,
    /// The encoded envelope.
    pub payload: Vec<u8>,
    /// Retained (desired config).
    pub retain: bool,
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
            retain: kind.retained(),
        })
    }
}

/// Sends [`Outgoing`] messages to the publisher task.
pub type PublishSender = mpsc::Sender<Outgoing>;

/// Starts the publisher task; it ends when every sender is dropped.
pub fn spawn(mut tx: LinkTx) -> PublishSender {
    let (sender, mut receiver) = mpsc::channel::<Outgoing>(4096);
    tokio::spawn(async move {
        while let Some(out) = receiver.recv().await {
            let topic = out.topic.to_string().into_bytes();
            let publish = Publish::new(topic, out.payload, out.retain);
            if let Err(e) = tx.send(Packet::Publish(publish, None)).await {
                tracing::error!(topic = %out.topic, error = %e, "cannot publish to the broker");
            }
        }
    });
    sender
}
