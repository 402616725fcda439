//! The units' MQTT front: the hub terminates its units' mutual-TLS MQTT
//! connections itself (docs/design/unit-front.md).
//!
//! Units reach the hub only through this listener: a client must present a
//! certificate issued by the hub's CA whose `O=` names a unit, its CONNECT
//! must use that unit's id as client id, and it can only publish and
//! subscribe under `/tenants/<unit>/` (judged by `picket_mqtt`). There is
//! no listener without client certificates.
//!
//! The protocol decisions live in `picket_mqtt::session` (one [`Session`]
//! per unit, kept across connections); [`conn`] drives one connection's
//! TLS (rustls' unbuffered API: no per-connection read buffer while idle)
//! and socket. Up messages go to ingest over a bounded channel (a full
//! channel slows the units down instead of growing memory); down messages
//! from the hub are pushed into the unit's session and its connection is
//! woken to send them.

mod conn;
pub(crate) mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use picket_mqtt::session::{Limits, Session, UpMessage};
use picket_proto::ids::UnitId;
use picket_proto::topic::TopicKind;
use tokio::sync::{Notify, watch};

use crate::config::MqttConfig;

/// The front could not start.
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// A TLS file is missing or unusable.
    #[error(
        "cannot read {what} from {path}: {detail} (run `picket-deploy ca init` and `picket-deploy hub cert`)"
    )]
    File {
        /// Which file.
        what: &'static str,
        /// Where.
        path: String,
        /// Why.
        detail: String,
    },
    /// rustls refused the certificate/key combination.
    #[error("invalid TLS setup for the MQTT listener: {0}")]
    Tls(String),
    /// The listener could not be bound.
    #[error("cannot listen for units on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Counters, readable from other tasks.
#[derive(Debug, Default)]
pub struct FrontStats {
    /// Units connected now (CONNECT accepted).
    pub connected: AtomicUsize,
    /// Connections refused or closed for a protocol or identity violation.
    pub refused: AtomicU64,
    /// Down messages dropped from a full session queue.
    pub dropped: AtomicU64,
}

/// How long a connection may take from TCP accept to CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many up messages may wait for ingest before units are slowed down.
const UP_CHANNEL: usize = 8192;

/// One unit's session and the wake-up for its connection.
#[derive(Debug)]
pub(crate) struct Slot {
    session: Mutex<Session>,
    wake: Notify,
}

impl Slot {
    fn session(&self) -> MutexGuard<'_, Session> {
        // A panic while holding the lock leaves a consistent session (every
        // method is total); keep serving the unit.
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    tls: Arc<rustls::ServerConfig>,
    sessions: Mutex<HashMap<UnitId, Arc<Slot>>>,
    limits: Limits,
    max_packet: usize,
    max_connections: usize,
    /// TCP connections open (accepted, not yet closed).
    open: AtomicUsize,
    next_link: AtomicU64,
    up: flume::Sender<UpMessage>,
    stats: Arc<FrontStats>,
}

impl Shared {
    fn slot(&self, unit: UnitId) -> Arc<Slot> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .entry(unit)
            .or_insert_with(|| {
                Arc::new(Slot {
                    session: Mutex::new(Session::new(unit, self.limits)),
                    wake: Notify::new(),
                })
            })
            .clone()
    }
}

/// The hub's handle on the front: sends messages to units.
#[derive(Debug, Clone)]
pub struct Front {
    shared: Arc<Shared>,
}

impl Front {
    /// Queues a message for `unit` on its `kind` topic (retained if it is
    /// desired config) and wakes its connection.
    pub fn send(&self, unit: UnitId, kind: TopicKind, payload: Vec<u8>) {
        let slot = self.shared.slot(unit);
        let wake = {
            let mut session = slot.session();
            let before = session.dropped();
            let wake = session.push(kind, Arc::from(payload));
            let dropped = session.dropped() - before;
            if dropped > 0 {
                self.shared
                    .stats
                    .dropped
                    .fetch_add(dropped, Ordering::Relaxed);
                tracing::warn!(%unit, "a down message was dropped: the unit's queue is full");
            }
            wake
        };
        if wake {
            slot.wake.notify_waiters();
        }
    }

    /// The counters.
    pub fn stats(&self) -> &FrontStats {
        &self.shared.stats
    }
}

/// Binds the units' listener and starts accepting. Returns the handle for
/// sending to units and the receiving end of everything units publish
/// (and their last wills). Everything stops when `shutdown` turns true.
pub async fn start(
    config: &MqttConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(Front, flume::Receiver<UpMessage>), FrontError> {
    let tls = tls::server_config(config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| FrontError::Listen {
            addr: config.listen,
            source,
        })?;
    let (up, up_rx) = flume::bounded(UP_CHANNEL);
    let shared = Arc::new(Shared {
        tls,
        sessions: Mutex::new(HashMap::new()),
        limits: Limits::default(),
        max_packet: config.max_payload_bytes + 1024,
        max_connections: config.max_connections,
        open: AtomicUsize::new(0),
        next_link: AtomicU64::new(1),
        up,
        stats: Arc::new(FrontStats::default()),
    });
    tokio::spawn(accept(listener, shared.clone(), shutdown));
    Ok((Front { shared }, up_rx))
}

/// Accepts connections until shutdown; each runs in its own task.
async fn accept(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Connections still in their handshake or refused at CONNECT count too,
    // with some room above the unit limit for them.
    let max_open = shared.max_connections + 64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                if shared.open.load(Ordering::Relaxed) >= max_open {
                    tracing::warn!(%peer, open = max_open, "too many open connections; dropped one");
                    continue;
                }
                shared.open.fetch_add(1, Ordering::Relaxed);
                let shared = shared.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    conn::serve(&shared, stream, peer, shutdown).await;
                    shared.open.fetch_sub(1, Ordering::Relaxed);
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::error!(error = %e, "cannot accept a unit connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
