//! The agent's core: one task that owns the store and decides everything.
//!
//! It takes one input at a time — a message from the hub, a sensor trigger,
//! or a timer — and then:
//! - re-evaluates the arm state with `picket_proto::arming::evaluate`
//!   whenever the config changes or the engine's `revisit_at` passes (it
//!   sleeps until then; it never polls), records every state change as an
//!   event, and sets the outputs;
//! - records events in the outbox first, then sends what the drain says;
//! - sends heartbeats with health while connected.
//!
//! Without any desired config yet, the unit stays disarmed ("waiting for
//! configuration") but still records tamper and power events.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use picket_proto::arming::{ArmState, ArmingInputs, Reason, evaluate};
use picket_proto::codec::{decode_on, encode};
use picket_proto::ids::{CameraId, UnitId};
use picket_proto::level::SecurityLevel;
use picket_proto::message::{
    Body, CameraHealth, CameraStatus, Command, CommandAck, CommandAction, CommandOutcome,
    DesiredConfig, Envelope, EventKind, Health, Heartbeat, ReportedState,
};
use picket_proto::topic::{Direction, Topic};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::SyncConfig;
use crate::hardware::Outputs;
use crate::link::Outgoing;
use crate::outbox::{Drain, OutboxRows};
use crate::sensors::{Trigger, classify};
use crate::store::{Store, StoreError};

/// How long the siren and strobe run after an alarm.
pub const WARNING_DURATION: SignedDuration = SignedDuration::from_mins(3);

/// The core's state.
#[derive(Debug)]
pub struct Core {
    unit: UnitId,
    store: Store,
    clock: Arc<dyn Clock>,
    out: tokio::sync::mpsc::Sender<Outgoing>,
    outputs: watch::Sender<Option<Outputs>>,
    sync: SyncConfig,
    config: Option<DesiredConfig>,
    config_error: Option<String>,
    /// The state and reason last applied.
    current: Option<(ArmState, Reason, String)>,
    revisit_at: Option<Timestamp>,
    /// When the applied state next changes by itself (for reports).
    changes_at: Option<Timestamp>,
    warning_until: Option<Timestamp>,
    drain: Drain,
    connected: bool,
    heartbeat_seq: u64,
    next_heartbeat: Option<Timestamp>,
    started: Timestamp,
    clock_skew_ms: Option<i64>,
    /// Where the store lives: its filesystem's free space is reported.
    data_dir: std::path::PathBuf,
    /// Told of every alarm recorded (the cameras' recorders).
    alarm_notices: Option<tokio::sync::mpsc::UnboundedSender<crate::clips::recorder::AlarmNotice>>,
    /// Each camera's state as its recorder last told (for health).
    cameras: std::collections::BTreeMap<CameraId, CameraStatus>,
    /// Clips waiting for the hub, and bytes over the quota, as the last
    /// delivery round found.
    clips_pending: u32,
    clips_over_quota: u64,
    /// The clip settings applied (the recorders follow them).
    clip_settings: watch::Sender<picket_proto::message::ClipSettings>,
    /// The cameras live view may ask for, and where to hand the requests.
    live: Option<(
        Vec<CameraId>,
        tokio::sync::mpsc::UnboundedSender<LiveRequest>,
    )>,
}

/// A live view the hub asked for, for the cameras' task to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveRequest {
    /// Send `camera` to the relay at `relay` as `stream`.
    Start {
        /// Which camera.
        camera: CameraId,
        /// The stream the relay expects.
        stream: picket_proto::ids::StreamId,
        /// The relay (`https://host:port`).
        relay: String,
    },
    /// Stop sending `stream`.
    Stop {
        /// The stream.
        stream: picket_proto::ids::StreamId,
    },
}

impl OutboxRows for Store {
    fn seqs_after(&self, after: u64, limit: usize) -> Vec<u64> {
        match self.outbox_after(after, limit) {
            Ok(rows) => rows.into_iter().map(|r| r.seq).collect(),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                Vec::new()
            }
        }
    }
}

