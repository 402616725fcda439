//! `picket-hub serve`: run the hub until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use picket_hub::clock::SystemClock;
use picket_hub::config::HubConfig;

/// Run the hub: the units' MQTT front (mTLS, one topic prefix per unit),
/// the SQLite store and ingest, until Ctrl-C or SIGTERM.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Hub configuration file (TOML). Relative paths in it are relative to
    /// the file. See the `picket_hub::config` docs for every field.
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// Override the MQTT listen address from the file (e.g. 127.0.0.1:8883).
    #[arg(long, value_name = "ADDR")]
    mqtt_listen: Option<SocketAddr>,
    /// Override the API listen address from the file (e.g. 127.0.0.1:8480).
    #[arg(long, value_name = "ADDR")]
    api_listen: Option<SocketAddr>,
    /// Override the data directory from the file.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `picket_hub=debug`.
    #[arg(long, default_value = "info", env = "PICKET_LOG")]
    log: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log)?)
        .init();
    let mut config = HubConfig::load(&args.config)?;
    if let Some(listen) = args.mqtt_listen {
        config.mqtt.listen = listen;
    }
    if let Some(listen) = args.api_listen {
        config.api.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let hub = picket_hub::run::start(&config, Arc::new(SystemClock)).await?;
        shutdown_signal().await;
        tracing::info!("stopping");
        hub.stop();
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
