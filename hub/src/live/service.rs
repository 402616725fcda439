//! The live service: drives the pure [`Relay`] with real IO. A viewer
//! [`LiveService::watch`]es a camera; the relay's `StartUpstream` makes a
//! fresh stream id, expects it on the units' HTTPS ([`Upstreams`]) and asks
//! the unit over MQTT (`live_view_start`, 10 s to act on it); the unit's
//! frames are pushed into the relay and each viewer's [`Watcher`] takes
//! its own. `StopUpstream` (the linger after the last viewer ran out) asks
//! the unit to stop and drops the stream. An upstream the unit ends while
//! viewers wait is asked for again, and they resume at the next keyframe.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::SignedDuration;
use picket_proto::ids::{CameraId, CommandId, StreamId, UnitId};
use picket_proto::media::MediaFrame;
use picket_proto::message::{Body, Command, CommandAction, Envelope};
use tokio::sync::Notify;

use super::relay::{Event, JoinError, Relay, RelayPolicy, StreamKey, ViewerId};
use super::upstream::Upstreams;
use crate::clock::Clock;
use crate::publisher::{Outgoing, PublishSender};

/// How long a unit has to act on a live-view command.
pub const COMMAND_TTL: SignedDuration = SignedDuration::from_secs(10);

/// The live service (cheap to clone).
#[derive(Clone)]
pub struct LiveService {
    inner: Arc<Mutex<Inner>>,
    upstreams: Upstreams,
    publisher: PublishSender,
    clock: Arc<dyn Clock>,
    /// Streams whose upstream the unit ended while viewers wait.
    again: tokio::sync::mpsc::UnboundedSender<StreamKey>,
    /// Signs viewers' stream tokens (made at start: a restart ends them).
    tokens: Arc<super::token::TokenKey>,
    /// Tokens no longer accepted.
    revoked: Arc<Mutex<super::token::Revocations>>,
}

/// How long a stream token is accepted.
pub const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_mins(5);

impl std::fmt::Debug for LiveService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveService").finish_non_exhaustive()
    }
}

struct Inner {
    relay: Relay,
    /// `live_view_start` commands awaiting the unit's answer.
    asked: HashMap<CommandId, StreamKey>,
    /// Streams the unit refused, and why (their viewers are told).
    refused: HashMap<StreamKey, String>,
    /// The running upstream of each stream.
    streams: HashMap<StreamKey, Upstream>,
    /// Woken when a viewer has frames (or was cut off).
    wake: HashMap<(StreamKey, ViewerId), Arc<Notify>>,
}

struct Upstream {
    stream: StreamId,
    forward: tokio::task::JoinHandle<()>,
}

/// Why a camera cannot be watched now.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The stream has as many viewers as it may.
    #[error("this camera has as many viewers as the hub allows; try again later")]
    Full,
}

/// One viewer of one camera; leaving is dropping it.
pub struct Watcher {
    service: LiveService,
    key: StreamKey,
    viewer: ViewerId,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("unit", &self.key.unit)
            .field("camera", &self.key.camera)
            .finish_non_exhaustive()
    }
}

