//! Command-line interface: one subcommand per file.

mod audit;
mod serve;

use clap::{Parser, Subcommand};

/// The Picket hub: MQTT over mutual TLS for units, store, and operator API.
#[derive(Debug, Parser)]
#[command(name = "picket-hub", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Serve(serve::Args),
    Audit(audit::Args),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => serve::run(args),
            Command::Audit(args) => audit::run(args),
        }
    }
}
