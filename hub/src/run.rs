//! Starting and stopping the whole hub in one process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use jiff::SignedDuration;

use crate::broker::{self, BrokerError};
use crate::clock::Clock;
use crate::config::HubConfig;
use crate::ingest::{self, IngestStats};
use crate::publisher::{self, PublishSender};
use crate::store::{Store, StoreError};
use crate::supervision::Supervisor;

/// The hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The broker could not start.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// A thread could not start.
    #[error("cannot start a hub thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A running hub. Dropping it does not stop it; call [`Hub::stop`].
#[derive(Debug)]
pub struct Hub {
    /// Ingest counters.
    pub stats: Arc<IngestStats>,
    /// Sends messages to units.
    pub publisher: PublishSender,
    stop: Arc<AtomicBool>,
    ingest: Option<JoinHandle<()>>,
}

/// Starts the broker, the store, ingest and supervision. Must be called
/// inside a tokio runtime (the publisher is a task).
pub fn start(config: &HubConfig, clock: Arc<dyn Clock>) -> Result<Hub, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = Store::open(&config.data_dir.join("hub.db"))?;
    let link = broker::start(&config.mqtt)?;
    let publisher = publisher::spawn(link.tx);
    let stats = Arc::new(IngestStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let supervisor = Supervisor::new(SignedDuration::from_secs(i64::from(
        config.supervision.offline_after_s,
    )));
    let ingest = ingest::spawn(
        link.rx,
        store,
        publisher.clone(),
        supervisor,
        clock,
        stop.clone(),
        stats.clone(),
    )?;
    tracing::info!(mqtt = %config.mqtt.listen, data = %config.data_dir.display(), "hub started");
    Ok(Hub {
        stats,
        publisher,
        stop,
        ingest: Some(ingest),
    })
}

impl Hub {
    /// Stops ingest (after its current batch) and waits for it. The broker
    /// thread ends with the process.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.ingest.take() {
            let _ = handle.join();
        }
    }
}
