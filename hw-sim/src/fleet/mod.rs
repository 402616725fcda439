//! A fleet of simulated units in one process, speaking the agent's MQTT
//! protocol to a hub — for load tests and benchmarks.
//!
//! Each unit connects like `picket-agent` does (`agent/src/link.rs`):
//! mutual TLS with its own certificate, client id = unit id, a persistent
//! session (`clean_session = false`), a retained `offline` status as its last
//! will; after the CONNACK it subscribes to its `cfg`, `cmd` and `evack`
//! topics (unless the broker kept the session), publishes a retained
//! `online` status and its reported state, and heartbeats every
//! [`FleetConfig::heartbeat`]. What it leaves out is the agent's SQLite: the
//! outbox is in memory ([`outbox::Outbox`], same rules as the agent's drain),
//! desired configs are counted and reported applied at once (not enforced:
//! the simulator arms nothing), and commands are answered `unsupported` (or `expired`).
//!
//! The caller fires events with [`Fleet::send_event`]: a proper
//! [`Event`](picket_proto::message::Event) (UUIDv7 id, per-unit `seq` from 1,
//! `at` = now) in an [`Envelope`](picket_proto::message::Envelope), published
//! at QoS 1 on `/tenants/<unit>/v1/evt` as the unit's window allows. When the
//! hub's `event_ack` names it, the time from its first send to the ack goes
//! into a [`LatencyHistogram`]. Events not acknowledged within
//! [`FleetConfig::resend_after`] are sent again, so a lost ack (the hub sends
//! acks at QoS 0) delays an event but never hangs a benchmark.
//!
//! ```no_run
//! # async fn demo(units: Vec<picket_sim::fleet::FleetUnit>) -> Result<(), picket_sim::fleet::FleetError> {
//! use std::time::Duration;
//! use picket_sim::fleet::{Fleet, FleetConfig, alarm};
//!
//! let fleet = Fleet::start(FleetConfig::new("127.0.0.1:8883", units))?;
//! fleet.wait_connected(fleet.len(), Duration::from_secs(30)).await;
//! fleet.send_event(0, alarm())?;
//! fleet.wait_all_acked(Duration::from_secs(30)).await;
//! println!("{}", fleet.latency().expect("one sample"));
//! fleet.shutdown(Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```
//!
//! Memory: per unit, one rumqttc client (request channel of
//! [`FleetConfig::channel_capacity`], `inflight` of
//! [`FleetConfig::mqtt_inflight`]), one TLS session, two small tasks and the
//! outbox; 1000 units are a few tens of MiB.

mod bundle;
mod histogram;
pub mod outbox;
mod unit;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use picket_proto::codec::{MAX_MESSAGE_BYTES, encode};
use picket_proto::ids::{EventId, UnitId};
use picket_proto::message::{Body, Envelope, Event, EventKind, UnitStatus};
use picket_proto::topic::{Topic, TopicKind};
use rumqttc::{AsyncClient, LastWill, MqttOptions, QoS, TlsConfiguration, Transport};
use tokio::sync::Notify;
use tokio::task::JoinSet;

pub use bundle::{
    AGENT_FILE, Bundle, client_config, client_config_from_pem, load_bundle, load_bundles,
};
pub use histogram::{LatencyHistogram, LatencySummary};
use outbox::Outbox;

/// The fleet could not be set up, or a request was invalid.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The hub address is not `host:port`.
    #[error("invalid hub address {0:?}: expected host:port")]
    HubAddress(String),
    /// A unit bundle could not be read.
    #[error("unit bundle {path}: {detail}")]
    Bundle {
        /// The file or directory.
        path: std::path::PathBuf,
        /// Why.
        detail: String,
    },
    /// rustls refused the certificates.
    #[error("invalid TLS setup: {0}")]
    Tls(String),
    /// No unit with this index.
    #[error("no unit {index}: the fleet has {units}")]
    NoSuchUnit {
        /// The index asked for.
        index: usize,
        /// How many units there are.
        units: usize,
    },
    /// A message could not be encoded.
    #[error(transparent)]
    Codec(#[from] picket_proto::codec::CodecError),
}

/// One unit of the fleet: its id (its certificate's `O=`) and its TLS
/// client configuration (the hub's CA, the unit's certificate and key).
#[derive(Debug, Clone)]
pub struct FleetUnit {
    /// The unit id.
    pub unit: UnitId,
    /// Its TLS client configuration (build it with [`client_config`]).
    pub tls: Arc<rustls::ClientConfig>,
}

