//! The registry task: the one owner of "which connection is which unit's
//! agent" and "what each unit's outputs last showed".
//!
//! It never awaits IO: a delivery is handed to the agent's connection task
//! through a bounded queue, and that task answers the control client once
//! the line is written.

use std::collections::HashMap;

use picket_proto::ids::UnitId;
use picket_proto::sim::SimMessage;
use tokio::sync::{mpsc, oneshot};

use super::Outputs;

/// Depth of the registry's request queue.
pub(super) const QUEUE: usize = 256;
/// Depth of each agent's queue of messages to write.
pub(super) const AGENT_QUEUE: usize = 64;

/// Which accepted connection (numbered from 1), to tell an old connection of
/// a unit from its replacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ConnectionId(pub(super) u64);

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A message for an agent's connection task to write, and where to say
/// whether it was written.
#[derive(Debug)]
pub(super) struct Forward {
    pub(super) message: SimMessage,
    pub(super) done: oneshot::Sender<Result<(), String>>,
}

/// What the registry does, one request at a time.
#[derive(Debug)]
pub(super) enum Request {
    /// A connection said `Hello`: it is now this unit's agent.
    Register {
        unit: UnitId,
        connection: ConnectionId,
        forward: mpsc::Sender<Forward>,
    },
    /// An agent connection ended.
    Unregister {
        unit: UnitId,
        connection: ConnectionId,
    },
    /// Forward a message to a unit's agent.
    Deliver {
        unit: UnitId,
        message: SimMessage,
        done: oneshot::Sender<Result<(), String>>,
    },
    /// An agent reported its outputs.
    Report {
        unit: UnitId,
        connection: ConnectionId,
        outputs: Outputs,
    },
    /// The latest outputs of a unit.
    Outputs {
        unit: UnitId,
        reply: oneshot::Sender<Option<Outputs>>,
    },
    /// The units connected now.
    Connected { reply: oneshot::Sender<Vec<UnitId>> },
}

#[derive(Debug)]
struct Agent {
    connection: ConnectionId,
    forward: mpsc::Sender<Forward>,
}

#[derive(Debug, Default)]
struct Registry {
    agents: HashMap<UnitId, Agent>,
    outputs: HashMap<UnitId, Outputs>,
}

/// Serves requests until every handle is gone (or the task is aborted).
pub(super) async fn run(mut requests: mpsc::Receiver<Request>) {
    let mut registry = Registry::default();
    while let Some(request) = requests.recv().await {
        registry.handle(request);
    }
}

impl Registry {
    fn handle(&mut self, request: Request) {
        match request {
            Request::Register {
                unit,
                connection,
                forward,
            } => {
                let previous = self.agents.insert(
                    unit,
                    Agent {
                        connection,
                        forward,
                    },
                );
                if let Some(previous) = previous {
                    // Dropping its queue tells the old connection to close.
                    tracing::info!(
                        %unit,
                        old = %previous.connection,
                        new = %connection,
                        "unit connected again; the newer connection replaces the older"
                    );
                } else {
                    tracing::info!(%unit, %connection, "agent connected");
                }
            }
            Request::Unregister { unit, connection } => {
                if self.agents.get(&unit).map(|a| a.connection) == Some(connection) {
                    self.agents.remove(&unit);
                    tracing::info!(%unit, %connection, "agent disconnected");
                }
            }
            Request::Deliver {
                unit,
                message,
                done,
            } => self.deliver(unit, message, done),
            Request::Report {
                unit,
                connection,
                outputs,
            } => {
                let current = self.agents.get(&unit).map(|a| a.connection) == Some(connection);
                if !current {
                    tracing::debug!(%unit, %connection, "ignoring outputs from a replaced connection");
                    return;
                }
                if self.outputs.insert(unit, outputs) != Some(outputs) {
                    tracing::info!(
                        %unit,
                        state = ?outputs.state,
                        siren = outputs.siren,
                        strobe = outputs.strobe,
                        "unit outputs changed"
                    );
                }
            }
            Request::Outputs { unit, reply } => {
                let _ = reply.send(self.outputs.get(&unit).copied());
            }
            Request::Connected { reply } => {
                let mut units: Vec<UnitId> = self.agents.keys().copied().collect();
                units.sort();
                let _ = reply.send(units);
            }
        }
    }

    fn deliver(
        &mut self,
        unit: UnitId,
        message: SimMessage,
        done: oneshot::Sender<Result<(), String>>,
    ) {
        let Some(agent) = self.agents.get(&unit) else {
            let _ = done.send(Err(format!("unit {unit} is not connected")));
            return;
        };
        match agent.forward.try_send(Forward { message, done }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(forward)) => {
                let _ = forward.done.send(Err(format!(
                    "unit {unit} is not reading its socket ({AGENT_QUEUE} messages queued)"
                )));
            }
            Err(mpsc::error::TrySendError::Closed(forward)) => {
                self.agents.remove(&unit);
                let _ = forward
                    .done
                    .send(Err(format!("unit {unit} is not connected")));
            }
        }
    }
}