impl Core {
    /// A core for `unit` with its store (the applied config is read from it).
    pub fn new(
        unit: UnitId,
        store: Store,
        clock: Arc<dyn Clock>,
        out: tokio::sync::mpsc::Sender<Outgoing>,
        outputs: watch::Sender<Option<Outputs>>,
        sync: SyncConfig,
        data_dir: std::path::PathBuf,
    ) -> Result<Core, StoreError> {
        let config = store.applied_config()?;
        let started = clock.now();
        let (clip_settings, _) =
            watch::channel(config.as_ref().map(|c| c.clips).unwrap_or_default());
        Ok(Core {
            unit,
            store,
            clock,
            out,
            outputs,
            sync,
            config,
            config_error: None,
            current: None,
            revisit_at: None,
            changes_at: None,
            warning_until: None,
            drain: Drain::new(
                sync.max_in_flight,
                SignedDuration::from_secs(i64::from(sync.resend_after_s)),
            ),
            connected: false,
            heartbeat_seq: 0,
            next_heartbeat: None,
            started,
            clock_skew_ms: None,
            data_dir,
            alarm_notices: None,
            cameras: std::collections::BTreeMap::new(),
            clips_pending: 0,
            clips_over_quota: 0,
            clip_settings,
            live: None,
        })
    }

    /// Tells `notices` of every alarm recorded from now on.
    pub fn notify_alarms(
        &mut self,
        notices: tokio::sync::mpsc::UnboundedSender<crate::clips::recorder::AlarmNotice>,
    ) {
        self.alarm_notices = Some(notices);
    }

    /// Lets the hub start and stop live view of `cameras`: its commands go
    /// to `requests`.
    pub fn enable_live(
        &mut self,
        cameras: Vec<CameraId>,
        requests: tokio::sync::mpsc::UnboundedSender<LiveRequest>,
    ) {
        self.live = Some((cameras, requests));
    }

    /// The clip settings applied now and from now on (a new config from
    /// the hub may change them).
    pub fn clip_settings(&self) -> watch::Receiver<picket_proto::message::ClipSettings> {
        self.clip_settings.subscribe()
    }

    /// The config applied now.
    pub fn applied(&self) -> Option<&DesiredConfig> {
        self.config.as_ref()
    }

    /// The earliest instant the core must wake up by itself.
    pub fn next_wake(&self) -> Option<Timestamp> {
        [
            self.revisit_at,
            self.warning_until,
            self.next_heartbeat,
            self.drain.next_resend(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The state applied now.
    pub fn state(&self) -> Option<(ArmState, String)> {
        self.current.as_ref().map(|(s, _, text)| (*s, text.clone()))
    }

    /// Access to the store (for tests and status).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs whatever is due at the current time: arming, warnings,
    /// heartbeats, resends.
    pub async fn tick(&mut self) {
        let now = self.clock.now();
        if self.current.is_none() || self.revisit_at.is_some_and(|t| t <= now) {
            self.rearm().await;
        }
        if self.warning_until.is_some_and(|t| t <= now) {
            self.warning_until = None;
            self.set_outputs();
        }
        if self.connected && self.next_heartbeat.is_some_and(|t| t <= now) {
            self.heartbeat().await;
        }
        self.flush().await;
    }

    /// The link is up.
    pub async fn connected(&mut self) {
        self.connected = true;
        self.drain.connected();
        self.next_heartbeat = Some(self.clock.now());
        self.report_state().await;
        self.tick().await;
    }

    /// The link is down.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.drain.disconnected();
        self.next_heartbeat = None;
    }

    /// A message from the hub.
    pub async fn message(&mut self, topic: &str, payload: &[u8]) {
        let topic = match Topic::parse_for(topic, self.unit) {
            Ok(t) if t.kind.direction() == Direction::Down => t,
            Ok(t) => {
                tracing::warn!(topic = %t, "message on an up topic ignored");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "message on a foreign topic refused");
                return;
            }
        };
        let envelope = match decode_on(&topic, payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(%topic, error = %e, "message from the hub refused");
                return;
            }
        };
        let now = self.clock.now();
        match envelope.body {
            Body::EventAck(ack) => {
                // The hub stamps its clock on every message.
                self.clock_skew_ms = Some(now.duration_since(envelope.sent_at).as_millis() as i64);
                match self.store.acknowledge(&ack.events) {
                    Ok(seqs) => self.drain.acknowledged(&seqs),
                    Err(e) => tracing::error!(error = %e, "cannot delete acknowledged events"),
                }
                self.flush().await;
            }
            Body::DesiredConfig(config) => self.apply_config(*config).await,
            Body::Command(command) => self.command(command).await,
            other => tracing::warn!(kind = other.kind(), "unexpected message from the hub"),
        }
    }

