//! One simulated unit: two tasks around one rumqttc client.
//!
//! - The **driver** only polls the event loop (rumqttc's `poll` is not
//!   cancel-safe, so it is never raced against a timer). It marks the unit
//!   connected on a CONNACK, reconnects with the agent's backoff, applies
//!   event acks to the outbox (recording round-trip times), and turns
//!   commands into replies for the sender.
//! - The **sender** does every publish, so the driver never waits on the
//!   client's bounded request channel (which only the driver drains). On a
//!   new connection it subscribes (unless the session was kept), announces
//!   `online` (retained) and its state, and heartbeats at once; then it
//!   sends what the outbox says is due, heartbeats, and sleeps until woken
//!   (new event, ack, reply, connection) or until the next heartbeat or
//!   resend is due.

use picket_proto::backoff::Backoff;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use picket_proto::codec::{decode_on, encode};
use picket_proto::message::{
    Body, CommandAck, CommandOutcome, Envelope, Health, Heartbeat, ReportedState, UnitStatus,
};
use picket_proto::topic::{Direction, Topic, TopicKind};
use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS, SubscribeFilter};

use super::{Shared, lock};

/// Work the sender found under the lock, done after releasing it.
#[derive(Default)]
struct Work {
    subscribe: bool,
    announce: bool,
    heartbeat: Option<Heartbeat>,
    replies: Vec<(TopicKind, Vec<u8>)>,
    events: Vec<super::outbox::Send>,
}

/// Publishes everything for unit `index` until the fleet stops.
pub(super) async fn sender(shared: Arc<Shared>, index: usize, client: AsyncClient) {
    let Some(unit) = shared.units.get(index) else {
        return;
    };
    let started = Instant::now();
    let mut seen_connection = 0u64;
    let mut heartbeat_seq = 0u64;
    let mut next_heartbeat: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let mut work = Work::default();
        let deadline;
        {
            let mut st = lock(&unit.state);
            if st.connected {
                if st.connection != seen_connection {
                    seen_connection = st.connection;
                    work.subscribe = !st.session_present;
                    work.announce = true;
                    next_heartbeat = Some(now);
                }
                work.replies = std::mem::take(&mut st.replies);
                if next_heartbeat.is_some_and(|t| t <= now) {
                    heartbeat_seq += 1;
                    work.heartbeat = Some(Heartbeat {
                        seq: heartbeat_seq,
                        uptime_s: now.duration_since(started).as_secs(),
                        health: Health {
                            outbox_events: u32::try_from(st.outbox.len()).unwrap_or(u32::MAX),
                            ..Health::default()
                        },
                    });
                    next_heartbeat = Some(now + shared.heartbeat);
                }
                work.events = st.outbox.due(now);
            } else {
                next_heartbeat = None;
            }
            deadline = match (next_heartbeat, st.outbox.next_resend()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if publish_work(&shared, unit.id, &client, work).await.is_err() {
            return; // the event loop is gone: the fleet is stopping
        }
        match deadline {
            Some(at) => {
                tokio::select! {
                    _ = unit.wake.notified() => {}
                    _ = tokio::time::sleep_until(at.into()) => {}
                }
            }
            None => unit.wake.notified().await,
        }
    }
}

async fn publish_work(
    shared: &Shared,
    unit: picket_proto::ids::UnitId,
    client: &AsyncClient,
    work: Work,
) -> Result<(), rumqttc::ClientError> {
    let now = Timestamp::now();
    let topic = |kind| Topic::new(unit, kind).to_string();
    if work.subscribe {
        let filters = TopicKind::ALL
            .into_iter()
            .filter(|k| k.direction() == Direction::Down)
            .map(|k| SubscribeFilter::new(topic(k), QoS::AtLeastOnce));
        client.subscribe_many(filters).await?;
    }
    if work.announce {
        if let Some(online) = envelope(unit, now, Body::Status(UnitStatus::Online)) {
            client
                .publish(topic(TopicKind::Status), QoS::AtLeastOnce, true, online)
                .await?;
        }
        let state = ReportedState {
            applied_config: None,
            config_error: None,
            state: picket_proto::arming::ArmState::Disarmed,
            reason: "fleet simulator: no config applied".to_owned(),
            changes_at: None,
            relocation: picket_proto::relocation::RelocationState::Active,
        };
        if let Some(state) = envelope(unit, now, Body::ReportedState(state)) {
            client
                .publish(topic(TopicKind::State), QoS::AtLeastOnce, false, state)
                .await?;
        }
    }
    if let Some(hb) = work.heartbeat
        && let Some(hb) = envelope(unit, now, Body::Heartbeat(hb))
    {
        client
            .publish(topic(TopicKind::Heartbeat), QoS::AtMostOnce, false, hb)
            .await?;
        shared.counters.heartbeats.fetch_add(1, Ordering::Relaxed);
    }
    for (kind, payload) in work.replies {
        client
            .publish(topic(kind), QoS::AtLeastOnce, false, payload)
            .await?;
    }
    let event_topic = topic(TopicKind::Event);
    for send in work.events {
        let counter = if send.resend {
            &shared.counters.resent
        } else {
            &shared.counters.sent
        };
        counter.fetch_add(1, Ordering::Relaxed);
        client
            .publish(event_topic.as_str(), QoS::AtLeastOnce, false, send.payload)
            .await?;
    }
    Ok(())
}

/// Encodes a message from `unit`; logs (never panics) if it cannot.
pub(super) fn envelope(
    unit: picket_proto::ids::UnitId,
    at: Timestamp,
    body: Body,
) -> Option<Vec<u8>> {
    match encode(&Envelope::new(unit, at, body)) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            tracing::error!(%unit, error = %e, "cannot encode a message");
            None
        }
    }
}