impl LiveService {
    /// A service over the units' upstreams and the MQTT publisher; starts
    /// its timer task.
    pub fn start(
        policy: RelayPolicy,
        upstreams: Upstreams,
        publisher: PublishSender,
        clock: Arc<dyn Clock>,
        mut answers: tokio::sync::mpsc::UnboundedReceiver<(
            UnitId,
            picket_proto::message::CommandAck,
        )>,
    ) -> LiveService {
        let (again, mut ended) = tokio::sync::mpsc::unbounded_channel();
        let service = LiveService {
            inner: Arc::new(Mutex::new(Inner {
                relay: Relay::new(policy),
                asked: HashMap::new(),
                refused: HashMap::new(),
                streams: HashMap::new(),
                wake: HashMap::new(),
            })),
            upstreams,
            publisher,
            clock,
            again,
            tokens: Arc::new(super::token::TokenKey::new(&{
                let mut secret = [0u8; 32];
                let _ = getrandom::fill(&mut secret);
                secret
            })),
            revoked: Arc::default(),
        };
        let listener = service.clone();
        tokio::spawn(async move {
            while let Some((unit, ack)) = answers.recv().await {
                listener.answered(unit, ack);
            }
        });
        let asker = service.clone();
        tokio::spawn(async move {
            while let Some(key) = ended.recv().await {
                let watched = asker.lock().relay.stream(key).is_some();
                if watched {
                    asker.start_upstream(key).await;
                }
            }
        });
        let timer = service.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = timer.clock.now();
                let due = timer.lock().relay.poll_timeout().is_some_and(|t| t <= now);
                if due {
                    timer.lock().relay.handle_timeout(now);
                    timer.after_input().await;
                }
                if Arc::strong_count(&timer.inner) == 1 {
                    return;
                }
            }
        });
        service
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts watching `camera` of `unit` (the caller checked the access).
    pub async fn watch(&self, unit: UnitId, camera: CameraId) -> Result<Watcher, WatchError> {
        let key = StreamKey { unit, camera };
        let now = self.clock.now();
        let (viewer, wake) = {
            let mut inner = self.lock();
            let viewer = inner.relay.join(key, now).map_err(|e| match e {
                JoinError::Full(_) => WatchError::Full,
            })?;
            let wake = Arc::new(Notify::new());
            inner.wake.insert((key, viewer), wake.clone());
            (viewer, wake)
        };
        self.after_input().await;
        Ok(Watcher {
            service: self.clone(),
            key,
            viewer,
            wake,
        })
    }

    /// A unit's answer to a command: a refused `live_view_start` ends its
    /// stream's viewers with the unit's reason.
    fn answered(&self, unit: UnitId, ack: picket_proto::message::CommandAck) {
        use picket_proto::message::CommandOutcome;
        let mut inner = self.lock();
        let Some(key) = inner.asked.remove(&ack.command) else {
            return;
        };
        if key.unit != unit {
            tracing::warn!(%unit, command = %ack.command, "a unit answered another unit's command; ignored");
            return;
        }
        let why = match ack.outcome {
            CommandOutcome::Done => return,
            CommandOutcome::Failed(why) => why,
            CommandOutcome::Expired => "the unit got the request too late".to_owned(),
            other => format!("the unit cannot stream: {other:?}"),
        };
        tracing::warn!(%unit, camera = %key.camera, reason = %why, "live view refused by the unit");
        if let Some(up) = inner.streams.remove(&key) {
            up.forward.abort();
            self.upstreams.forget(up.stream);
        }
        inner.refused.insert(key, why);
        for ((k, _), wake) in inner.wake.iter() {
            if *k == key {
                wake.notify_one();
            }
        }
    }

    /// A stream token for `viewer` to watch `camera` of `unit` for
    /// [`TOKEN_LIFETIME`] (the caller checked the access).
    pub fn token(
        &self,
        viewer: &str,
        unit: UnitId,
        camera: CameraId,
    ) -> Result<(String, jiff::Timestamp), super::token::TokenError> {
        let now = self.clock.now();
        let mut id = [0u8; 16];
        let _ = getrandom::fill(&mut id);
        let grant = super::token::StreamGrant {
            id,
            viewer: viewer.to_owned(),
            unit,
            camera,
            issued_at: now,
            expires_at: now + TOKEN_LIFETIME,
        };
        Ok((self.tokens.issue(&grant)?, grant.expires_at))
    }

    /// The grant in `token` if it lets its holder watch `camera` of `unit`
    /// now.
    pub fn check_token(
        &self,
        token: &str,
        unit: UnitId,
        camera: CameraId,
    ) -> Result<super::token::StreamGrant, super::token::TokenError> {
        let revoked = self
            .revoked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.tokens
            .verify(token, unit, camera, self.clock.now(), &revoked)
    }

    /// Refuses every stream token `viewer` holds now (signed out, access
    /// changed).
    pub fn revoke_viewer(&self, viewer: &str) {
        let now = self.clock.now();
        let mut revoked = self
            .revoked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        revoked.prune(now, TOKEN_LIFETIME);
        revoked.revoke_viewer(viewer, now);
    }

    /// Upstreams asked for or running now (one per watched camera the
    /// unit did not refuse).
    pub fn active_upstreams(&self) -> usize {
        self.lock().streams.len()
    }

    /// The relay's counters and gauges over every stream.
    pub fn metrics(&self) -> super::relay::StreamMetrics {
        self.lock().relay.metrics()
    }

    /// Acts on what the relay decided.
    async fn after_input(&self) {
        let events: Vec<(StreamKey, Event)> = {
            let mut inner = self.lock();
            std::iter::from_fn(|| inner.relay.poll_event()).collect()
        };
        for (key, event) in events {
            match event {
                Event::StartUpstream => self.start_upstream(key).await,
                Event::StopUpstream => {
                    let gone = self.lock().streams.remove(&key);
                    if let Some(up) = gone {
                        up.forward.abort();
                        self.upstreams.forget(up.stream);
                        let _ = self
                            .command(
                                key.unit,
                                CommandAction::LiveViewStop {
                                    camera: key.camera,
                                    stream: up.stream,
                                },
                            )
                            .await;
                        tracing::info!(unit = %key.unit, camera = %key.camera, stream = %up.stream, "live upstream stopped");
                    }
                }
                Event::Disconnected { viewer, reason } => {
                    tracing::info!(unit = %key.unit, camera = %key.camera, ?reason, "live viewer cut off");
                    if let Some(wake) = self.lock().wake.remove(&(key, viewer)) {
                        wake.notify_one();
                    }
                }
            }
        }
    }

    async fn start_upstream(&self, key: StreamKey) {
        let now = self.clock.now();
        let mut random = [0u8; 10];
        let _ = getrandom::fill(&mut random);
        let stream = StreamId::v7(now, random);
        let mut frames = self.upstreams.expect(stream, key.unit, key.camera);
        let service = self.clone();
        let forward = tokio::spawn(async move {
            while let Some(frame) = frames.recv().await {
                service.push(key, frame);
            }
            // The unit ended it while viewers wait: they resume at the
            // next keyframe of the upstream asked for again.
            let ended = {
                let mut inner = service.lock();
                let ours = inner.streams.get(&key).is_some_and(|u| u.stream == stream);
                if ours {
                    inner.streams.remove(&key);
                    inner.relay.upstream_restarted(key);
                }
                ours
            };
            if ended {
                tracing::info!(unit = %key.unit, camera = %key.camera, %stream, "live upstream ended by the unit; asking again");
                let _ = service.again.send(key);
            }
        });
        if let Some(old) = self
            .lock()
            .streams
            .insert(key, Upstream { stream, forward })
        {
            old.forward.abort();
            self.upstreams.forget(old.stream);
        }
        self.lock().refused.remove(&key);
        let id = self
            .command(
                key.unit,
                CommandAction::LiveViewStart {
                    camera: key.camera,
                    stream,
                    relay: String::new(),
                },
            )
            .await;
        self.lock().asked.insert(id, key);
        tracing::info!(unit = %key.unit, camera = %key.camera, %stream, "live upstream asked for");
    }

    fn push(&self, key: StreamKey, frame: MediaFrame) {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.relay.push(key, frame, now);
        for ((k, _), wake) in inner.wake.iter() {
            if *k == key {
                wake.notify_one();
            }
        }
    }

    /// Sends `action` to `unit`; its command id.
    async fn command(&self, unit: UnitId, action: CommandAction) -> CommandId {
        let now = self.clock.now();
        let mut random = [0u8; 10];
        let _ = getrandom::fill(&mut random);
        let id = CommandId::v7(now, random);
        let command = Command {
            id,
            issued_at: now,
            expires_at: now + COMMAND_TTL,
            action,
        };
        match Outgoing::new(&Envelope::new(unit, now, Body::Command(command))) {
            Ok(out) => {
                if self.publisher.send(out).await.is_err() {
                    tracing::error!(%unit, "publisher stopped; live command not sent");
                }
            }
            Err(e) => tracing::error!(%unit, error = %e, "cannot encode a live command"),
        }
        id
    }
}

impl Watcher {
    /// The next frames for this viewer, in order, the first a keyframe;
    /// `None` once it was cut off or the unit refused to stream
    /// ([`Watcher::refused`] says why).
    pub async fn next(&mut self) -> Option<Vec<MediaFrame>> {
        loop {
            let notified = self.wake.notified();
            {
                let mut inner = self.service.lock();
                if inner.refused.contains_key(&self.key) {
                    return None;
                }
                match inner.relay.take(self.key, self.viewer) {
                    None => return None,
                    Some(frames) if !frames.is_empty() => return Some(frames),
                    Some(_) => {}
                }
            }
            notified.await;
        }
    }
}

impl Watcher {
    /// Why the unit refused to stream this camera, if it did.
    pub fn refused(&self) -> Option<String> {
        self.service.lock().refused.get(&self.key).cloned()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let now = self.service.clock.now();
        let mut inner = self.service.lock();
        inner.wake.remove(&(self.key, self.viewer));
        inner.relay.leave(self.key, self.viewer, now);
        // Leaving only ever starts the linger; the timer acts on it.
    }
}
