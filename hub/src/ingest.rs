//! Ingest: everything units publish, decoded, checked, committed, and then
//! acknowledged.
//!
//! One thread owns the front's up channel and the store's writer.
//! It takes whatever has arrived (up to [`MAX_BATCH`] messages), decodes
//! each with `decode_on` (the message must belong to the unit whose topic
//! prefix it came on, and to that topic), commits the batch in one
//! transaction, and only then publishes the event acks. Between batches it
//! sleeps until a message arrives or the supervisor's next deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use picket_mqtt::session::UpMessage;
use picket_proto::codec::decode_on;
use picket_proto::ids::UnitId;
use picket_proto::message::{Body, CommandAck, Envelope, EventAck, UnitStatus};
use picket_proto::topic::{Direction, Topic};

use crate::clock::Clock;
use crate::publisher::{Outgoing, PublishSender};
use crate::store::{Incoming, Store};
use crate::supervision::Supervisor;

/// The most messages committed in one transaction.
pub const MAX_BATCH: usize = 512;
/// The most event ids in one ack message.
const MAX_ACK_IDS: usize = 1000;

/// Counters, readable from other tasks.
#[derive(Debug, Default)]
pub struct IngestStats {
    /// Messages from units decoded and committed.
    pub committed: AtomicU64,
    /// Messages refused (undecodable, wrong unit or topic, unknown kind).
    pub refused: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
}

/// Runs ingest on its own thread until `stop` is set.
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    rx: flume::Receiver<UpMessage>,
    store: Store,
    publisher: PublishSender,
    supervisor: Supervisor,
    debounce: Debounce,
    clock: Arc<dyn Clock>,
    stop: Arc<AtomicBool>,
    stats: Arc<IngestStats>,
    acks: tokio::sync::mpsc::UnboundedSender<(UnitId, CommandAck)>,
) -> std::io::Result<thread::JoinHandle<()>> {
    let mut ingest = Ingest {
        acks,
        debounce,
        offline_checked: None,
        tamper_checked: None,
        received: 0,
        rx,
        store,
        publisher,
        supervisor,
        clock,
        stats,
    };
    thread::Builder::new()
        .name("ingest".into())
        .spawn(move || ingest.run(&stop))
}

/// How long offline and tamper must last before they raise a queue item
/// (`[centre]` in the config).
#[derive(Debug, Clone, Copy)]
pub struct Debounce {
    /// A unit offline this long raises an `offline` item.
    pub offline: jiff::SignedDuration,
    /// A tamper not restored within this raises a `tamper` item.
    pub tamper: jiff::SignedDuration,
}

struct Ingest {
    /// Units' answers to the hub's commands, for whoever sent them.
    acks: tokio::sync::mpsc::UnboundedSender<(UnitId, CommandAck)>,
    debounce: Debounce,
    /// When offline items were last raised.
    offline_checked: Option<jiff::Timestamp>,
    /// When tamper spells were last judged.
    tamper_checked: Option<jiff::Timestamp>,
    /// Messages from units in the current batch (the batch may also hold
    /// status changes the hub derived itself).
    received: u64,
    rx: flume::Receiver<UpMessage>,
    store: Store,
    publisher: PublishSender,
    supervisor: Supervisor,
    clock: Arc<dyn Clock>,
    stats: Arc<IngestStats>,
}

