//! Starting and stopping the whole hub in one process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use jiff::SignedDuration;

use crate::api;
use crate::clock::Clock;
use crate::config::HubConfig;
use crate::front::{self, Front, FrontError};
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
    /// The units' MQTT front could not start.
    #[error(transparent)]
    Front(#[from] FrontError),
    /// A thread could not start.
    #[error("cannot start a hub thread: {0}")]
    Thread(#[from] std::io::Error),
    /// The `[mail]` settings are not usable.
    #[error(transparent)]
    Mail(crate::mail::MailError),
    /// The API listener could not be bound.
    #[error("cannot listen for the API on {addr}: {source}")]
    ApiListen {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The units' HTTPS (clip uploads) could not start.
    #[error(
        "cannot serve the units' HTTPS (clip uploads) on {addr}: {detail}; set [clips] listen to a free address"
    )]
    ClipsListen {
        /// The address.
        addr: String,
        /// Why.
        detail: String,
    },
    /// The operator token could not be read or created.
    #[error("operator token file {path}: {source}")]
    Token {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A running hub. Dropping it does not stop it; call [`Hub::stop`].
#[derive(Debug)]
pub struct Hub {
    /// Ingest counters.
    pub stats: Arc<IngestStats>,
    /// Sends messages to units.
    pub publisher: PublishSender,
    /// Where the API listens.
    pub api_addr: std::net::SocketAddr,
    /// Where units upload clips (HTTPS, client certificates), if configured.
    pub clips_addr: Option<std::net::SocketAddr>,
    /// The operator token.
    pub token: String,
    /// The live upstreams the hub expects from units (on the units' HTTPS).
    pub upstreams: crate::live::upstream::Upstreams,
    /// Live view: viewers watch cameras through the relay.
    pub live: crate::live::service::LiveService,
    /// The units' MQTT front.
    pub front: Front,
    stop: Arc<AtomicBool>,
    front_stop: tokio::sync::watch::Sender<bool>,
    api_stop: Option<tokio::sync::oneshot::Sender<()>>,
    ingest: Option<JoinHandle<()>>,
}

/// Starts the units' MQTT front, the store, ingest, supervision and the
/// API, and republishes every assigned unit's desired config (the front
/// keeps units' sessions and retained config only in memory).
pub async fn start(config: &HubConfig, clock: Arc<dyn Clock>) -> Result<Hub, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store = Store::open(&config.data_dir.join("hub.db"))?;
    let (front_stop, front_stopped) = tokio::sync::watch::channel(false);
    let (front, up) = front::start(&config.mqtt, front_stopped).await?;
    let publisher = publisher::spawn(front.clone());
    let stats = Arc::new(IngestStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut supervisor = Supervisor::new(SignedDuration::from_secs(i64::from(
        config.supervision.offline_after_s,
    )));
    // Units the store shows online may have died while the hub was down
    // (their last will went nowhere): watch them from now on.
    let now = clock.now();
    for unit in store.units()?.into_iter().filter(|u| u.online) {
        supervisor.heard(unit.id, now);
    }
    let (acks, answered) = tokio::sync::mpsc::unbounded_channel();
    let ingest = ingest::spawn(
        up,
        store,
        publisher.clone(),
        supervisor,
        ingest::Debounce {
            offline: SignedDuration::from_secs(i64::from(config.centre.offline_debounce_s)),
            tamper: SignedDuration::from_secs(i64::from(config.centre.tamper_debounce_s)),
        },
        clock.clone(),
        stop.clone(),
        stats.clone(),
        acks,
    )?;

    let token = operator_token(&config.api.token_file)?;
    let api_store = Store::open(&config.data_dir.join("hub.db"))?;
    let mailer = match &config.mail {
        Some(mail) => Some(crate::mail::Mailer::new(mail).map_err(StartError::Mail)?),
        None => None,
    };
    crate::reports::task::spawn(
        crate::reports::task::Reports {
            store: Store::open(&config.data_dir.join("hub.db"))?,
            mailer: mailer.clone(),
            clock: clock.clone(),
            daily_at: config.reports.daily_at,
            public_url: config.api.public_url.trim_end_matches('/').to_owned(),
        },
        front_stop.subscribe(),
    );
    let clip_store: Arc<dyn crate::clips::storage::ClipStore> = Arc::new(
        crate::clips::storage::LocalDir::open(&config.data_dir.join("clips")).map_err(|e| {
            StartError::DataDir {
                path: config.data_dir.join("clips").display().to_string(),
                source: std::io::Error::other(e.to_string()),
            }
        })?,
    );
    crate::clips::retention::spawn(
        Store::open(&config.data_dir.join("hub.db"))?,
        clip_store.clone(),
        clock.clone(),
        front_stop.subscribe(),
    );
    let upstreams = crate::live::upstream::Upstreams::default();
    let live = crate::live::service::LiveService::start(
        crate::live::relay::RelayPolicy::default(),
        upstreams.clone(),
        publisher.clone(),
        clock.clone(),
        answered,
    );
    let state = api::ApiState::new(api_store, publisher.clone(), clock, token.clone())
        .with_mail(mailer, &config.api.public_url)
        .with_centre(&config.centre)
        .with_clips(clip_store.clone())
        .with_live(live.clone());
    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .map_err(|source| StartError::ApiListen {
            addr: config.api.listen.to_string(),
            source,
        })?;
    let api_addr = listener.local_addr()?;
    if let Err(e) = state.republish_all().await {
        tracing::error!(error = %e, "cannot republish desired configs");
    }
    let clips_addr = match &config.clips {
        Some(clips) => Some(
            serve_clips(
                config,
                clips,
                (state.clone(), upstreams.clone()),
                clip_store,
                front_stop.subscribe(),
            )
            .await?,
        ),
        None => {
            tracing::warn!("no [clips] listen configured: units cannot upload clips");
            None
        }
    };
    let (api_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(e) = api::serve(listener, state, shutdown).await {
            tracing::error!(error = %e, "the API stopped");
        }
    });
    tracing::info!(mqtt = %config.mqtt.listen, api = %api_addr, data = %config.data_dir.display(), "hub started");
    Ok(Hub {
        stats,
        publisher,
        api_addr,
        clips_addr,
        token,
        upstreams,
        live,
        front,
        stop,
        front_stop,
        api_stop: Some(api_stop),
        ingest: Some(ingest),
    })
}

/// Serves the units' HTTPS (clip uploads, live upstreams) until the front
/// stops: the same TLS as MQTT (client certificates required, unit =
/// certificate).
async fn serve_clips(
    config: &HubConfig,
    clips: &crate::config::ClipsConfig,
    (api, upstreams): (api::ApiState, crate::live::upstream::Upstreams),
    files: Arc<dyn crate::clips::storage::ClipStore>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<std::net::SocketAddr, StartError> {
    let fail = |detail: String| StartError::ClipsListen {
        addr: clips.listen.to_string(),
        detail,
    };
    let tls = crate::front::tls::server_config(&config.mqtt).map_err(|e| fail(e.to_string()))?;
    let tcp = tokio::net::TcpListener::bind(clips.listen)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let addr = tcp.local_addr().map_err(|e| fail(e.to_string()))?;
    let listener =
        crate::clips::listener::UnitListener::new(tcp, tls).map_err(|e| fail(e.to_string()))?;
    let app = crate::clips::unit_api::router(crate::clips::unit_api::UnitApiState::new(api, files))
        .merge(crate::live::upstream::router(upstreams));
    tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<crate::clips::listener::UnitPeer>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the units' HTTPS stopped");
        }
    });
    tracing::info!(%addr, "units' HTTPS (clip uploads) listening");
    Ok(addr)
}

/// Reads the operator token, or creates one (32 random bytes, hex, 0600).
fn operator_token(path: &std::path::Path) -> Result<String, StartError> {
    let err = |source| StartError::Token {
        path: path.display().to_string(),
        source,
    };
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(err)?;
        let token = text.trim();
        if token.len() < 32 {
            return Err(err(std::io::Error::other(
                "the token must be at least 32 characters; delete the file to get a new one",
            )));
        }
        return Ok(token.to_owned());
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    file.write_all(token.as_bytes()).map_err(err)?;
    tracing::info!(path = %path.display(), "created a new operator token");
    Ok(token)
}

impl Hub {
    /// Stops the API and the front (every unit connection closes without
    /// its will), then ingest after its current batch, and waits for it.
    pub fn stop(mut self) {
        if let Some(api) = self.api_stop.take() {
            let _ = api.send(());
        }
        let _ = self.front_stop.send(true);
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.ingest.take() {
            let _ = handle.join();
        }
    }
}