    /// A sensor or power input. Returns whether it was recorded durably.
    pub async fn trigger(&mut self, trigger: Trigger) -> bool {
        let now = self.clock.now();
        let (state, level) = match (&self.current, &self.config) {
            (Some((state, _, _)), Some(config)) => (*state, config.level.clone()),
            _ => (ArmState::Disarmed, SecurityLevel::standard()),
        };
        let kind = classify(trigger, state, &level);
        if matches!(kind, EventKind::Alarm { .. })
            && (level.warnings.siren || level.warnings.strobe)
        {
            self.warning_until = Some(now + WARNING_DURATION);
            self.set_outputs();
        }
        tracing::info!(kind = kind.tag(), "sensor input");
        self.record(kind).await
    }

    /// News from the cameras' recorders and clip delivery: a camera lost
    /// or back is an event (its first frames are not: a camera is expected
    /// to stream), a discarded clip is an event, and all of it is health.
    pub async fn clip_news(&mut self, news: crate::clips::ClipNews) {
        use crate::clips::ClipNews;
        match news {
            ClipNews::Camera { camera, status } => {
                let before = self.cameras.insert(camera, status);
                let kind = match (before, status) {
                    (Some(CameraStatus::Lost), CameraStatus::Streaming) => {
                        Some(EventKind::CameraRestored { camera })
                    }
                    (b, CameraStatus::Lost) if b != Some(CameraStatus::Lost) => {
                        Some(EventKind::CameraLost { camera })
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    tracing::info!(%camera, kind = kind.tag(), "camera");
                    self.record(kind).await;
                }
            }
            ClipNews::Discarded {
                alarm,
                camera,
                reason,
            } => {
                self.record(EventKind::ClipDiscarded {
                    alarm,
                    camera,
                    reason,
                })
                .await;
            }
            ClipNews::Delivery {
                pending,
                over_quota_by,
            } => {
                self.clips_pending = pending;
                self.clips_over_quota = over_quota_by;
            }
        }
    }

    async fn apply_config(&mut self, config: DesiredConfig) {
        let applied = self.config.as_ref().map(|c| c.version);
        let verdict = config.check().and_then(|()| config.supersedes(applied));
        match verdict {
            Ok(()) if Some(config.version) == applied => {
                // The retained config again (after a reconnect): nothing new.
            }
            Ok(()) => {
                if let Err(e) = self.store.save_config(&config) {
                    tracing::error!(error = %e, "cannot persist the desired config; not applied");
                    return;
                }
                tracing::info!(version = %config.version, "desired config applied");
                let clips = config.clips;
                self.clip_settings.send_if_modified(|c| {
                    let changed = *c != clips;
                    *c = clips;
                    changed
                });
                self.config = Some(config);
                self.config_error = None;
                self.rearm().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "desired config refused");
                self.config_error = Some(e.to_string());
            }
        }
        self.report_state().await;
    }

