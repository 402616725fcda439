//! `picket-sim sensors`: run the sensor simulator.

use std::path::PathBuf;

use anyhow::Context;
use picket_sim::sensors::Simulator;
use tokio::signal::unix::{SignalKind, signal};

/// Run the sensor simulator until Ctrl-C or SIGTERM.
///
/// Agents connect to the socket and say hello with their unit id; `picket-sim trigger` and
/// `picket-sim scenario` connect to the same socket to fire their sensors.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Unix socket to listen on. A stale socket file left by a simulator that
    /// died is replaced; a running simulator's socket is refused.
    #[arg(long, value_name = "PATH", env = "PICKET_SIM_SOCKET")]
    socket: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let simulator = Simulator::bind(&args.socket)?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    println!(
        "sensor simulator listening on {} (Ctrl-C to stop)",
        args.socket.display()
    );
    simulator
        .run(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        })
        .await?;
    Ok(())
}
