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
    /// The cameras or clip settings cannot be used.
    #[error("clips: {0}")]
    Clips(String),
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
    let (news_tx, mut news) = mpsc::unbounded_channel();
    let _clips = if config.cameras.is_empty() {
        None
    } else {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        core.notify_alarms(tx);
        let (live_tx, live_rx) = tokio::sync::mpsc::unbounded_channel();
        core.enable_live(config.cameras.iter().map(|c| c.id).collect(), live_tx);
        recover_clips(&config, &news_tx).await?;
        Some(start_clips(
            &config,
            core.clip_settings(),
            clock.clone(),
            (rx, live_rx),
            news_tx,
        )?)
    };
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
            Some(news) = news.recv() => core.clip_news(news).await,
            _ = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => break,
        }
        core.tick().await;
    }
    tracing::info!("agent stopped");
    Ok(())
}

/// Carries out a live-view request: a camera's frames to a new uplink
/// (dialling out to the relay), or the end of one.
fn start_or_stop_live(
    request: crate::core::LiveRequest,
    cameras: &[picket_proto::ids::CameraId],
    recorders: &[crate::clips::recorder::Recorder],
    (hub_https, tls): (&str, &Arc<rustls::ClientConfig>),
) {
    use crate::core::LiveRequest;
    match request {
        LiveRequest::Start {
            camera,
            stream,
            relay,
        } => {
            let Some(recorder) = cameras
                .iter()
                .position(|c| *c == camera)
                .and_then(|n| recorders.get(n))
            else {
                tracing::warn!(%camera, "live view of a camera this unit does not have");
                return;
            };
            // No relay named: the hub's own units' HTTPS.
            let relay = if relay.is_empty() { hub_https } else { &relay };
            let hub = match crate::upload::https::HubHttps::new(relay, tls.clone()) {
                Ok(hub) => hub,
                Err(e) => {
                    tracing::warn!(%stream, error = %e, "live view relay unusable");
                    return;
                }
            };
            let (frames_tx, frames) = mpsc::channel(crate::live::QUEUE_FRAMES);
            recorder.live(stream, frames_tx);
            tokio::spawn(async move {
                match crate::live::send(&hub, stream, frames).await {
                    Ok(sent) => tracing::info!(%stream, ?sent, "live stream ended"),
                    Err(e) => tracing::info!(%stream, error = %e, "live stream ended"),
                }
            });
        }
        LiveRequest::Stop { stream } => recorders.iter().for_each(|r| r.end_live(stream)),
    }
}

/// Before any camera is recorded: completes or discards the clips an
/// unclean stop left half-written (a discarded one becomes an event).
async fn recover_clips(
    config: &AgentConfig,
    news: &mpsc::UnboundedSender<crate::clips::ClipNews>,
) -> Result<(), StartError> {
    let dir = config.data_dir.join("clips");
    let store_path = config.data_dir.join("unit.db");
    let recovered = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)
            .map_err(|e| StartError::DataDir(dir.display().to_string(), e))?;
        let mut store = Store::open(&store_path)?;
        crate::clips::recovery::recover(&mut store, &dir).map_err(StartError::from)
    })
    .await
    .map_err(|e| StartError::Clips(format!("clip recovery stopped: {e}")))??;
    if recovered != crate::clips::recovery::Recovered::default() {
        tracing::info!(
            completed = recovered.completed.len(),
            discarded = recovered.discarded.len(),
            thumbnails_dropped = recovered.thumbnails_dropped,
            files_removed = recovered.files_removed,
            "clips recovered after an unclean stop"
        );
    }
    for d in recovered.discarded {
        let _ = news.send(crate::clips::ClipNews::Discarded {
            alarm: d.alarm,
            camera: d.camera,
            reason: d.reason,
        });
    }
    Ok(())
}

/// The cameras' recorders (stopped when dropped) and the delivery task.
struct Clips {
    _recorders: tokio::task::JoinHandle<()>,
    _delivery: tokio::task::JoinHandle<()>,
}