    async fn command(&mut self, command: Command) {
        let now = self.clock.now();
        let outcome = match self.store.command_outcome(command.id) {
            Ok(Some(previous)) => previous,
            Ok(None) => {
                let outcome = match command.check(now) {
                    Err(e) => {
                        tracing::warn!(error = %e, "command refused");
                        CommandOutcome::from(&e)
                    }
                    Ok(()) => self.execute(&command.action).await,
                };
                if let Err(e) = self.store.remember_command(command.id, now, &outcome) {
                    tracing::error!(error = %e, "cannot remember a command");
                }
                outcome
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot look up a command");
                return;
            }
        };
        let ack = CommandAck {
            command: command.id,
            at: now,
            outcome,
        };
        self.send(Body::CommandAck(ack)).await;
    }

    async fn execute(&mut self, action: &CommandAction) -> CommandOutcome {
        match action {
            CommandAction::ReportState => {
                self.report_state().await;
                CommandOutcome::Done
            }
            CommandAction::LiveViewStart {
                camera,
                stream,
                relay,
            } => {
                let request = LiveRequest::Start {
                    camera: *camera,
                    stream: *stream,
                    relay: relay.clone(),
                };
                match &self.live {
                    None => CommandOutcome::Failed("this unit has no cameras".into()),
                    Some((cameras, _)) if !cameras.contains(camera) => {
                        CommandOutcome::Failed(format!("this unit has no camera {camera}"))
                    }
                    Some(_) if !relay.is_empty() && !relay.starts_with("https://") => {
                        CommandOutcome::Failed(format!("relay {relay:?} is not an https:// URL"))
                    }
                    Some((_, requests)) => match requests.send(request) {
                        Ok(()) => CommandOutcome::Done,
                        Err(_) => CommandOutcome::Failed("the cameras are not running".into()),
                    },
                }
            }
            CommandAction::LiveViewStop { stream, .. } => match &self.live {
                None => CommandOutcome::Failed("this unit has no cameras".into()),
                Some((_, requests)) => {
                    let _ = requests.send(LiveRequest::Stop { stream: *stream });
                    CommandOutcome::Done
                }
            },
            _ => CommandOutcome::Unsupported,
        }
    }

    /// Evaluates the arm state now; records and applies a change.
    async fn rearm(&mut self) {
        let now = self.clock.now();
        let (state, reason, text, revisit, changes_at) = match &self.config {
            Some(config) => {
                let inputs = ArmingInputs {
                    schedule: &config.schedule,
                    level: &config.level,
                    disarm: config.disarm.as_ref(),
                    relocation: config.relocation,
                };
                let e = evaluate(&inputs, now);
                let text = e.to_string();
                (e.state, e.reason, text, e.revisit_at, e.changes_at)
            }
            None => (
                ArmState::Disarmed,
                Reason::Schedule { until: None },
                "disarmed: waiting for configuration from the hub".to_owned(),
                None,
                None,
            ),
        };
        self.revisit_at = revisit;
        self.changes_at = changes_at;
        let changed_state = self.current.as_ref().is_none_or(|(s, _, _)| *s != state);
        let changed_reason = self.current.as_ref().is_none_or(|(_, r, _)| *r != reason);
        if !changed_state && !changed_reason {
            return;
        }
        self.current = Some((state, reason, text.clone()));
        if state != ArmState::Armed {
            self.warning_until = None;
        }
        self.set_outputs();
        if changed_state {
            tracing::info!(?state, reason = %text, "arm state changed");
            self.record(EventKind::ArmStateChanged {
                state,
                reason: text,
            })
            .await;
        }
        self.report_state().await;
    }

    fn set_outputs(&self) {
        let Some((state, _, _)) = &self.current else {
            return;
        };
        let warning = self.warning_until.is_some();
        let warnings = self
            .config
            .as_ref()
            .map(|c| c.level.warnings)
            .unwrap_or_default();
        let outputs = Outputs {
            state: *state,
            siren: warning && warnings.siren,
            strobe: warning && warnings.strobe,
        };
        self.outputs.send_if_modified(|current| {
            let changed = *current != Some(outputs);
            *current = Some(outputs);
            changed
        });
    }

