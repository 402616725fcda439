//! One accepted connection: a control client until it says `Hello`, then
//! that unit's agent.

use picket_proto::ids::UnitId;
use picket_proto::sim::{MAX_LINE_BYTES, SimMessage};
use std::collections::VecDeque;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use tokio::sync::{mpsc, oneshot};

use super::registry::{AGENT_QUEUE, ConnectionId};
use super::{Handle, Outputs};
use crate::line::{Line, LineReader};
use crate::sensor_name::describe;

/// Serves one connection until it closes, is replaced or the simulator
/// stops.
pub(super) async fn serve(stream: UnixStream, connection: ConnectionId, handle: Handle) {
    let (read, mut write) = stream.into_split();
    let mut lines = LineReader::new(read, MAX_LINE_BYTES);
    let mut made_requests = false;
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!(%connection, error = %e, "control connection broke");
                return;
            }
        };
        let answer = match parse(line) {
            Err(reason) => {
                tracing::warn!(%connection, %reason, "refused a line from a control client");
                SimMessage::Failed { reason }
            }
            Ok(SimMessage::Hello { unit }) if !made_requests => {
                serve_agent(unit, connection, lines, write, handle).await;
                return;
            }
            Ok(SimMessage::Hello { .. }) => SimMessage::Failed {
                reason: "hello must be the first message on a connection".to_owned(),
            },
            Ok(
                message @ (SimMessage::Trigger { .. }
                | SimMessage::TamperRestored { .. }
                | SimMessage::Power { .. }),
            ) => {
                made_requests = true;
                let what = describe(&message);
                match handle.deliver_or_reason(message).await {
                    Ok(()) => SimMessage::Delivered,
                    Err(reason) => {
                        tracing::warn!(%connection, %reason, "could not deliver {what}");
                        SimMessage::Failed { reason }
                    }
                }
            }
            Ok(SimMessage::Outputs { .. }) => SimMessage::Failed {
                reason: "outputs before hello: an agent says hello first".to_owned(),
            },
            Ok(other) => SimMessage::Failed {
                reason: format!(
                    "unexpected {}: control clients send trigger, tamper_restored or power",
                    tag(&other)
                ),
            },
        };
        if let Err(e) = write.write_all(answer.to_line().as_bytes()).await {
            tracing::debug!(%connection, error = %e, "control client went away before its answer");
            return;
        }
    }
}

/// Serves `unit`'s agent: writes what is forwarded to it, records what it
/// reports, until it disconnects or a newer connection replaces it.
async fn serve_agent(
    unit: UnitId,
    connection: ConnectionId,
    mut lines: LineReader<OwnedReadHalf>,
    mut write: OwnedWriteHalf,
    handle: Handle,
) {
    let (forward_tx, mut forward) = mpsc::channel(AGENT_QUEUE);
    if handle.register(unit, connection, forward_tx).await.is_err() {
        return; // the simulator is stopping
    }
    // Forwarded and written, waiting for the agent's `Recorded`, in order.
    let mut awaiting: VecDeque<(String, oneshot::Sender<Result<(), String>>)> = VecDeque::new();
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => match parse(line) {
                    Ok(SimMessage::Recorded) => match awaiting.pop_front() {
                        Some((what, done)) => {
                            tracing::info!(%unit, %connection, "unit recorded {what}");
                            let _ = done.send(Ok(()));
                        }
                        None => tracing::warn!(%unit, %connection, "recorded with nothing outstanding"),
                    },
                    parsed => on_agent_line(unit, connection, parsed, &handle).await,
                },
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%unit, %connection, error = %e, "agent connection broke");
                    break;
                }
            },
            next = forward.recv() => {
                let Some(item) = next else {
                    tracing::info!(%unit, %connection, "closing the replaced connection");
                    break;
                };
                let what = describe(&item.message);
                match write.write_all(item.message.to_line().as_bytes()).await {
                    Ok(()) => {
                        tracing::debug!(%unit, %connection, "forwarded {what}");
                        awaiting.push_back((what, item.done));
                    }
                    Err(e) => {
                        tracing::warn!(%unit, %connection, error = %e, "could not forward {what}");
                        let _ = item.done.send(Err(format!("writing to unit {unit}: {e}")));
                        break;
                    }
                }
            }
        }
    }
    for (what, done) in awaiting {
        let _ = done.send(Err(format!(
            "unit {unit} disconnected before recording {what}"
        )));
    }
    handle.unregister(unit, connection).await;
}

async fn on_agent_line(
    unit: UnitId,
    connection: ConnectionId,
    parsed: Result<SimMessage, String>,
    handle: &Handle,
) {
    match parsed {
        Ok(SimMessage::Outputs {
            state,
            siren,
            strobe,
        }) => {
            let outputs = Outputs {
                state,
                siren,
                strobe,
            };
            handle.report(unit, connection, outputs).await;
        }
        Ok(SimMessage::Hello { unit: again }) if again == unit => {}
        Ok(other) => {
            tracing::warn!(%unit, %connection, "ignoring {} from an agent", tag(&other));
        }
        Err(reason) => {
            tracing::warn!(%unit, %connection, %reason, "ignoring a line from an agent");
        }
    }
}

/// A line as a message, or the reason it is refused.
fn parse(line: Line) -> Result<SimMessage, String> {
    match line {
        Line::Text(text) => SimMessage::from_line(&text),
        Line::TooLong { bytes } => Err(format!("line of {bytes} bytes exceeds {MAX_LINE_BYTES}")),
        Line::NotUtf8 => Err("line is not UTF-8".to_owned()),
    }
}

/// The message's name for logs and answers (`hello`, `delivered`, …).
fn tag(message: &SimMessage) -> &'static str {
    match message {
        SimMessage::Hello { .. } => "hello",
        SimMessage::Trigger { .. } => "trigger",
        SimMessage::TamperRestored { .. } => "tamper_restored",
        SimMessage::Power { .. } => "power",
        SimMessage::Outputs { .. } => "outputs",
        SimMessage::Recorded => "recorded",
        SimMessage::Delivered => "delivered",
        SimMessage::Failed { .. } => "failed",
        _ => "an unknown message",
    }
}
