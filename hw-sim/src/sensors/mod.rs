//! The sensor simulator: one Unix socket that agents and control clients
//! share.
//!
//! - An agent connects and sends `Hello { unit }`; from then on the
//!   connection is that unit's: triggers for the unit are written to it and
//!   its `Outputs` lines are recorded. A newer `Hello` for the same unit
//!   replaces (and closes) the older connection.
//! - Any other connection is a control connection: each `Trigger`,
//!   `TamperRestored` or `Power` line is forwarded to the unit's agent and
//!   answered with `Delivered` (once the agent recorded it) or
//!   `Failed { reason }`.
//!   Malformed lines are answered with `Failed` and the connection stays.
//!
//! State (who is connected, the latest outputs) is owned by one registry
//! task; connection tasks talk to it through a [`Handle`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), picket_sim::Error> {
//! use picket_sim::sensors::Simulator;
//! let running = Simulator::bind("/tmp/picket-sim.sock")?.spawn();
//! // ... agents connect, triggers flow ...
//! running.shutdown().await
//! # }
//! ```

mod connection;
mod registry;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use picket_proto::arming::ArmState;
use picket_proto::ids::UnitId;
use picket_proto::sim::SimMessage;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::Error;
use crate::socket_file::{self as socket, SocketFile};
use registry::{ConnectionId, Request};

/// How long a control request waits for the agent's socket to take the
/// line before it is answered `Failed`.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a unit's outputs show, as it last reported them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outputs {
    /// The arm state (the status LED).
    pub state: ArmState,
    /// Siren sounding.
    pub siren: bool,
    /// Strobe flashing.
    pub strobe: bool,
}

/// A bound simulator, not yet serving. Dropping it removes the socket file.
#[derive(Debug)]
pub struct Simulator {
    listener: std::os::unix::net::UnixListener,
    socket: SocketFile,
    handle: Handle,
    requests: mpsc::Receiver<Request>,
}

impl Simulator {
    /// Binds the socket at `path`. A stale socket file (nobody listening) is
    /// removed first; a live simulator on it is [`Error::InUse`]; a path that
    /// is not a socket is left alone ([`Error::NotASocket`]).
    pub fn bind(path: impl AsRef<Path>) -> Result<Simulator, Error> {
        let path = path.as_ref();
        let listener = socket::bind(path)?;
        let (requests_tx, requests) = mpsc::channel(registry::QUEUE);
        Ok(Simulator {
            listener,
            socket: SocketFile::new(path.to_path_buf()),
            handle: Handle {
                requests: requests_tx,
            },
            requests,
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        self.socket.path()
    }

    /// A handle to inspect the simulator while it runs.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Serves until `shutdown` completes, then closes every connection and
    /// removes the socket file. Must run inside a tokio runtime.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let Simulator {
            listener,
            socket,
            handle,
            requests,
        } = self;
        let listener = UnixListener::from_std(listener).map_err(|source| Error::Bind {
            path: socket.path().to_path_buf(),
            source,
        })?;
        tracing::info!(socket = %socket.path().display(), "sensor simulator listening");
        // Every task lives in this set: leaving `run` (or dropping its
        // future) aborts the registry and all connections.
        let mut tasks = JoinSet::new();
        tasks.spawn(registry::run(requests));
        let mut accepted_count = 0u64;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        accepted_count += 1;
                        let id = ConnectionId(accepted_count);
                        tasks.spawn(connection::serve(stream, id, handle.clone()));
                    }
                    Err(e) => {
                        // Usually out of file descriptors: back off, keep serving.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
            while let Some(ended) = tasks.try_join_next() {
                if let Err(e) = ended
                    && e.is_panic()
                {
                    tracing::error!(error = %e, "a simulator task panicked (a bug)");
                }
            }
        }
        tracing::info!(socket = %socket.path().display(), "sensor simulator stopping");
        tasks.shutdown().await;
        drop(socket);
        Ok(())
    }

    /// Runs the simulator on a new task. Dropping the returned [`Running`]
    /// stops it too.
    pub fn spawn(self) -> Running {
        let handle = self.handle();
        let path = self.path().to_path_buf();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run(async move {
            // Sent or dropped: either way, stop.
            let _ = stopped.await;
        }));
        Running {
            handle,
            path,
            stop,
            task,
        }
    }
}

