//! The simulator backend: `picket-sim sensors` over a Unix socket. It
//! reconnects on its own and answers each trigger `recorded` only once the
//! core has recorded it.

use std::path::PathBuf;
use std::time::Duration;

use picket_proto::ids::UnitId;
use picket_proto::sim::{MAX_LINE_BYTES, SimMessage};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot, watch};

use super::{Input, Outputs};
use crate::sensors::Trigger;

/// Starts the simulator backend for `unit`. Inputs arrive on the returned
/// receiver; publish outputs through `outputs`. Each trigger is answered to
/// the simulator only after the core recorded it, so a trigger the unit
/// acknowledged is never lost, whatever happens next.
pub fn spawn_sim(
    unit: UnitId,
    socket: PathBuf,
    mut outputs: watch::Receiver<Option<Outputs>>,
) -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        loop {
            match UnixStream::connect(&socket).await {
                Ok(stream) => {
                    delay = Duration::from_millis(200);
                    tracing::info!(socket = %socket.display(), "connected to the hardware simulator");
                    if let Err(e) = serve(unit, stream, &tx, &mut outputs).await {
                        tracing::warn!(error = %e, "hardware simulator connection ended");
                    }
                    if tx.is_closed() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::debug!(socket = %socket.display(), error = %e, "hardware simulator not reachable");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    });
    rx
}

async fn serve(
    unit: UnitId,
    stream: UnixStream,
    triggers: &mpsc::Sender<Input>,
    outputs: &mut watch::Receiver<Option<Outputs>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    write
        .write_all(SimMessage::Hello { unit }.to_line().as_bytes())
        .await?;
    // Tell the simulator the current outputs at once.
    let current = *outputs.borrow_and_update();
    if let Some(o) = current {
        write.write_all(outputs_line(o).as_bytes()).await?;
    }
    let mut lines = BufReader::new(read).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { return Ok(()) };
                if line.len() > MAX_LINE_BYTES {
                    tracing::warn!(len = line.len(), "over-long line from the simulator ignored");
                    continue;
                }
                let trigger = match SimMessage::from_line(&line) {
                    Ok(SimMessage::Trigger { unit: to, sensor, kind }) if to == unit => {
                        Trigger::Sensor { sensor, kind, camera: None }
                    }
                    Ok(SimMessage::Power { unit: to, event }) if to == unit => Trigger::Power(event),
                    Ok(other) => {
                        tracing::warn!(?other, "unexpected message from the simulator ignored");
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "bad line from the simulator ignored");
                        continue;
                    }
                };
                let (recorded, done) = oneshot::channel();
                if triggers.send(Input { trigger, recorded }).await.is_err() || done.await.is_err() {
                    return Ok(());
                }
                write.write_all(SimMessage::Recorded.to_line().as_bytes()).await?;
            }
            changed = outputs.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                let current = *outputs.borrow_and_update();
                if let Some(o) = current {
                    write.write_all(outputs_line(o).as_bytes()).await?;
                }
            }
        }
    }
}

fn outputs_line(o: Outputs) -> String {
    SimMessage::Outputs {
        state: o.state,
        siren: o.siren,
        strobe: o.strobe,
    }
    .to_line()
}
