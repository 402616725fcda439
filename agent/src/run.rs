//! Wiring the agent together: store, core, link and hardware, one task
//! each, until shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::config::{AgentConfig, Backend};
use crate::core::Core;
use crate::link::{self, LinkEvent, LinkSettings};
use crate::store::{Store, StoreError};
use crate::tls::{self, TlsError};
use crate::{config, hardware};

/// The agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The TLS files could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
}

/// Runs the agent until `shutdown` becomes true.
pub async fn run(
    config: AgentConfig,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::DataDir(config.data_dir.display().to_string(), e))?;
    let store = Store::open(&config.data_dir.join("unit.db"))?;
    let (host, port) = config.mqtt_host_port()?;
    let settings = LinkSettings {
        unit: config.unit,
        host,
        port,
        tls: tls::client_config(&config.tls)?,
        keep_alive: Duration::from_secs(u64::from(config.sync.keep_alive_s)),
    };
    let (events_tx, mut events) = mpsc::channel::<LinkEvent>(256);
    let out = link::spawn(settings, clock.clone(), events_tx);
    let (outputs_tx, outputs_rx) = watch::channel(None);
    let mut triggers = match config.hardware.backend {
        Backend::Sim => {
            hardware::spawn_sim(config.unit, config.hardware.sim_socket.clone(), outputs_rx)
        }
        Backend::Gpio => hardware::gpio::spawn(
            config.hardware.inputs.clone(),
            config.hardware.outputs.clone(),
            outputs_rx,
        ),
    };
    let mut core = Core::new(
        config.unit,
        store,
        clock.clone(),
        out,
        outputs_tx,
        config.sync,
        config.data_dir.clone(),
    )?;
    tracing::info!(unit = %config.unit, hub = %config.hub.mqtt, "agent started");
    core.tick().await;
    loop {
        let sleep = core
            .next_wake()
            .map(|t| t.duration_since(clock.now()).unsigned_abs())
            .unwrap_or(Duration::from_secs(3600))
            .min(Duration::from_secs(3600));
        tokio::select! {
            event = events.recv() => match event {
                Some(LinkEvent::Connected) => core.connected().await,
                Some(LinkEvent::Disconnected(_)) => core.disconnected(),
                Some(LinkEvent::Message { topic, payload }) => core.message(&topic, &payload).await,
                None => break,
            },
            input = triggers.recv() => match input {
                Some(input) => {
                    if core.trigger(input.trigger).await {
                        let _ = input.recorded.send(());
                    }
                }
                None => tracing::warn!("hardware backend stopped"),
            },
            _ = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => break,
        }
        core.tick().await;
    }
    tracing::info!("agent stopped");
    Ok(())
}