/// How to run the fleet. [`FleetConfig::new`] gives the agent's defaults.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The hub's MQTT-over-TLS endpoint, `host:port` (the host is also the
    /// name the hub's certificate must carry).
    pub hub: String,
    /// The units.
    pub units: Vec<FleetUnit>,
    /// Heartbeat interval (the agent's default: 5 s).
    pub heartbeat: Duration,
    /// Unit `i` of `n` first connects after `connect_spread * i / n`, so a
    /// big fleet does not knock all at once.
    pub connect_spread: Duration,
    /// Resend an event not acknowledged after this long (agent: 10 s).
    pub resend_after: Duration,
    /// Events sent and not acknowledged per unit (agent: 64).
    pub max_in_flight: usize,
    /// MQTT keep-alive (agent: 5 s).
    pub keep_alive: Duration,
    /// rumqttc request channel capacity per unit (small: memory).
    pub channel_capacity: usize,
    /// rumqttc's limit of QoS 1 publishes awaiting PUBACK per unit.
    pub mqtt_inflight: u16,
    /// How long one connection attempt (TCP + TLS + CONNECT) may take.
    pub connect_timeout: Duration,
    /// Set TCP_NODELAY on the units' sockets, as the agent does (default
    /// `true`); without it Nagle's algorithm holds a small write while an
    /// earlier one is unacknowledged.
    pub tcp_nodelay: bool,
}

impl FleetConfig {
    /// The agent's timing (heartbeat 5 s, keep-alive 5 s, resend after
    /// 10 s, 64 events in flight), a connect spread of 1 ms per unit, a
    /// request channel of 10 and 32 MQTT publishes in flight per unit.
    pub fn new(hub: impl Into<String>, units: Vec<FleetUnit>) -> FleetConfig {
        let spread = Duration::from_millis(units.len() as u64);
        FleetConfig {
            hub: hub.into(),
            units,
            heartbeat: Duration::from_secs(5),
            connect_spread: spread,
            resend_after: Duration::from_secs(10),
            max_in_flight: 64,
            keep_alive: Duration::from_secs(5),
            channel_capacity: 10,
            mqtt_inflight: 32,
            connect_timeout: Duration::from_secs(10),
            tcp_nodelay: true,
        }
    }
}

/// An alarm from a motion sensor `pir-1` while armed: the event the fleet
/// command sends.
pub fn alarm() -> EventKind {
    EventKind::Alarm {
        sensor: "pir-1".to_owned(),
        sensor_kind: picket_proto::level::SensorKind::Motion,
        camera: None,
        state: picket_proto::arming::ArmState::Armed,
    }
}

/// Counters, as of one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetStats {
    /// Units in the fleet.
    pub units: usize,
    /// Units connected now (CONNACK received, connection not lost).
    pub connected: usize,
    /// Successful connections, reconnections included.
    pub connections: u64,
    /// Connection attempts that failed before a CONNACK.
    pub connect_failures: u64,
    /// Established connections that were lost.
    pub disconnects: u64,
    /// Events made by [`Fleet::send_event`].
    pub events: u64,
    /// Events sent for the first time.
    pub sent: u64,
    /// Events sent again (not acknowledged in time, or a new connection).
    pub resent: u64,
    /// Events acknowledged by the hub.
    pub acked: u64,
    /// Ack entries for events already acknowledged (repeats).
    pub duplicate_acks: u64,
    /// Events not acknowledged yet.
    pub outstanding: u64,
    /// Heartbeats sent.
    pub heartbeats: u64,
    /// Desired configs received.
    pub configs: u64,
    /// Commands received (answered `unsupported` or `expired`).
    pub commands: u64,
    /// Messages from the hub that could not be decoded or did not belong.
    pub refused: u64,
    /// The most recent connection error or refusal, for diagnosis.
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Counters {
    connected: AtomicUsize,
    connections: AtomicU64,
    connect_failures: AtomicU64,
    disconnects: AtomicU64,
    events: AtomicU64,
    sent: AtomicU64,
    resent: AtomicU64,
    acked: AtomicU64,
    duplicate_acks: AtomicU64,
    outstanding: AtomicU64,
    heartbeats: AtomicU64,
    configs: AtomicU64,
    commands: AtomicU64,
    refused: AtomicU64,
}

