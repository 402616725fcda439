//! `picket-agent run`: the unit daemon.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use picket_agent::clock::SystemClock;
use picket_agent::config::AgentConfig;

/// Run the unit daemon: enforce arming locally, record sensor events in the
/// durable outbox, and sync with the hub over MQTT with mutual TLS. Runs
/// until Ctrl-C or SIGTERM.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Agent configuration file, as written by `picket-deploy unit provision`.
    #[arg(long, short, value_name = "FILE", default_value = "agent.toml")]
    config: PathBuf,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `picket_agent=debug`.
    #[arg(long, default_value = "info", env = "PICKET_LOG")]
    log: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log)?)
        .init();
    let config = AgentConfig::load(&args.config)?;
    // One thread: a unit does little at a time and must stay small.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        picket_agent::run::run(config, Arc::new(SystemClock), stop_rx).await?;
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = ctrl_c.await;
        return;
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