/// A simulator running on its own task.
#[derive(Debug)]
pub struct Running {
    handle: Handle,
    path: PathBuf,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

impl Running {
    /// A handle to inspect the simulator.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the simulator and waits until every connection is closed and
    /// the socket file removed.
    pub async fn shutdown(self) -> Result<(), Error> {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Error::Stopped),
        }
    }
}

/// Talks to a simulator's registry: cheap to clone, usable from any task.
#[derive(Clone, Debug)]
pub struct Handle {
    requests: mpsc::Sender<Request>,
}

impl Handle {
    /// The outputs `unit` last reported, if it ever did (kept after it
    /// disconnects). `None` as well once the simulator has stopped.
    pub async fn outputs(&self, unit: UnitId) -> Option<Outputs> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Outputs { unit, reply })
            .await
            .ok()?;
        answer.await.ok().flatten()
    }

    /// The units with an agent connected now, sorted.
    pub async fn connected_units(&self) -> Vec<UnitId> {
        let (reply, answer) = oneshot::channel();
        if self
            .requests
            .send(Request::Connected { reply })
            .await
            .is_err()
        {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Forwards a `Trigger`, `TamperRestored` or `Power` message to its
    /// unit's agent, as a control client would: `Ok` once the agent says it
    /// recorded it.
    pub async fn deliver(&self, message: SimMessage) -> Result<(), Error> {
        self.deliver_or_reason(message)
            .await
            .map_err(|reason| Error::NotDelivered { reason })
    }

    /// [`Handle::deliver`] with the reason as the protocol's `Failed` text.
    async fn deliver_or_reason(&self, message: SimMessage) -> Result<(), String> {
        let unit = match &message {
            SimMessage::Trigger { unit, .. }
            | SimMessage::TamperRestored { unit, .. }
            | SimMessage::Power { unit, .. } => *unit,
            _ => {
                return Err(
                    "only trigger, tamper_restored and power messages can be delivered".to_owned(),
                );
            }
        };
        let (done, result) = oneshot::channel();
        self.requests
            .send(Request::Deliver {
                unit,
                message,
                done,
            })
            .await
            .map_err(|_| "the simulator is stopping".to_owned())?;
        match tokio::time::timeout(DELIVERY_TIMEOUT, result).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(format!(
                "unit {unit} disconnected before taking the message"
            )),
            Err(_) => Err(format!(
                "unit {unit} did not take the message within {} s",
                DELIVERY_TIMEOUT.as_secs()
            )),
        }
    }

    /// Makes `connection` the agent of `unit`; its queue of lines to write
    /// is `forward`.
    async fn register(
        &self,
        unit: UnitId,
        connection: ConnectionId,
        forward: mpsc::Sender<registry::Forward>,
    ) -> Result<(), Error> {
        self.send(Request::Register {
            unit,
            connection,
            forward,
        })
        .await
    }

    /// `connection`, the agent of `unit`, has ended.
    async fn unregister(&self, unit: UnitId, connection: ConnectionId) {
        // If the registry is gone there is nothing left to unregister from.
        let _ = self.send(Request::Unregister { unit, connection }).await;
    }

    /// `connection`, the agent of `unit`, reports its outputs.
    async fn report(&self, unit: UnitId, connection: ConnectionId, outputs: Outputs) {
        let _ = self
            .send(Request::Report {
                unit,
                connection,
                outputs,
            })
            .await;
    }

    async fn send(&self, request: Request) -> Result<(), Error> {
        self.requests
            .send(request)
            .await
            .map_err(|_| Error::Stopped)
    }
}