#[derive(Debug)]
struct UnitState {
    outbox: Outbox,
    connected: bool,
    /// Increases with every CONNACK, so the sender sees each new connection.
    connection: u64,
    session_present: bool,
    /// Encoded replies (command acks) for the sender to publish.
    replies: Vec<(TopicKind, Vec<u8>)>,
}

#[derive(Debug)]
struct UnitShared {
    id: UnitId,
    state: Mutex<UnitState>,
    /// Wakes the sender: new event, room in the window, reply, connection.
    wake: Notify,
}

#[derive(Debug, Default)]
struct Latencies {
    total: LatencyHistogram,
    interval: LatencyHistogram,
}

#[derive(Debug)]
struct Shared {
    units: Vec<UnitShared>,
    heartbeat: Duration,
    counters: Counters,
    latency: Mutex<Latencies>,
    ack_notify: Notify,
    connect_notify: Notify,
    stopping: AtomicBool,
    last_error: Mutex<Option<String>>,
    /// Fallback uniqueness for event ids if the system has no entropy.
    id_counter: AtomicU64,
}

/// Locks, ignoring poisoning (a panicked holder leaves plain counters).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fleet. Dropping it drops every connection at once (the broker
/// then publishes each unit's last will); [`Fleet::shutdown`] says goodbye.
#[derive(Debug)]
pub struct Fleet {
    shared: Arc<Shared>,
    clients: Vec<AsyncClient>,
    drivers: JoinSet<()>,
    senders: JoinSet<()>,
}

impl Fleet {
    /// Starts connecting every unit (spread over
    /// [`FleetConfig::connect_spread`]) and returns at once. Must be called
    /// within a tokio runtime.
    pub fn start(config: FleetConfig) -> Result<Fleet, FleetError> {
        let (host, port) = split_host_port(&config.hub)?;
        let n = config.units.len();
        let shared = Arc::new(Shared {
            units: config
                .units
                .iter()
                .map(|u| UnitShared {
                    id: u.unit,
                    state: Mutex::new(UnitState {
                        outbox: Outbox::new(config.max_in_flight, config.resend_after),
                        connected: false,
                        connection: 0,
                        session_present: false,
                        replies: Vec::new(),
                    }),
                    wake: Notify::new(),
                })
                .collect(),
            heartbeat: config.heartbeat,
            counters: Counters::default(),
            latency: Mutex::new(Latencies::default()),
            ack_notify: Notify::new(),
            connect_notify: Notify::new(),
            stopping: AtomicBool::new(false),
            last_error: Mutex::new(None),
            id_counter: AtomicU64::new(0),
        });
        let mut fleet = Fleet {
            shared: shared.clone(),
            clients: Vec::with_capacity(n),
            drivers: JoinSet::new(),
            senders: JoinSet::new(),
        };
        for (index, unit) in config.units.into_iter().enumerate() {
            let mut options = MqttOptions::new(unit.unit.to_string(), host.clone(), port);
            options
                .set_keep_alive(config.keep_alive)
                .set_clean_session(false)
                .set_inflight(config.mqtt_inflight.max(1))
                .set_max_packet_size(MAX_MESSAGE_BYTES + 1024, MAX_MESSAGE_BYTES + 1024)
                .set_transport(Transport::Tls(TlsConfiguration::Rustls(unit.tls)));
            let will = encode(&Envelope::new(
                unit.unit,
                Timestamp::now(),
                Body::Status(UnitStatus::Offline),
            ))?;
            options.set_last_will(LastWill::new(
                Topic::new(unit.unit, TopicKind::Status).to_string(),
                will,
                QoS::AtLeastOnce,
                true,
            ));
            let (client, mut eventloop) = AsyncClient::new(options, config.channel_capacity.max(1));
            let mut network = eventloop.network_options();
            network.set_connection_timeout(config.connect_timeout.as_secs().max(1));
            network.set_tcp_nodelay(config.tcp_nodelay);
            eventloop.set_network_options(network);
            let delay = if n == 0 {
                Duration::ZERO
            } else {
                config.connect_spread.mul_f64(index as f64 / n as f64)
            };
            fleet
                .drivers
                .spawn(unit::driver(shared.clone(), index, eventloop, delay));
            fleet
                .senders
                .spawn(unit::sender(shared.clone(), index, client.clone()));
            fleet.clients.push(client);
        }
        Ok(fleet)
    }

