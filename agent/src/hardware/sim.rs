//! The simulator backend: `picket-sim sensors` over a Unix socket. It
//! reconnects on its own and answers each trigger, tamper restore or power
//! change `recorded` only once the core has recorded it, one at a time and
//! in order.

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
                    Ok(SimMessage::TamperRestored { unit: to, sensor }) if to == unit => {
                        Trigger::TamperRestored { sensor }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use picket_proto::level::SensorKind;
    use tokio::net::UnixListener;

    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn a_tamper_and_its_restore_become_triggers_answered_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("sim.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let unit: UnitId = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b".parse().unwrap();
        let (_outputs_tx, outputs) = watch::channel(None);
        let mut inputs = spawn_sim(unit, socket, outputs);

        // Play the simulator: take the agent's connection and its hello.
        let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .unwrap()
            .unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        assert_eq!(next_message(&mut lines).await, SimMessage::Hello { unit });

        let tamper = SimMessage::Trigger {
            unit,
            sensor: "tamper-1".into(),
            kind: SensorKind::Tamper,
        };
        let restored = SimMessage::TamperRestored {
            unit,
            sensor: "tamper-1".into(),
        };
        for line in [tamper, restored] {
            write.write_all(line.to_line().as_bytes()).await.unwrap();
        }

        let expected = [
            Trigger::Sensor {
                sensor: "tamper-1".into(),
                kind: SensorKind::Tamper,
                camera: None,
            },
            Trigger::TamperRestored {
                sensor: "tamper-1".into(),
            },
        ];
        for trigger in expected {
            let input = tokio::time::timeout(WAIT, inputs.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(input.trigger, trigger);
            // The next trigger is read only once this one is recorded and
            // answered.
            assert!(inputs.try_recv().is_err());
            input.recorded.send(()).unwrap();
            assert_eq!(next_message(&mut lines).await, SimMessage::Recorded);
        }
    }

    async fn next_message(
        lines: &mut tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>,
    ) -> SimMessage {
        let line = tokio::time::timeout(WAIT, lines.next_line()).await;
        SimMessage::from_line(&line.unwrap().unwrap().unwrap()).unwrap()
    }
}
