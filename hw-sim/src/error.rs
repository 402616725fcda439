//! The crate's error type.

use std::io;
use std::path::PathBuf;

use crate::scenario::ScenarioError;

/// Anything `picket-sim`'s library can fail with. Each variant carries the
/// socket or file involved so a message alone is enough to act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another simulator is already listening on this socket.
    #[error("socket {} is in use by a running simulator", path.display())]
    InUse {
        /// The socket path.
        path: PathBuf,
    },
    /// The path exists and is not a socket; we refuse to delete it.
    #[error("{} exists and is not a socket; refusing to replace it", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// Binding the listening socket failed.
    #[error("binding simulator socket {}", path.display())]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The simulator has stopped, so it cannot take the request.
    #[error("the simulator has stopped")]
    Stopped,
    /// A control client could not reach the simulator.
    #[error("connecting to simulator at {}", path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A control client's connection broke mid-request.
    #[error("talking to simulator at {}", path.display())]
    Io {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The simulator did not answer in time or closed the connection.
    #[error("simulator at {} gave no answer: {detail}", path.display())]
    NoAnswer {
        /// The socket path.
        path: PathBuf,
        /// What happened instead.
        detail: String,
    },
    /// The simulator answered something it should not have.
    #[error("simulator at {} answered unexpectedly: {answer}", path.display())]
    UnexpectedAnswer {
        /// The socket path.
        path: PathBuf,
        /// The answer, as received (truncated).
        answer: String,
    },
    /// The simulator answered `Failed`: the request was not delivered.
    #[error("not delivered: {reason}")]
    NotDelivered {
        /// The simulator's reason.
        reason: String,
    },
    /// The camera server refused a control request (`{"error":...}`).
    #[error("refused: {reason}")]
    Refused {
        /// The server's reason.
        reason: String,
    },
    /// A sensor name, id or flag combination is not valid.
    #[error(transparent)]
    Sensor(#[from] crate::sensor_name::SensorNameError),
    /// A scenario file is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}
