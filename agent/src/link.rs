//! The MQTT link to the hub: one task that keeps the connection up
//! (mTLS, persistent session, reconnect with backoff and jitter) and one
//! that forwards the core's messages to it.

use std::sync::Arc;
use std::time::Duration;

use picket_proto::backoff::Backoff;
use picket_proto::codec::{MAX_MESSAGE_BYTES, encode};
use picket_proto::ids::UnitId;
use picket_proto::message::{Body, Envelope, UnitStatus};
use picket_proto::topic::{Direction, Topic, TopicKind};
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, Packet, QoS, TlsConfiguration, Transport,
};
use tokio::sync::mpsc;

use crate::clock::Clock;

/// What the link tells the core.
#[derive(Debug)]
pub enum LinkEvent {
    /// Connected (again); subscriptions are in place.
    Connected,
    /// The connection dropped; the link is retrying.
    Disconnected(String),
    /// A message from the hub.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
    },
}

/// A message for the hub.
#[derive(Debug)]
pub struct Outgoing {
    /// Topic.
    pub topic: Topic,
    /// Encoded envelope.
    pub payload: Vec<u8>,
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// This unit.
    pub unit: UnitId,
    /// Hub host.
    pub host: String,
    /// Hub MQTT port.
    pub port: u16,
    /// TLS client configuration.
    pub tls: Arc<rustls::ClientConfig>,
    /// MQTT keep-alive.
    pub keep_alive: Duration,
}

/// Starts the link. Returns the sender for outgoing messages; events arrive
/// on `events`.
pub fn spawn(
    settings: LinkSettings,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<LinkEvent>,
) -> mpsc::Sender<Outgoing> {
    let unit = settings.unit;
    let mut options = MqttOptions::new(unit.to_string(), settings.host.clone(), settings.port);
    options
        .set_keep_alive(settings.keep_alive)
        .set_clean_session(false)
        .set_max_packet_size(MAX_MESSAGE_BYTES + 1024, MAX_MESSAGE_BYTES + 1024)
        .set_transport(Transport::Tls(TlsConfiguration::Rustls(
            settings.tls.clone(),
        )));
    let will = status_payload(unit, UnitStatus::Offline, clock.as_ref());
    options.set_last_will(LastWill::new(
        Topic::new(unit, TopicKind::Status).to_string(),
        will,
        QoS::AtLeastOnce,
        true,
    ));
    let (client, mut eventloop) = AsyncClient::new(options, 256);
    // Small packets (an event, the PUBACK of an ack) must not wait for Nagle.
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(256);
    let publisher = client.clone();
    tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            let retain = out.topic.kind.retained();
            if let Err(e) = publisher
                .publish(out.topic.to_string(), QoS::AtLeastOnce, retain, out.payload)
                .await
            {
                tracing::warn!(error = %e, "cannot queue a message for the hub");
            }
        }
    });
    tokio::spawn(drive(eventloop, client, unit, clock, events));
    out_tx
}

fn status_payload(unit: UnitId, status: UnitStatus, clock: &dyn Clock) -> Vec<u8> {
    encode(&Envelope::new(unit, clock.now(), Body::Status(status))).unwrap_or_default()
}

async fn drive(
    mut eventloop: EventLoop,
    client: AsyncClient,
    unit: UnitId,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<LinkEvent>,
) {
    let mut backoff = Backoff::default();
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                backoff.reset();
                if !ack.session_present {
                    for kind in TopicKind::ALL {
                        if kind.direction() == Direction::Down {
                            let topic = Topic::new(unit, kind).to_string();
                            if let Err(e) = client.subscribe(topic, QoS::AtLeastOnce).await {
                                tracing::warn!(error = %e, "cannot subscribe");
                            }
                        }
                    }
                }
                let online = status_payload(unit, UnitStatus::Online, clock.as_ref());
                let topic = Topic::new(unit, TopicKind::Status).to_string();
                if let Err(e) = client.publish(topic, QoS::AtLeastOnce, true, online).await {
                    tracing::warn!(error = %e, "cannot announce online status");
                }
                tracing::info!(
                    session_present = ack.session_present,
                    "connected to the hub"
                );
                if events.send(LinkEvent::Connected).await.is_err() {
                    return;
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let topic = p.topic.clone();
                let message = LinkEvent::Message {
                    topic,
                    payload: p.payload.to_vec(),
                };
                if events.send(message).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                let reason = e.to_string();
                tracing::warn!(error = %reason, "hub connection lost; retrying");
                if events.send(LinkEvent::Disconnected(reason)).await.is_err() {
                    return;
                }
                tokio::time::sleep(backoff.next_delay(jitter())).await;
            }
        }
    }
}

/// Random bits for the backoff's jitter.
fn jitter() -> u16 {
    let mut r = [0u8; 2];
    let _ = getrandom::fill(&mut r);
    u16::from_le_bytes(r)
}
