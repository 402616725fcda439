//! Command-line interface: one subcommand per file.

mod plan;
mod run;

use clap::{Parser, Subcommand};

/// The Picket unit daemon.
#[derive(Debug, Parser)]
#[command(name = "picket-agent", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Plan(plan::Args),
    Run(run::Args),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Plan(args) => plan::run(args),
            Command::Run(args) => run::run(args),
        }
    }
}
