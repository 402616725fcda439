//! The control side of the protocol: ask a running simulator to deliver a
//! trigger, tamper restore or power change, one answer per request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use picket_proto::sim::{MAX_LINE_BYTES, SimMessage};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::Error;
use crate::line::{Line, LineReader};

/// How long a client waits for an answer. Longer than the simulator's own
/// [`crate::sensors::DELIVERY_TIMEOUT`], so a slow agent is reported by the
/// simulator rather than as silence.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one request on a new connection: `Ok` if the simulator answered
/// `Delivered`, [`Error::NotDelivered`] with its reason if `Failed`.
pub async fn trigger(socket: impl AsRef<Path>, message: SimMessage) -> Result<(), Error> {
    Client::connect(socket).await?.request(&message).await
}

/// A control connection, for several requests in a row.
#[derive(Debug)]
pub struct Client {
    path: PathBuf,
    lines: LineReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Client {
    /// Connects to the simulator's socket.
    pub async fn connect(socket: impl AsRef<Path>) -> Result<Client, Error> {
        let path = socket.as_ref().to_path_buf();
        let stream = UnixStream::connect(&path)
            .await
            .map_err(|source| Error::Connect {
                path: path.clone(),
                source,
            })?;
        let (read, write) = stream.into_split();
        Ok(Client {
            path,
            lines: LineReader::new(read, MAX_LINE_BYTES),
            write,
        })
    }

    /// Sends `message` (a `Trigger`, `TamperRestored` or `Power`) and waits
    /// for the answer.
    pub async fn request(&mut self, message: &SimMessage) -> Result<(), Error> {
        self.write
            .write_all(message.to_line().as_bytes())
            .await
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })?;
        let line = match tokio::time::timeout(ANSWER_TIMEOUT, self.lines.next_line()).await {
            Err(_) => {
                return Err(self.no_answer(format!("none within {} s", ANSWER_TIMEOUT.as_secs())));
            }
            Ok(Err(source)) => {
                return Err(Error::Io {
                    path: self.path.clone(),
                    source,
                });
            }
            Ok(Ok(None)) => return Err(self.no_answer("it closed the connection".to_owned())),
            Ok(Ok(Some(line))) => line,
        };
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong { bytes } => {
                return Err(self.unexpected(format!("a line of {bytes} bytes")));
            }
            Line::NotUtf8 => return Err(self.unexpected("a line that is not UTF-8".to_owned())),
        };
        match SimMessage::from_line(&text) {
            Ok(SimMessage::Delivered) => Ok(()),
            Ok(SimMessage::Failed { reason }) => Err(Error::NotDelivered { reason }),
            _ => Err(self.unexpected(text.chars().take(200).collect())),
        }
    }

    fn no_answer(&self, detail: String) -> Error {
        Error::NoAnswer {
            path: self.path.clone(),
            detail,
        }
    }

    fn unexpected(&self, answer: String) -> Error {
        Error::UnexpectedAnswer {
            path: self.path.clone(),
            answer,
        }
    }
}