    /// Records an event durably, then lets the drain send it. Returns
    /// whether it was recorded.
    async fn record(&mut self, kind: EventKind) -> bool {
        let mut random = [0u8; 10];
        if let Err(e) = getrandom::fill(&mut random) {
            tracing::error!(error = %e, "no entropy for an event id");
        }
        let recorded = match self.store.record(kind, self.clock.now(), random) {
            Ok(event) => {
                tracing::debug!(seq = event.seq, id = %event.id, "event recorded");
                if let (Some(notices), EventKind::Alarm { .. }) = (&self.alarm_notices, &event.kind)
                {
                    let _ = notices.send(crate::clips::recorder::AlarmNotice {
                        event: event.id,
                        at: event.at,
                    });
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot record an event");
                false
            }
        };
        self.flush().await;
        recorded
    }

    /// Sends what the drain says is due.
    async fn flush(&mut self) {
        let now = self.clock.now();
        for seq in self.drain.due(now, &self.store) {
            match self.store.outbox_row(seq) {
                Ok(Some(row)) => self.send(Body::Event(row.event)).await,
                Ok(None) => self.drain.acknowledged(&[seq]),
                Err(e) => tracing::error!(error = %e, seq, "cannot read an outbox row"),
            }
        }
    }

    async fn heartbeat(&mut self) {
        let now = self.clock.now();
        self.heartbeat_seq += 1;
        let outbox = self.store.outbox_len().unwrap_or(0);
        let (disk_free_bytes, disk_total_bytes) = match rustix::fs::statvfs(&self.data_dir) {
            Ok(v) => (v.f_bavail * v.f_frsize, v.f_blocks * v.f_frsize),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the data disk's size");
                (0, 0)
            }
        };
        let health = Health {
            disk_free_bytes,
            disk_total_bytes,
            clock_skew_ms: self.clock_skew_ms,
            outbox_events: u32::try_from(outbox).unwrap_or(u32::MAX),
            cameras: self
                .cameras
                .iter()
                .map(|(&camera, &status)| CameraHealth { camera, status })
                .collect(),
            clips_pending: self.clips_pending,
            clips_over_quota_bytes: self.clips_over_quota,
            ..Health::default()
        };
        let hb = Heartbeat {
            seq: self.heartbeat_seq,
            uptime_s: now.duration_since(self.started).as_secs().max(0) as u64,
            health,
        };
        self.next_heartbeat =
            Some(now + SignedDuration::from_secs(i64::from(self.sync.heartbeat_s)));
        self.send(Body::Heartbeat(hb)).await;
    }

    async fn report_state(&mut self) {
        if !self.connected {
            return;
        }
        let (state, text) = match &self.current {
            Some((s, _, text)) => (*s, text.clone()),
            None => (ArmState::Disarmed, "starting".to_owned()),
        };
        let reported = ReportedState {
            applied_config: self.config.as_ref().map(|c| c.version),
            config_error: self.config_error.clone(),
            state,
            reason: text,
            changes_at: self.changes_at,
            relocation: self
                .config
                .as_ref()
                .map(|c| c.relocation)
                .unwrap_or_default(),
        };
        self.send(Body::ReportedState(reported)).await;
    }

    async fn send(&self, body: Body) {
        let Some(kind) = body.topic_kind() else {
            return;
        };
        let envelope = Envelope::new(self.unit, self.clock.now(), body);
        match encode(&envelope) {
            Ok(payload) => {
                let out = Outgoing {
                    topic: Topic::new(self.unit, kind),
                    payload,
                };
                if self.out.send(out).await.is_err() {
                    tracing::warn!("link stopped; message not sent");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot encode a message"),
        }
    }
}
