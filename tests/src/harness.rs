//! A real hub on loopback, and MQTT clients that talk to it over mutual TLS.
//!
//! [`TestHub::start`] makes a CA, the hub's certificate (for `127.0.0.1`)
//! and a data directory in a temporary directory, starts the whole hub
//! (`picket_hub::run::start`: broker, store, ingest, supervision) on a free
//! loopback port, and returns once a unit can complete an MQTT CONNECT over
//! TLS. [`TestHub::unit`] issues a unit certificate from the hub's CA;
//! [`TestHub::connect`] connects a client with any certificate and client id.
//!
//! [`Client`] drives one rumqttc connection on a task and never reconnects:
//! when the broker closes the connection, the client reports it once
//! ([`Client::expect_closed`]) and stays closed, so a refusal cannot be
//! hidden by a silent reconnect. Every wait takes a timeout and fails the
//! test with a message when it passes; nothing here sleeps to assert.
//!
//! Set `PICKET_TEST_LOG` (a tracing filter such as `debug` or
//! `picket_hub=debug`) to see the hub's logs.

use std::collections::{BTreeSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use picket_deploy::IssuedCert;
use picket_deploy::ca::Ca;
use picket_hub::clock::SystemClock;
use picket_hub::config::{ApiConfig, HubConfig, MqttConfig, SupervisionConfig};
use picket_hub::ingest::IngestStats;
use picket_hub::publisher::Outgoing;
use picket_hub::run::Hub;
use picket_hub::store::Store;
use picket_proto::codec::decode_on;
use picket_proto::ids::{EventId, UnitId};
use picket_proto::message::{Body, Envelope};
use picket_proto::topic::{Topic, TopicKind};
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event as MqttEvent, LastWill, MqttOptions, Packet, Publish,
    QoS, SubscribeReasonCode, TlsConfiguration, Transport,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long the broker may take to accept its first connection.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// The default bound for one expected thing to happen (a CONNACK, a
/// delivery, an ack, a disconnect).
pub const WAIT: Duration = Duration::from_secs(10);
/// How long we watch for something that must *not* happen, after a positive
/// control has shown that the same path delivers promptly.
pub const QUIET: Duration = Duration::from_millis(1500);
/// The largest MQTT packet our test clients send or accept. Larger than the
/// broker's limit on purpose, so that the broker (not the client) decides
/// about oversize payloads.
pub const CLIENT_MAX_PACKET: usize = 256 * 1024;

/// A running hub with its CA, in its own temporary directory.
#[derive(Debug)]
pub struct TestHub {
    /// The hub's CA (issues unit certificates).
    pub ca: Ca,
    /// Where the broker listens (127.0.0.1 and a free port).
    pub addr: SocketAddr,
    /// The configuration the hub was started with.
    pub config: HubConfig,
    hub: Option<Hub>,
    dir: tempfile::TempDir,
}

impl TestHub {
    /// Starts a hub with the default supervision timing. Must be called
    /// inside a tokio runtime.
    pub async fn start() -> TestHub {
        TestHub::start_with(SupervisionConfig::default()).await
    }

    /// Starts a hub with the given supervision timing.
    pub async fn start_with(supervision: SupervisionConfig) -> TestHub {
        TestHub::start_configured(|config| config.supervision = supervision).await
    }

    /// Starts a hub whose configuration `adjust` may change first (paths,
    /// addresses and the CA are set up; the defaults are the hub's).
    pub async fn start_configured(adjust: impl FnOnce(&mut HubConfig)) -> TestHub {
        init_logging();
        let dir = tempfile::tempdir().expect("temporary directory");
        let ca = Ca::generate("Picket test CA").expect("generate CA");
        let hub_cert = ca
            .issue_hub_cert(&["localhost".to_owned()], &[Ipv4Addr::LOCALHOST.into()])
            .expect("issue hub certificate");
        ca.write_cert(dir.path()).expect("write ca.pem");
        hub_cert
            .write(dir.path(), "hub", picket_deploy::ExistingFiles::Refuse)
            .expect("write hub.pem and hub.key");
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        let mut config = hub_config(dir.path(), addr.port(), 100);
        adjust(&mut config);
        config.validate().expect("test hub config is valid");
        let hub = picket_hub::run::start(&config, Arc::new(SystemClock))
            .await
            .expect("start the hub");
        let test_hub = TestHub {
            ca,
            addr,
            config,
            hub: Some(hub),
            dir,
        };
        test_hub.wait_until_ready().await;
        test_hub
    }

    /// Stops the hub (ingest and API) and starts a new one on the same data
    /// directory and certificates, on a new broker port ([`TestHub::addr`]
    /// changes, so a unit still talking to the old one cannot slip through).
    /// Stopping closes the old listener and every unit connection.
    pub async fn restart(&mut self) {
        if let Some(hub) = self.hub.take() {
            tokio::task::spawn_blocking(move || hub.stop())
                .await
                .expect("stop the hub");
        }
        self.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        self.config.mqtt.listen = self.addr;
        let hub = picket_hub::run::start(&self.config, Arc::new(SystemClock))
            .await
            .expect("restart the hub");
        self.hub = Some(hub);
        self.wait_until_ready().await;
    }

    /// The front is bound when `start` returns; a throw-away unit's CONNACK
    /// shows the whole path (TLS, identity, session) answers.
    async fn wait_until_ready(&self) {
        let probe = self.unit();
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut last_error = String::new();
        while Instant::now() < deadline {
            match self
                .connect_with(&probe.cert, &probe.id.to_string(), Duration::from_secs(2))
                .await
            {
                Ok(client) => {
                    client.disconnect().await;
                    return;
                }
                Err(e) => last_error = e,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the hub's broker on {} did not accept a unit within {STARTUP_TIMEOUT:?}: {last_error}",
            self.addr
        );
    }

    /// The ingest counters.
    pub fn stats(&self) -> &IngestStats {
        &self.running().stats
    }

    /// `(committed, refused)` from the ingest counters, now.
    pub fn counts(&self) -> (u64, u64) {
        let s = self.stats();
        (
            s.committed.load(Ordering::SeqCst),
            s.refused.load(Ordering::SeqCst),
        )
    }

    /// Where the hub's operator API listens.
    pub fn api_addr(&self) -> SocketAddr {
        self.running().api_addr
    }

    /// The operator API's bearer token.
    pub fn api_token(&self) -> &str {
        &self.running().token
    }

    /// The hub's database file.
    pub fn db_path(&self) -> PathBuf {
        self.config.data_dir.join("hub.db")
    }

    /// A second connection to the hub's store, for reading what ingest
    /// committed (SQLite WAL: readers see every committed transaction).
    pub fn store(&self) -> Store {
        Store::open(&self.db_path()).expect("open the hub's store for reading")
    }

    /// The temporary directory the hub lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new unit with a certificate from the hub's CA (`O=<unit id>`).
    pub fn unit(&self) -> TestUnit {
        let id = new_unit_id();
        let cert = self.ca.issue_unit_cert(id).expect("issue unit certificate");
        TestUnit { id, cert }
    }

    /// Sends a message to a unit the way the hub does (through the hub's
    /// publisher and its in-process broker link).
    pub async fn publish_to_unit(&self, envelope: &Envelope) {
        let out = Outgoing::new(envelope).expect("encode a message for a unit");
        self.running()
            .publisher
            .send(out)
            .await
            .expect("the hub's publisher is running");
    }

    /// Connects `unit` with its own certificate and the client id
    /// `<unit id>`, and waits for a successful CONNACK.
    pub async fn connect_unit(&self, unit: &TestUnit) -> Client {
        self.connect(&unit.cert, &unit.id.to_string())
            .await
            .unwrap_or_else(|e| panic!("unit {} could not connect: {e}", unit.id))
    }

    /// Connects with any certificate and client id; `Err` says why the
    /// connection did not reach a successful CONNACK within [`WAIT`].
    pub async fn connect(&self, cert: &IssuedCert, client_id: &str) -> Result<Client, String> {
        self.connect_with(cert, client_id, WAIT).await
    }

    /// Connects with a certificate (or none) and the hub's CA as the only
    /// root, waiting at most `timeout` for a CONNACK.
    pub async fn connect_with(
        &self,
        cert: &IssuedCert,
        client_id: &str,
        timeout: Duration,
    ) -> Result<Client, String> {
        let tls = client_tls(self.ca.cert_pem(), Some(cert));
        Client::connect(self.addr, client_id, tls, None, timeout).await
    }

    /// Connects with a certificate and a last will (which the broker
    /// publishes when the connection drops without a DISCONNECT).
    pub async fn connect_with_will(
        &self,
        cert: &IssuedCert,
        client_id: &str,
        will: LastWill,
    ) -> Result<Client, String> {
        let tls = client_tls(self.ca.cert_pem(), Some(cert));
        Client::connect(self.addr, client_id, tls, Some(will), WAIT).await
    }

    /// Connects presenting no client certificate at all.
    pub async fn connect_without_certificate(&self, client_id: &str) -> Result<Client, String> {
        let tls = client_tls(self.ca.cert_pem(), None);
        Client::connect(self.addr, client_id, tls, None, WAIT).await
    }

    /// Polls `check` against a fresh read of the store until it returns
    /// `Some`, or fails the test after `timeout` with `what`.
    pub async fn eventually<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Store) -> Option<T>,
    ) -> T {
        let store = self.store();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = check(&store) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for: {what}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Live view.
    pub fn live(&self) -> &picket_hub::live::service::LiveService {
        &self.running().live
    }

    /// The live upstreams the hub expects from units.
    pub fn upstreams(&self) -> &picket_hub::live::upstream::Upstreams {
        &self.running().upstreams
    }

    fn running(&self) -> &Hub {
        self.hub.as_ref().expect("the hub is running")
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        // `Hub::stop` joins ingest, which may take up to a second: do it off
        // the async runtime's thread. It also closes the units' listener and
        // every unit connection.
        if let Some(hub) = self.hub.take() {
            let _ = std::thread::Builder::new()
                .name("stop-test-hub".into())
                .spawn(move || hub.stop());
        }
    }
}

/// A unit identity: its id and its certificate from the hub's CA.
#[derive(Debug, Clone)]
pub struct TestUnit {
    /// The unit id (also its certificate's `O=` and `CN=`).
    pub id: UnitId,
    /// Its certificate and key.
    pub cert: IssuedCert,
}

impl TestUnit {
    /// The unit's topic of `kind`, as text.
    pub fn topic(&self, kind: TopicKind) -> String {
        Topic::new(self.id, kind).to_string()
    }
}

/// What the connection task saw.
#[derive(Debug)]
enum Seen {
    Packet(Packet),
    /// The connection ended with this error; the task has stopped.
    Closed(String),
}

/// One MQTT connection to the hub's broker, driven on its own task, never
/// reconnected.
#[derive(Debug)]
pub struct Client {
    /// The rumqttc handle, to publish and subscribe.
    pub client: AsyncClient,
    seen: mpsc::UnboundedReceiver<Seen>,
    /// Packets received while waiting for something else, oldest first.
    backlog: VecDeque<Packet>,
    closed: Option<String>,
    task: JoinHandle<()>,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Client {
    async fn connect(
        addr: SocketAddr,
        client_id: &str,
        tls: Arc<rustls::ClientConfig>,
        will: Option<LastWill>,
        timeout: Duration,
    ) -> Result<Client, String> {
        let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
        options
            .set_transport(Transport::Tls(TlsConfiguration::Rustls(tls)))
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(true)
            .set_max_packet_size(CLIENT_MAX_PACKET, CLIENT_MAX_PACKET);
        if let Some(will) = will {
            options.set_last_will(will);
        }
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        let (tx, seen) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(MqttEvent::Incoming(packet)) => {
                        if tx.send(Seen::Packet(packet)).is_err() {
                            return;
                        }
                    }
                    Ok(MqttEvent::Outgoing(_)) => {}
                    Err(e) => {
                        let _ = tx.send(Seen::Closed(e.to_string()));
                        return;
                    }
                }
            }
        });
        let mut this = Client {
            client,
            seen,
            backlog: VecDeque::new(),
            closed: None,
            task,
        };
        let connack = this
            .wait_for(timeout, |p| match p {
                Packet::ConnAck(ack) => Some(ack.code),
                _ => None,
            })
            .await;
        match connack {
            Ok(Some(ConnectReturnCode::Success)) => Ok(this),
            Ok(Some(code)) => Err(format!("CONNACK refused: {code:?}")),
            Ok(None) => Err(format!("no CONNACK within {timeout:?}")),
            Err(closed) => Err(closed),
        }
    }

    /// Waits up to `timeout` for a packet that `pick` accepts, keeping the
    /// others in the backlog. `Ok(None)`: timeout; `Err`: the connection
    /// closed first (with its error).
    async fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&Packet) -> Option<T>,
    ) -> Result<Option<T>, String> {
        if let Some(i) = self.backlog.iter().position(|p| pick(p).is_some()) {
            let packet = self.backlog.remove(i).expect("index from position");
            return Ok(pick(&packet));
        }
        if let Some(reason) = &self.closed {
            return Err(reason.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.seen.recv()).await {
                Err(_) => return Ok(None),
                Ok(None) => {
                    let reason = "the connection task ended".to_owned();
                    self.closed = Some(reason.clone());
                    return Err(reason);
                }
                Ok(Some(Seen::Closed(reason))) => {
                    self.closed = Some(reason.clone());
                    return Err(reason);
                }
                Ok(Some(Seen::Packet(packet))) => match pick(&packet) {
                    Some(value) => return Ok(Some(value)),
                    None => self.backlog.push_back(packet),
                },
            }
        }
    }

    /// Subscribes and waits for the broker's answer: `Ok(true)` granted,
    /// `Ok(false)` a SUBACK failure code, `Err` the connection closed (how
    /// the hub refuses a filter outside the unit's prefix).
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<bool, String> {
        self.client
            .subscribe(filter, qos)
            .await
            .map_err(|e| format!("cannot queue SUBSCRIBE: {e}"))?;
        match self
            .wait_for(WAIT, |p| match p {
                Packet::SubAck(ack) => Some(
                    ack.return_codes
                        .iter()
                        .all(|c| matches!(c, SubscribeReasonCode::Success(_))),
                ),
                _ => None,
            })
            .await?
        {
            Some(granted) => Ok(granted),
            None => panic!("no SUBACK and no disconnect within {WAIT:?} for {filter}"),
        }
    }

    /// Subscribes and requires the subscription to be granted.
    pub async fn subscribe_ok(&mut self, filter: &str) {
        match self.subscribe(filter, QoS::AtLeastOnce).await {
            Ok(true) => {}
            other => panic!("subscription to {filter} was not granted: {other:?}"),
        }
    }

    /// Publishes (queues) a message; see [`Client::publish_acked`] to wait
    /// for the broker's PUBACK.
    pub async fn publish(&self, topic: &str, qos: QoS, retain: bool, payload: Vec<u8>) {
        self.client
            .publish(topic, qos, retain, payload)
            .await
            .expect("queue PUBLISH");
    }

    /// Publishes at QoS 1 and waits for the broker's PUBACK. `Err`: the
    /// connection closed instead.
    pub async fn publish_acked(&mut self, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        self.publish(topic, QoS::AtLeastOnce, false, payload).await;
        match self
            .wait_for(WAIT, |p| matches!(p, Packet::PubAck(_)).then_some(()))
            .await?
        {
            Some(()) => Ok(()),
            None => panic!("no PUBACK and no disconnect within {WAIT:?} on {topic}"),
        }
    }

    /// The next message delivered on `topic` within `timeout`, if any.
    /// Fails the test if the connection closes first.
    pub async fn recv_on(&mut self, topic: &str, timeout: Duration) -> Option<Publish> {
        self.try_recv_on(topic, timeout)
            .await
            .unwrap_or_else(|e| panic!("connection closed while waiting on {topic}: {e}"))
    }

    /// The next message delivered on `topic` within `timeout` (`Ok(None)`
    /// if none), or the error the connection closed with.
    pub async fn try_recv_on(
        &mut self,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<Publish>, String> {
        self.wait_for(timeout, |p| match p {
            Packet::Publish(publish) if publish.topic == topic => Some(publish.clone()),
            _ => None,
        })
        .await
    }

    /// Every message delivered (on any topic) so far and during the next
    /// `window`, plus the connection's error if it closed.
    pub async fn drain(&mut self, window: Duration) -> (Vec<Publish>, Option<String>) {
        let closed = self.wait_for(window, |_| None::<()>).await.err();
        let publishes = self
            .backlog
            .drain(..)
            .filter_map(|p| match p {
                Packet::Publish(publish) => Some(publish),
                _ => None,
            })
            .collect();
        (publishes, closed)
    }

    /// Waits until the broker closes the connection and returns the error it
    /// ended with; fails the test if it is still open after `timeout`.
    pub async fn expect_closed(&mut self, timeout: Duration) -> String {
        match self.wait_for(timeout, |_| None::<()>).await {
            Err(reason) => reason,
            Ok(_) => panic!("the broker did not close the connection within {timeout:?}"),
        }
    }

    /// Whether the connection has been seen to close.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Sends DISCONNECT and lets the task end.
    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }

    /// Drops the connection without a DISCONNECT (as a unit losing power or
    /// network would), so the broker publishes the last will.
    pub fn vanish(self) {
        self.task.abort();
    }

    /// Waits until the hub's `event_ack`s on `unit`'s evack topic have named
    /// every id in `ids` (acks for other ids are ignored). Returns how many
    /// ack messages it took. Fails the test after `timeout`.
    pub async fn await_acks(
        &mut self,
        unit: UnitId,
        ids: &BTreeSet<EventId>,
        timeout: Duration,
    ) -> usize {
        let topic = Topic::new(unit, TopicKind::EventAck);
        let topic_text = topic.to_string();
        let mut missing = ids.clone();
        let mut messages = 0;
        let deadline = Instant::now() + timeout;
        while !missing.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(publish) = self.recv_on(&topic_text, left).await else {
                panic!(
                    "after {timeout:?}, {} of {} events are still not acknowledged",
                    missing.len(),
                    ids.len()
                );
            };
            messages += 1;
            for id in event_ack_ids(&topic, &publish.payload) {
                missing.remove(&id);
            }
        }
        messages
    }
}