/// Polls unit `index`'s event loop until the fleet stops; first waits
/// `delay` (the fleet's connect spread).
pub(super) async fn driver(
    shared: Arc<Shared>,
    index: usize,
    mut eventloop: EventLoop,
    delay: Duration,
) {
    let Some(unit) = shared.units.get(index) else {
        return;
    };
    tokio::time::sleep(delay).await;
    let mut backoff = Backoff::default();
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                backoff.reset();
                {
                    let mut st = lock(&unit.state);
                    st.connected = true;
                    st.connection += 1;
                    st.session_present = ack.session_present;
                    st.outbox.connected();
                }
                shared.counters.connected.fetch_add(1, Ordering::Relaxed);
                shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                shared.connect_notify.notify_waiters();
                unit.wake.notify_one();
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                on_message(&shared, index, &p.topic, &p.payload);
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                if shared.stopping.load(Ordering::Relaxed) {
                    mark_disconnected(&shared, index);
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                let was_connected = mark_disconnected(&shared, index);
                if shared.stopping.load(Ordering::Relaxed) {
                    return;
                }
                let counter = if was_connected {
                    &shared.counters.disconnects
                } else {
                    &shared.counters.connect_failures
                };
                counter.fetch_add(1, Ordering::Relaxed);
                *lock(&shared.last_error) = Some(format!("unit {}: {e}", unit.id));
                tracing::debug!(unit = %unit.id, error = %e, was_connected, "connection lost; retrying");
                tokio::time::sleep(backoff.next_delay(jitter())).await;
            }
        }
    }
}

/// Returns whether the unit was connected.
fn mark_disconnected(shared: &Shared, index: usize) -> bool {
    let Some(unit) = shared.units.get(index) else {
        return false;
    };
    let was = {
        let mut st = lock(&unit.state);
        let was = st.connected;
        st.connected = false;
        st.outbox.disconnected();
        was
    };
    if was {
        shared.counters.connected.fetch_sub(1, Ordering::Relaxed);
        shared.connect_notify.notify_waiters();
    }
    was
}

fn refuse(shared: &Shared, reason: String) {
    shared.counters.refused.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(%reason, "refused a message from the hub");
    *lock(&shared.last_error) = Some(reason);
}

/// A message from the hub for unit `index`.
fn on_message(shared: &Shared, index: usize, topic: &str, payload: &[u8]) {
    let Some(unit) = shared.units.get(index) else {
        return;
    };
    let topic = match Topic::parse_for(topic, unit.id) {
        Ok(t) if t.kind.direction() == Direction::Down => t,
        Ok(t) => return refuse(shared, format!("{t} is not a hub-to-unit topic")),
        Err(e) => return refuse(shared, e.to_string()),
    };
    let message = match decode_on(&topic, payload) {
        Ok(message) => message,
        Err(e) => return refuse(shared, format!("on {topic}: {e}")),
    };
    match message.body {
        Body::EventAck(ack) => {
            let now = Instant::now();
            let (acked, more) = {
                let mut st = lock(&unit.state);
                let acked = st.outbox.ack(&ack.events, now);
                (acked, st.outbox.has_room_and_waiting())
            };
            let n = acked.latencies.len() as u64;
            if n > 0 {
                let mut latency = lock(&shared.latency);
                for l in &acked.latencies {
                    latency.total.record(*l);
                    latency.interval.record(*l);
                }
            }
            let c = &shared.counters;
            c.acked.fetch_add(n, Ordering::Relaxed);
            c.outstanding.fetch_sub(n, Ordering::Relaxed);
            c.duplicate_acks
                .fetch_add(acked.unknown as u64, Ordering::Relaxed);
            shared.ack_notify.notify_waiters();
            if more {
                unit.wake.notify_one();
            }
        }
        Body::DesiredConfig(config) => {
            shared.counters.configs.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(unit = %unit.id, version = %config.version, "desired config received; reporting it applied (not enforced: simulator)");
            // Report the version as applied, as an agent does once it has
            // stored the config, so the hub's "pending" clears and a bench
            // can time confirmation. The simulator arms nothing.
            let state = ReportedState {
                applied_config: Some(config.version),
                config_error: None,
                state: picket_proto::arming::ArmState::Disarmed,
                reason: format!(
                    "fleet simulator: config {} accepted, not enforced",
                    config.version
                ),
                changes_at: None,
                relocation: picket_proto::relocation::RelocationState::Active,
            };
            if let Some(reply) = envelope(unit.id, Timestamp::now(), Body::ReportedState(state)) {
                lock(&unit.state).replies.push((TopicKind::State, reply));
                unit.wake.notify_one();
            }
        }
        Body::Command(command) => {
            shared.counters.commands.fetch_add(1, Ordering::Relaxed);
            let now = Timestamp::now();
            let outcome = match command.check(now) {
                Err(e) => CommandOutcome::from(&e),
                Ok(()) => CommandOutcome::Unsupported,
            };
            let ack = CommandAck {
                command: command.id,
                at: now,
                outcome,
            };
            if let Some(reply) = envelope(unit.id, now, Body::CommandAck(ack)) {
                lock(&unit.state)
                    .replies
                    .push((TopicKind::CommandAck, reply));
                unit.wake.notify_one();
            }
        }
        other => refuse(
            shared,
            format!("unexpected {} message on {topic}", other.kind()),
        ),
    }
}

/// Random bits for the backoff's jitter.
fn jitter() -> u16 {
    let mut r = [0u8; 2];
    let _ = getrandom::fill(&mut r);
    u16::from_le_bytes(r)
}
