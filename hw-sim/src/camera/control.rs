//! The cameras' control socket: one JSON object per line on a Unix socket,
//! each answered with one line.
//!
//! | request                  | answer                                   |
//! |--------------------------|------------------------------------------|
//! | `{"drop":"north"}`       | `{"ok":true}`: north's stream is cut      |
//! | `{"restore":"north"}`    | `{"ok":true}`: north serves again         |
//! | anything else            | `{"error":"..."}` saying why              |
//!
//! Dropping a dropped camera and restoring a serving one are answered
//! `{"ok":true}` (the camera is in the state asked for). A connection may
//! send any number of requests.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;

use super::CameraHandle;
use crate::Error;
use crate::line::{Line, LineReader};
use crate::socket_file::{self, SocketFile};

/// The longest request or answer line, in bytes.
pub const MAX_LINE_BYTES: usize = 1024;
/// How long a client waits for an answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// A request on the control socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlRequest {
    /// Cut the named camera's stream: clients are disconnected, new ones
    /// refused.
    Drop(String),
    /// Serve the named camera again.
    Restore(String),
}

impl ControlRequest {
    /// The request as one line, newline included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ControlAnswer {
    /// Done: `{"ok":true}`.
    Ok {
        /// Always `true`.
        ok: bool,
    },
    /// Not done: `{"error":"..."}`.
    Error {
        /// Why.
        error: String,
    },
}

impl ControlAnswer {
    fn done() -> ControlAnswer {
        ControlAnswer::Ok { ok: true }
    }

    fn refused(error: impl ToString) -> ControlAnswer {
        ControlAnswer::Error {
            error: error.to_string(),
        }
    }

    fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// A bound control socket, not yet serving. Dropping it removes the socket
/// file.
#[derive(Debug)]
pub struct ControlServer {
    listener: std::os::unix::net::UnixListener,
    socket: SocketFile,
}

impl ControlServer {
    /// Binds `path`, replacing a stale socket file but never a live socket
    /// or another file.
    pub fn bind(path: impl AsRef<Path>) -> Result<ControlServer, Error> {
        let path = path.as_ref();
        Ok(ControlServer {
            listener: socket_file::bind(path)?,
            socket: SocketFile::new(path.to_path_buf()),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        self.socket.path()
    }

    /// Answers requests for `cameras` until `shutdown` completes, then
    /// closes every connection and removes the socket file.
    pub async fn run(
        self,
        cameras: CameraHandle,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let ControlServer { listener, socket } = self;
        let listener = UnixListener::from_std(listener).map_err(|source| Error::Bind {
            path: socket.path().to_path_buf(),
            source,
        })?;
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(serve(stream, cameras.clone()));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a control connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
            while connections.try_join_next().is_some() {}
        }
        connections.shutdown().await;
        drop(socket);
        Ok(())
    }
}

/// Answers one connection's lines in order.
async fn serve(stream: UnixStream, cameras: CameraHandle) {
    let (read, mut write) = stream.into_split();
    let mut lines = LineReader::new(read, MAX_LINE_BYTES);
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(error = %e, "control connection broke");
                return;
            }
        };
        let answer = answer(&cameras, line).await;
        if let Err(e) = write.write_all(answer.to_line().as_bytes()).await {
            tracing::debug!(error = %e, "control connection broke");
            return;
        }
    }
}

async fn answer(cameras: &CameraHandle, line: Line) -> ControlAnswer {
    let text = match line {
        Line::Text(text) => text,
        Line::TooLong { bytes } => {
            return ControlAnswer::refused(format!(
                "a line of {bytes} bytes is over the limit of {MAX_LINE_BYTES}"
            ));
        }
        Line::NotUtf8 => return ControlAnswer::refused("the line is not UTF-8"),
    };
    let request = match serde_json::from_str::<ControlRequest>(&text) {
        Ok(request) => request,
        Err(e) => {
            return ControlAnswer::refused(format!(
                "not a request ({e}): send {{\"drop\":\"NAME\"}} or {{\"restore\":\"NAME\"}}"
            ));
        }
    };
    let cameras = cameras.clone();
    // The handle waits for the GStreamer thread: keep it off the runtime.
    let done = tokio::task::spawn_blocking(move || match &request {
        ControlRequest::Drop(name) => cameras.drop_stream(name),
        ControlRequest::Restore(name) => cameras.restore_stream(name),
    })
    .await;
    match done {
        Ok(Ok(())) => ControlAnswer::done(),
        Ok(Err(e)) => ControlAnswer::refused(e),
        Err(e) => ControlAnswer::refused(format!("internal error: {e}")),
    }
}

/// Sends one request on a new connection to the control socket at
/// `socket`: `Ok` if answered `{"ok":true}`, [`Error::Refused`] with the
/// reason if answered `{"error":...}`.
pub async fn request(socket: impl AsRef<Path>, request: &ControlRequest) -> Result<(), Error> {
    let path: PathBuf = socket.as_ref().to_path_buf();
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let stream = UnixStream::connect(&path)
        .await
        .map_err(|source| Error::Connect {
            path: path.clone(),
            source,
        })?;
    let (read, mut write) = stream.into_split();
    write
        .write_all(request.to_line().as_bytes())
        .await
        .map_err(io)?;
    let mut lines = LineReader::new(read, MAX_LINE_BYTES);
    let line = match tokio::time::timeout(ANSWER_TIMEOUT, lines.next_line()).await {
        Err(_) => {
            return Err(Error::NoAnswer {
                path,
                detail: format!("none within {} s", ANSWER_TIMEOUT.as_secs()),
            });
        }
        Ok(Err(source)) => return Err(io(source)),
        Ok(Ok(None)) => {
            return Err(Error::NoAnswer {
                path,
                detail: "it closed the connection".to_owned(),
            });
        }
        Ok(Ok(Some(line))) => line,
    };
    let unexpected = |answer: String| Error::UnexpectedAnswer {
        path: path.clone(),
        answer,
    };
    let Line::Text(text) = line else {
        return Err(unexpected(format!("{line:?}")));
    };
    match serde_json::from_str::<ControlAnswer>(&text) {
        Ok(ControlAnswer::Ok { ok: true }) => Ok(()),
        Ok(ControlAnswer::Error { error }) => Err(Error::Refused { reason: error }),
        _ => Err(unexpected(text.chars().take(200).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_are_the_documented_lines() {
        assert_eq!(
            ControlRequest::Drop("north".into()).to_line(),
            "{\"drop\":\"north\"}\n"
        );
        assert_eq!(
            serde_json::from_str::<ControlRequest>(r#"{"restore":"north"}"#).unwrap(),
            ControlRequest::Restore("north".into())
        );
        assert_eq!(ControlAnswer::done().to_line(), "{\"ok\":true}\n");
        assert_eq!(
            ControlAnswer::refused("no").to_line(),
            "{\"error\":\"no\"}\n"
        );
        for bad in [r#"{"pause":"north"}"#, r#"{"drop":1}"#, "drop north", "{}"] {
            assert!(
                serde_json::from_str::<ControlRequest>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