/// The event ids in an `event_ack` payload received on `topic`; fails the
/// test if it is anything else.
pub fn event_ack_ids(topic: &Topic, payload: &[u8]) -> Vec<EventId> {
    let envelope = decode_on(topic, payload).expect("the hub's event_ack decodes on its topic");
    match envelope.body {
        Body::EventAck(ack) => ack.events,
        other => panic!("expected an event_ack on {topic}, got {}", other.kind()),
    }
}

/// A rustls client config trusting only `ca_pem`, presenting `cert` (or no
/// certificate), with the ring provider (never the process default).
pub fn client_tls(ca_pem: &str, cert: Option<&IssuedCert>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA PEM"))
        .expect("add CA root");
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots);
    let config = match cert {
        Some(cert) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).expect("cert PEM")],
                PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("key PEM"),
            )
            .expect("client certificate and key"),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A fresh unit id (UUIDv7, unique within the test process).
pub fn new_unit_id() -> UnitId {
    UnitId::v7(Timestamp::now(), fresh_bytes())
}

/// A fresh event id (UUIDv7, unique within the test process).
pub fn new_event_id() -> EventId {
    EventId::v7(Timestamp::now(), fresh_bytes())
}

/// Ten bytes that differ on every call: a process-wide counter and a
/// per-process random seed (tests need uniqueness, not secrecy).
pub fn fresh_bytes() -> [u8; 10] {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish()
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut out = [0u8; 10];
    out[..8].copy_from_slice(&(seed ^ n.rotate_left(17)).to_be_bytes());
    out[8..].copy_from_slice(&(n as u16).to_be_bytes());
    out
}

fn init_logging() {
    if let Ok(filter) = std::env::var("PICKET_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

/// A hub configuration on loopback with its files in `dir` (`ca.pem`,
/// `hub.pem`, `hub.key`, `data/`): units' MQTT on `port`, the API on a free
/// port, everything else the hub's defaults.
pub fn hub_config(dir: &Path, port: u16, max_connections: usize) -> HubConfig {
    HubConfig {
        data_dir: dir.join("data"),
        mqtt: MqttConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            ca: dir.join("ca.pem"),
            cert: dir.join("hub.pem"),
            key: dir.join("hub.key"),
            max_payload_bytes: picket_proto::codec::MAX_MESSAGE_BYTES,
            max_connections,
        },
        supervision: SupervisionConfig::default(),
        centre: Default::default(),
        reports: Default::default(),
        api: ApiConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token_file: dir.join("operator.token"),
            ..ApiConfig::default()
        },
        mail: None,
        clips: None,
    }
}
