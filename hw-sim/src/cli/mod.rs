//! Command-line interface: one subcommand per file.

mod camera;
mod camera_control;
mod fleet;
mod scenario;
mod sensors;
mod trigger;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Simulated Picket hardware.
///
/// `sensors` runs the sensor simulator that agents (with the `sim` hardware
/// backend) connect to; `trigger` and `scenario` fire its sensors. `camera`
/// serves RTSP test cameras with a stamped capture instant and frame number
/// in every frame; `camera-control` drops and restores their streams.
/// `fleet` connects many simulated units straight to a hub over MQTT and
/// measures it. Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) for
/// more or less.
#[derive(Debug, Parser)]
#[command(name = "picket-sim", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Sensors(sensors::Args),
    Trigger(trigger::Args),
    Scenario(scenario::Args),
    Camera(camera::Args),
    CameraControl(camera_control::Args),
    Fleet(fleet::Args),
}

impl Cli {
    /// Runs the chosen subcommand on a tokio runtime.
    pub fn run(self) -> anyhow::Result<()> {
        tracing_subscriber::fmt()
            .with_env_filter(
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
            )
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
        // A fleet of hundreds of TLS connections wants both cores.
        let runtime = match self.command {
            Command::Fleet(_) => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?,
            _ => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        };
        runtime.block_on(async {
            match self.command {
                Command::Sensors(args) => sensors::run(args).await,
                Command::Trigger(args) => trigger::run(args).await,
                Command::Scenario(args) => scenario::run(args).await,
                Command::Camera(args) => camera::run(args).await,
                Command::CameraControl(args) => camera_control::run(args).await,
                Command::Fleet(args) => fleet::run(args).await,
            }
        })
    }
}