/// Starts a recorder per camera, forwards alarm notices to them, and runs
/// a delivery round every few seconds and whenever a file is ready.
fn start_clips(
    config: &AgentConfig,
    mut settings: watch::Receiver<picket_proto::message::ClipSettings>,
    clock: Arc<dyn Clock>,
    (mut alarms, mut live): (
        mpsc::UnboundedReceiver<crate::clips::recorder::AlarmNotice>,
        mpsc::UnboundedReceiver<crate::core::LiveRequest>,
    ),
    news: mpsc::UnboundedSender<crate::clips::ClipNews>,
) -> Result<Clips, StartError> {
    use crate::clips::delivery::Deliverer;
    use crate::clips::recorder::{Recorder, plan_limits};
    use crate::video::ClipPlan;
    use crate::video::ingest::{Credentials, IngestConfig};
    let clips_dir = config.data_dir.join("clips");
    let store_path = config.data_dir.join("unit.db");
    let (rules, limits) = plan_limits(*settings.borrow_and_update()).map_err(StartError::Clips)?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let mut recorders = Vec::new();
    for camera in &config.cameras {
        let plan = ClipPlan::new(rules, limits).map_err(|e| StartError::Clips(e.to_string()))?;
        let source = match (&camera.url, &camera.device) {
            (Some(url), _) => url.clone(),
            (None, Some(device)) => device.to_string_lossy().into_owned(),
            (None, None) => {
                return Err(StartError::Clips(format!(
                    "camera {} has neither url nor device",
                    camera.id
                )));
            }
        };
        let mut ingest = IngestConfig::new(source);
        ingest.camera_latency = jiff::SignedDuration::from_millis(i64::from(camera.latency_ms));
        if let (Some(user), Some(password)) = (&camera.user, &camera.password) {
            ingest.credentials = Some(Credentials {
                user: user.clone(),
                password: password.clone(),
            });
        }
        let wake = wake.clone();
        recorders.push(
            Recorder::spawn_reporting(
                camera.id,
                ingest,
                plan,
                store_path.clone(),
                clips_dir.clone(),
                Box::new(move || wake.notify_one()),
                news.clone(),
            )
            .map_err(|e| StartError::Clips(e.to_string()))?,
        );
    }
    let cameras: Vec<picket_proto::ids::CameraId> = config.cameras.iter().map(|c| c.id).collect();
    let live_tls = tls::client_config(&config.tls)?;
    let hub_https = config.hub.https.clone();
    let recorders = tokio::spawn(async move {
        loop {
            tokio::select! {
                notice = alarms.recv() => match notice {
                    Some(notice) => recorders.iter().for_each(|r| r.alarm(notice)),
                    None => break,
                },
                Ok(()) = settings.changed() => {
                    let now = *settings.borrow_and_update();
                    recorders.iter().for_each(|r| r.settings(now));
                }
                Some(request) = live.recv() => {
                    start_or_stop_live(request, &cameras, &recorders, (&hub_https, &live_tls));
                }
            }
        }
    });
    let hub =
        crate::upload::https::HubHttps::new(&config.hub.https, tls::client_config(&config.tls)?)
            .map_err(|e| StartError::Clips(e.to_string()))?;
    let rate = config.clips.upload_kbit_s.saturating_mul(125).max(1);
    let mut deliverer = Deliverer::new(
        Store::open(&store_path)?,
        clips_dir,
        hub,
        crate::upload::pace::Budget::new(rate, rate.saturating_mul(2).max(1 << 20)),
        config.clips.quota_mb.saturating_mul(1 << 20),
    );
    let delivery = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
            match deliverer.round(&*clock).await {
                Ok(round) => {
                    if round.uploaded + round.later + round.refused + round.deleted > 0 {
                        tracing::info!(?round, "clip delivery round");
                    }
                    let _ = news.send(crate::clips::ClipNews::Delivery {
                        pending: u32::try_from(round.pending).unwrap_or(u32::MAX),
                        over_quota_by: round.over_quota_by,
                    });
                }
                Err(e) => tracing::error!(error = %e, "clip delivery round failed"),
            }
        }
    });
    Ok(Clips {
        _recorders: recorders,
        _delivery: delivery,
    })
}
