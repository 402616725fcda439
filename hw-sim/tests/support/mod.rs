//! Shared fixtures: a simulator in a tempdir and a fake agent.

#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;
use std::time::Duration;

use picket_proto::ids::UnitId;
use picket_proto::sim::SimMessage;
use picket_sim::sensors::{Running, Simulator};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{Mutex, mpsc};

pub const UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b";
pub const OTHER_UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7c";
const WAIT: Duration = Duration::from_secs(5);

pub fn unit() -> UnitId {
    UNIT.parse().unwrap()
}

pub fn other_unit() -> UnitId {
    OTHER_UNIT.parse().unwrap()
}

/// A running simulator on a socket in its own tempdir.
pub struct Sim {
    pub running: Running,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Sim {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("sim.sock");
    let running = Simulator::bind(&socket).unwrap().spawn();
    Sim {
        running,
        socket,
        _dir: dir,
    }
}

/// Waits for `check` to hold, polling.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A raw line connection (an agent or a control client) for tests.
///
/// A background task reads its lines into a queue. An agent peer answers
/// every trigger, tamper restore or power change it reads with `Recorded`,
/// as a real agent does once it has recorded the event, so control requests
/// complete.
pub struct Peer {
    lines: mpsc::UnboundedReceiver<String>,
    write: Arc<Mutex<OwnedWriteHalf>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Closes the connection: the reader owns the read half and a share
        // of the write half.
        self.reader.abort();
    }
}

impl Peer {
    pub async fn connect(sim: &Sim) -> Peer {
        Peer::start(sim, false).await
    }

    async fn start(sim: &Sim, records: bool) -> Peer {
        let stream = UnixStream::connect(&sim.socket).await.unwrap();
        let (read, write) = stream.into_split();
        let write = Arc::new(Mutex::new(write));
        let (tx, lines) = mpsc::unbounded_channel();
        let writer = write.clone();
        let reader = tokio::spawn(async move {
            let mut reader = BufReader::new(read).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let answer = records
                    && matches!(
                        SimMessage::from_line(&line),
                        Ok(SimMessage::Trigger { .. }
                            | SimMessage::TamperRestored { .. }
                            | SimMessage::Power { .. })
                    );
                if tx.send(line).is_err() {
                    return;
                }
                if answer {
                    let recorded = SimMessage::Recorded.to_line();
                    if writer
                        .lock()
                        .await
                        .write_all(recorded.as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        });
        Peer {
            lines,
            write,
            reader,
        }
    }

    /// Connects as `unit`'s agent and waits until the simulator knows it.
    pub async fn agent(sim: &Sim, unit: UnitId) -> Peer {
        Peer::register(sim, unit, true).await
    }

    /// An agent that reads triggers but never says it recorded them.
    pub async fn forgetful_agent(sim: &Sim, unit: UnitId) -> Peer {
        Peer::register(sim, unit, false).await
    }

    async fn register(sim: &Sim, unit: UnitId, records: bool) -> Peer {
        let mut peer = Peer::start(sim, records).await;
        peer.send(&SimMessage::Hello { unit }).await;
        let handle = sim.running.handle().clone();
        eventually("agent registered", || {
            let handle = handle.clone();
            async move { handle.connected_units().await.contains(&unit) }
        })
        .await;
        peer
    }

    pub async fn send(&mut self, message: &SimMessage) {
        self.send_raw(message.to_line().as_bytes()).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.write.lock().await.write_all(bytes).await.unwrap();
    }

    /// The next line, or `None` at end of stream.
    pub async fn next_line(&mut self) -> Option<String> {
        tokio::time::timeout(WAIT, self.lines.recv())
            .await
            .expect("timed out waiting for a line")
    }

    pub async fn next_message(&mut self) -> SimMessage {
        let line = self.next_line().await.expect("connection closed");
        SimMessage::from_line(&line).unwrap()
    }

    /// Sends a request and returns the answer.
    pub async fn request(&mut self, message: &SimMessage) -> SimMessage {
        self.send(message).await;
        self.next_message().await
    }

    /// No line arrives within a short while.
    pub async fn assert_silent(&mut self) {
        let quiet = tokio::time::timeout(Duration::from_millis(100), self.lines.recv()).await;
        assert!(quiet.is_err(), "expected no line, got {quiet:?}");
    }
}