impl Ingest {
    fn run(&mut self, stop: &AtomicBool) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while !stop.load(Ordering::Relaxed) {
            // Sleep until a message, the next supervision deadline, or at
            // most a second (to notice `stop`).
            let deadline = Instant::now() + self.wait_for_supervision();
            match self.rx.recv_deadline(deadline) {
                Ok(first) => {
                    self.take(first, &mut batch);
                    while batch.len() < MAX_BATCH {
                        match self.rx.try_recv() {
                            Ok(next) => self.take(next, &mut batch),
                            Err(_) => break,
                        }
                    }
                }
                Err(flume::RecvTimeoutError::Timeout) => {}
                Err(flume::RecvTimeoutError::Disconnected) => {
                    tracing::error!("the MQTT front stopped; ingest stops");
                    return;
                }
            }
            if !batch.is_empty() {
                self.commit(&mut batch);
            }
            self.supervise();
        }
    }

    fn wait_for_supervision(&self) -> Duration {
        let now = self.clock.now();
        self.supervisor
            .next_deadline()
            .map(|d| d.duration_since(now).unsigned_abs())
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(1), Duration::from_secs(1))
    }

    /// Decodes one message into the batch, or refuses it.
    fn take(&mut self, publish: UpMessage, batch: &mut Vec<Incoming>) {
        let now = self.clock.now();
        match decode_up(publish.topic.as_bytes(), &publish.payload) {
            Ok((unit, envelope)) => {
                self.received += 1;
                let back = self.supervisor.heard(unit, now);
                let says_offline = matches!(envelope.body, Body::Status(UnitStatus::Offline));
                if back && !says_offline {
                    // Anything from a unit shows it is online, even without
                    // a fresh `online` status (a stall shorter than the
                    // keep-alive does not reconnect).
                    batch.push(Incoming::Status {
                        unit,
                        status: UnitStatus::Online,
                    });
                }
                match envelope.body {
                    Body::Event(event) => batch.push(Incoming::Event { unit, event }),
                    Body::Heartbeat(hb) => batch.push(Incoming::Heartbeat {
                        unit,
                        health: hb.health,
                    }),
                    Body::ReportedState(state) => batch.push(Incoming::State { unit, state }),
                    Body::Status(status) => {
                        if status == UnitStatus::Offline {
                            self.supervisor.gone(unit);
                        }
                        batch.push(Incoming::Status { unit, status });
                    }
                    Body::CommandAck(ack) => {
                        let _ = self.acks.send((unit, ack));
                    }
                    other => {
                        tracing::debug!(%unit, kind = other.kind(), "message noted, not stored yet");
                    }
                }
            }
            Err(reason) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(topic = %publish.topic, %reason, "refused a message from a unit");
            }
        }
    }

    fn commit(&mut self, batch: &mut Vec<Incoming>) {
        let now = self.clock.now();
        match self.store.commit(batch, now) {
            Ok(acks) => {
                self.stats
                    .committed
                    .fetch_add(self.received, Ordering::Relaxed);
                self.stats.batches.fetch_add(1, Ordering::Relaxed);
                for (unit, ids) in acks {
                    for chunk in ids.chunks(MAX_ACK_IDS) {
                        self.ack(unit, chunk.to_vec());
                    }
                }
            }
            Err(e) => {
                // Nothing is acknowledged, so units send everything again.
                tracing::error!(error = %e, messages = batch.len(), "cannot commit a batch; units will resend");
            }
        }
        batch.clear();
        self.received = 0;
    }

    fn ack(&self, unit: UnitId, events: Vec<picket_proto::ids::EventId>) {
        let envelope = Envelope::new(unit, self.clock.now(), Body::EventAck(EventAck { events }));
        match Outgoing::new(&envelope) {
            Ok(out) => {
                if self.publisher.blocking_send(out).is_err() {
                    tracing::error!(%unit, "publisher stopped; ack not sent (the unit will resend)");
                }
            }
            Err(e) => tracing::error!(%unit, error = %e, "cannot encode an event ack"),
        }
    }

    fn supervise(&mut self) {
        let now = self.clock.now();
        for (unit, since) in self.supervisor.expire(now) {
            match self.store.mark_offline(unit, since) {
                Ok(true) => tracing::info!(%unit, "unit went silent: offline"),
                Ok(false) => {}
                Err(e) => tracing::error!(%unit, error = %e, "cannot mark a unit offline"),
            }
        }
        // Offline spells longer than the debounce become queue items; a
        // look every few seconds is enough for a debounce of a minute.
        let due = self
            .offline_checked
            .is_none_or(|at| now.duration_since(at) >= jiff::SignedDuration::from_secs(5));
        if due {
            self.offline_checked = Some(now);
            match self.store.raise_offline_items(now, self.debounce.offline) {
                Ok(0) => {}
                Ok(n) => tracing::info!(items = n, "offline units raised queue items"),
                Err(e) => tracing::error!(error = %e, "cannot raise offline queue items"),
            }
        }
        // Tamper is judged every second: its debounce is seconds long.
        let due = self
            .tamper_checked
            .is_none_or(|at| now.duration_since(at) >= jiff::SignedDuration::from_secs(1));
        if due {
            self.tamper_checked = Some(now);
            match self.store.raise_tamper_items(now, self.debounce.tamper) {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(items = n, "tamper lasting the debounce raised queue items")
                }
                Err(e) => tracing::error!(error = %e, "cannot raise tamper queue items"),
            }
        }
    }
}

/// Parses the topic (must be a unit's up topic) and decodes the payload
/// against it.
fn decode_up(topic: &[u8], payload: &[u8]) -> Result<(UnitId, Envelope), String> {
    let text = std::str::from_utf8(topic).map_err(|_| "topic is not UTF-8".to_owned())?;
    let topic = Topic::parse(text).map_err(|e| e.to_string())?;
    if topic.kind.direction() != Direction::Up {
        return Err(format!(
            "{topic} is a hub-to-unit topic; units may not publish on it"
        ));
    }
    let envelope = decode_on(&topic, payload).map_err(|e| e.to_string())?;
    Ok((topic.unit, envelope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_proto::codec::encode;
    use picket_proto::message::UnitStatus;
    use picket_proto::topic::TopicKind;

    fn unit(n: u8) -> UnitId {
        UnitId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
    }

    fn status(unit: UnitId) -> Vec<u8> {
        encode(&Envelope::new(
            unit,
            "2026-11-22T22:00Z".parse().unwrap(),
            Body::Status(UnitStatus::Online),
        ))
        .unwrap()
    }

    #[test]
    fn a_units_own_message_on_its_own_topic_is_accepted() {
        let topic = Topic::new(unit(1), TopicKind::Status).to_string();
        let (u, env) = decode_up(topic.as_bytes(), &status(unit(1))).unwrap();
        assert_eq!(u, unit(1));
        assert_eq!(env.body, Body::Status(UnitStatus::Online));
    }

    #[test]
    fn a_message_claiming_another_unit_is_refused() {
        let topic = Topic::new(unit(1), TopicKind::Status).to_string();
        let err = decode_up(topic.as_bytes(), &status(unit(2))).unwrap_err();
        assert!(err.contains("claims to be for unit"), "{err}");
    }

    #[test]
    fn publishing_on_a_down_topic_is_refused() {
        let topic = Topic::new(unit(1), TopicKind::Config).to_string();
        let err = decode_up(topic.as_bytes(), &status(unit(1))).unwrap_err();
        assert!(err.contains("hub-to-unit topic"), "{err}");
    }

    #[test]
    fn garbage_is_refused() {
        let topic = Topic::new(unit(1), TopicKind::Event).to_string();
        assert!(decode_up(topic.as_bytes(), b"\xff\x00garbage").is_err());
        assert!(decode_up(b"\xff\xfe", &status(unit(1))).is_err());
        assert!(decode_up(b"/tenants/x/v1/evt", &status(unit(1))).is_err());
    }
}