    /// How many units.
    pub fn len(&self) -> usize {
        self.shared.units.len()
    }

    /// Whether the fleet has no units.
    pub fn is_empty(&self) -> bool {
        self.shared.units.is_empty()
    }

    /// Unit `index`'s id.
    pub fn unit_id(&self, index: usize) -> Option<UnitId> {
        self.shared.units.get(index).map(|u| u.id)
    }

    /// Makes an event of `kind` on unit `index` now and queues it for
    /// sending (QoS 1 on the unit's `evt` topic, window permitting).
    pub fn send_event(&self, index: usize, kind: EventKind) -> Result<EventId, FleetError> {
        let unit = self.shared.units.get(index).ok_or(FleetError::NoSuchUnit {
            index,
            units: self.len(),
        })?;
        let now = Timestamp::now();
        let id = EventId::v7(now, self.random_bytes(index));
        {
            let mut st = lock(&unit.state);
            let seq = st.outbox.next_seq();
            let event = Event {
                id,
                seq,
                at: now,
                kind,
            };
            let payload = encode(&Envelope::new(unit.id, now, Body::Event(event)))?;
            st.outbox.push(id, payload);
        }
        let c = &self.shared.counters;
        c.events.fetch_add(1, Ordering::Relaxed);
        c.outstanding.fetch_add(1, Ordering::Relaxed);
        unit.wake.notify_one();
        Ok(id)
    }

    /// 10 random bytes for a UUIDv7; unique per fleet even without entropy.
    fn random_bytes(&self, index: usize) -> [u8; 10] {
        let mut bytes = [0u8; 10];
        if getrandom::fill(&mut bytes).is_err() {
            let n = self.shared.id_counter.fetch_add(1, Ordering::Relaxed);
            bytes[..8].copy_from_slice(&n.to_le_bytes());
            bytes[8..].copy_from_slice(&(index as u16).to_le_bytes());
        }
        bytes
    }

    /// Units connected now.
    pub fn connected(&self) -> usize {
        self.shared.counters.connected.load(Ordering::Relaxed)
    }

    /// Whether unit `index` is connected now.
    pub fn is_connected(&self, index: usize) -> bool {
        self.shared
            .units
            .get(index)
            .is_some_and(|u| lock(&u.state).connected)
    }

    /// Events acknowledged so far.
    pub fn acked(&self) -> u64 {
        self.shared.counters.acked.load(Ordering::Relaxed)
    }

    /// Events not acknowledged yet, over the whole fleet.
    pub fn outstanding(&self) -> u64 {
        self.shared.counters.outstanding.load(Ordering::Relaxed)
    }

    /// Events of unit `index` not acknowledged yet (waiting or in flight).
    pub fn outstanding_of(&self, index: usize) -> usize {
        self.shared
            .units
            .get(index)
            .map_or(0, |u| lock(&u.state).outbox.len())
    }

    /// Every counter.
    pub fn stats(&self) -> FleetStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FleetStats {
            units: self.len(),
            connected: self.connected(),
            connections: get(&c.connections),
            connect_failures: get(&c.connect_failures),
            disconnects: get(&c.disconnects),
            events: get(&c.events),
            sent: get(&c.sent),
            resent: get(&c.resent),
            acked: get(&c.acked),
            duplicate_acks: get(&c.duplicate_acks),
            outstanding: get(&c.outstanding),
            heartbeats: get(&c.heartbeats),
            configs: get(&c.configs),
            commands: get(&c.commands),
            refused: get(&c.refused),
            last_error: lock(&self.shared.last_error).clone(),
        }
    }

    /// Round-trip latency (first send → ack) since the start or the last
    /// [`Fleet::reset_latency`]; `None` before the first ack.
    pub fn latency(&self) -> Option<LatencySummary> {
        lock(&self.shared.latency).total.summary()
    }

    /// A copy of the latency histogram behind [`Fleet::latency`].
    pub fn latency_histogram(&self) -> LatencyHistogram {
        lock(&self.shared.latency).total.clone()
    }

    /// The latencies recorded since the previous call (for periodic
    /// reports), and starts a new interval.
    pub fn take_interval_latency(&self) -> LatencyHistogram {
        std::mem::take(&mut lock(&self.shared.latency).interval)
    }

    /// Forgets every latency recorded so far (to measure a new phase).
    pub fn reset_latency(&self) {
        *lock(&self.shared.latency) = Latencies::default();
    }

    /// Waits until at least `n` units are connected; `false` on timeout.
    pub async fn wait_connected(&self, n: usize, timeout: Duration) -> bool {
        let notify = &self.shared.connect_notify;
        wait_until(notify, timeout, || self.connected() >= n).await
    }

    /// Waits until every event sent so far is acknowledged; `false` on
    /// timeout.
    pub async fn wait_all_acked(&self, timeout: Duration) -> bool {
        let notify = &self.shared.ack_notify;
        wait_until(notify, timeout, || self.outstanding() == 0).await
    }

    /// Waits until at most `n` events are outstanding; `false` on timeout.
    pub async fn wait_outstanding_at_most(&self, n: u64, timeout: Duration) -> bool {
        let notify = &self.shared.ack_notify;
        wait_until(notify, timeout, || self.outstanding() <= n).await
    }

    /// Waits for the next event ack to arrive (any unit); `false` on timeout.
    pub async fn wait_for_ack(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.shared.ack_notify.notified())
            .await
            .is_ok()
    }

    /// Says goodbye like an agent shutting down cleanly: each connected
    /// unit publishes `offline` (retained) and sends DISCONNECT. Waits at
    /// most `timeout` for that, then drops whatever is left (those
    /// connections just close, and the broker publishes their last will).
    pub async fn shutdown(mut self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        self.shared.stopping.store(true, Ordering::Relaxed);
        self.senders.abort_all();
        while self.senders.join_next().await.is_some() {}
        let now = Timestamp::now();
        let mut goodbyes = JoinSet::new();
        for (unit, client) in self.shared.units.iter().zip(&self.clients) {
            if !lock(&unit.state).connected {
                continue;
            }
            let offline = unit::envelope(unit.id, now, Body::Status(UnitStatus::Offline));
            let topic = Topic::new(unit.id, TopicKind::Status).to_string();
            let client = client.clone();
            goodbyes.spawn(async move {
                if let Some(offline) = offline {
                    let _ = client.publish(topic, QoS::AtLeastOnce, true, offline).await;
                }
                let _ = client.disconnect().await;
            });
        }
        let _ = tokio::time::timeout_at(deadline, async {
            while goodbyes.join_next().await.is_some() {}
        })
        .await;
        goodbyes.abort_all();
        let drivers = &mut self.drivers;
        let _ = tokio::time::timeout_at(deadline, async {
            while drivers.join_next().await.is_some() {}
        })
        .await;
        self.drivers.abort_all();
    }
}

/// Polls `done` each time `notify` fires, until it holds or `timeout`.
async fn wait_until(notify: &Notify, timeout: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if done() {
            return true;
        }
        // Counters are updated before the notification, but poll now and
        // then anyway in case a change slipped between the check and here.
        let wake = deadline.min(tokio::time::Instant::now() + Duration::from_millis(100));
        if tokio::time::timeout_at(wake, notified).await.is_err()
            && tokio::time::Instant::now() >= deadline
        {
            return done();
        }
    }
}

/// `host:port` → (host, port); IPv6 hosts may be bracketed.
fn split_host_port(hub: &str) -> Result<(String, u16), FleetError> {
    let bad = || FleetError::HubAddress(hub.to_owned());
    let (host, port) = hub.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_addresses() {
        assert_eq!(
            split_host_port("127.0.0.1:8883").unwrap(),
            ("127.0.0.1".to_owned(), 8883)
        );
        assert_eq!(split_host_port("[::1]:1").unwrap(), ("::1".to_owned(), 1));
        for bad in ["localhost", ":1", "h:0", "h:x", "h:70000"] {
            assert!(split_host_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_config_follows_the_agent() {
        let c = FleetConfig::new("h:1", Vec::new());
        assert_eq!(c.heartbeat, Duration::from_secs(5));
        assert_eq!(c.resend_after, Duration::from_secs(10));
        assert_eq!(c.max_in_flight, 64);
        assert_eq!(c.channel_capacity, 10);
        assert!(c.tcp_nodelay, "like the agent");
    }
}
