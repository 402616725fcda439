//! The live relay core: one camera's upstream fanned out to its viewers.
//!
//! Pure: no IO, no tokio, no clock. Every instant is an argument, so the
//! whole thing runs in simulated time. The driver (one task per stream, or
//! one for the [`Relay`]) loops: feed one input — [`Stream::push`] a frame
//! from the unit, [`Stream::join`]/[`Stream::leave`] a viewer,
//! [`Stream::take`] for a viewer's sender, [`Stream::handle_timeout`] when
//! [`Stream::poll_timeout`] is due — then drain [`Stream::poll_event`]
//! (start or stop the upstream, close a disconnected viewer).
//!
//! **Invariants** (checked by the property test):
//! - A viewer's first frame is a keyframe, and after any gap (a drop, an
//!   upstream restart) the next frame is a keyframe: it never gets a delta
//!   frame without the keyframe it depends on.
//! - A viewer gets frames in upstream order, each at most once, with no
//!   gap but where it was dropped or the upstream restarted.
//! - A slow viewer never slows the others: [`Stream::push`] does amortised
//!   O(1) work per viewer (a frame is queued once and dropped at most
//!   once) and never waits.
//!
//! **Memory bound.** Per stream, the accounted frame bytes (record sizes)
//! are at most `gop_cache_bytes + max_viewers × viewer_queue_bytes`
//! ([`RelayPolicy::bound`]); a sender holds at most one taken batch (≤ one
//! queue cap) on top. The real heap is usually far less: a frame's payload
//! is refcounted, held once however many queues and the cache hold it.
//! Besides frames: per viewer at most `drops_before_disconnect` instants,
//! and the events the driver has not yet drained (at most one per viewer
//! gone, plus start/stop).

use std::collections::{BTreeMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::{CameraId, UnitId};
use picket_proto::media::MediaFrame;

mod cameras;
mod metrics;
#[cfg(test)]
mod tests;
mod viewer;

pub use cameras::Relay;
pub use metrics::{StreamMetrics, ViewerMetrics};
use viewer::Viewer;

/// How a stream caches, queues, drops and lingers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayPolicy {
    /// The most bytes of the latest GOP kept for new viewers (default
    /// 4 MiB: a 2 s GOP at 16 Mbit/s). A GOP that outgrows it is cut
    /// whole, and new viewers wait for the next keyframe.
    pub gop_cache_bytes: usize,
    /// The most bytes queued for one viewer (default 8 MiB, twice the
    /// cache, so a viewer that joins on a full cache has room to go on).
    /// Keep it at least the cache: a viewer joining when the cache is
    /// over it waits for the next keyframe.
    pub viewer_queue_bytes: usize,
    /// The most viewers of one stream (default 32).
    pub max_viewers: usize,
    /// How long the upstream keeps running after the last viewer leaves
    /// (default 10 s), so a quick rejoin starts at once.
    pub linger: SignedDuration,
    /// A viewer dropped to the next keyframe this many times within
    /// [`drop_window`](Self::drop_window) is disconnected (default 3).
    pub drops_before_disconnect: u32,
    /// See [`drops_before_disconnect`](Self::drops_before_disconnect)
    /// (default 60 s).
    pub drop_window: SignedDuration,
    /// A viewer with frames waiting that takes none for this long is
    /// disconnected as stalled (default 15 s).
    pub stall_limit: SignedDuration,
}

impl Default for RelayPolicy {
    fn default() -> Self {
        Self {
            gop_cache_bytes: 4 << 20,
            viewer_queue_bytes: 8 << 20,
            max_viewers: 32,
            linger: SignedDuration::from_secs(10),
            drops_before_disconnect: 3,
            drop_window: SignedDuration::from_secs(60),
            stall_limit: SignedDuration::from_secs(15),
        }
    }
}

impl RelayPolicy {
    /// The most frame bytes one stream accounts for at any time: the GOP
    /// cache plus every viewer's queue.
    pub fn bound(&self) -> usize {
        self.gop_cache_bytes
            .saturating_add(self.max_viewers.saturating_mul(self.viewer_queue_bytes))
    }
}

/// A viewer of one stream, unique within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ViewerId(u64);

/// Which camera a stream comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey {
    /// The unit.
    pub unit: UnitId,
    /// The camera on it.
    pub camera: CameraId,
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Ask the unit to stream (the first viewer joined).
    StartUpstream,
    /// Ask the unit to stop (the linger after the last viewer ran out).
    StopUpstream,
    /// The relay cut a viewer off; close its connection.
    Disconnected {
        /// Who.
        viewer: ViewerId,
        /// Why.
        reason: DisconnectReason,
    },
}

/// Why the relay disconnected a viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// Dropped to the next keyframe too often within the drop window.
    TooManyDrops,
    /// Frames waited for it longer than the stall limit.
    Stalled,
}

/// Why a viewer could not join.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The stream already has its policy's most viewers.
    #[error("the live stream already has {0} viewers")]
    Full(usize),
}

/// Whether the unit is, or should be, streaming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upstream {
    Stopped,
    Running,
    /// No viewers; stop at `until` unless one joins.
    Lingering {
        until: Timestamp,
    },
}

/// One camera's live stream at the hub: the GOP cache, the viewers and
/// their queues, and whether the upstream should run.
#[derive(Debug)]
pub struct Stream {
    policy: RelayPolicy,
    upstream: Upstream,
    /// The newest GOP, from its keyframe; empty when there is none usable
    /// (none yet, cut for size, upstream restarted or stopped).
    cache: VecDeque<MediaFrame>,
    cached_bytes: usize,
    viewers: BTreeMap<ViewerId, Viewer>,
    next_viewer: u64,
    events: VecDeque<Event>,
    /// Counters; the gauges are filled in by [`Stream::metrics`].
    counters: StreamMetrics,
}

impl Stream {
    /// A stream with no viewers and no upstream.
    pub fn new(policy: RelayPolicy) -> Self {
        Self {
            policy,
            upstream: Upstream::Stopped,
            cache: VecDeque::new(),
            cached_bytes: 0,
            viewers: BTreeMap::new(),
            next_viewer: 0,
            events: VecDeque::new(),
            counters: StreamMetrics::default(),
        }
    }

    /// Its policy.
    pub fn policy(&self) -> &RelayPolicy {
        &self.policy
    }

    /// A new viewer. It starts from the cached GOP (so its first frame is
    /// a keyframe), or, with none cached, waits for the next keyframe.
    /// The first viewer starts the upstream; one during the linger
    /// cancels the stop.
    pub fn join(&mut self, now: Timestamp) -> Result<ViewerId, JoinError> {
        if self.viewers.len() >= self.policy.max_viewers {
            return Err(JoinError::Full(self.viewers.len()));
        }
        match self.upstream {
            Upstream::Stopped => self.events.push_back(Event::StartUpstream),
            Upstream::Running | Upstream::Lingering { .. } => {}
        }
        self.upstream = Upstream::Running;
        let id = ViewerId(self.next_viewer);
        self.next_viewer += 1;
        let viewer = Viewer::new(self.cache.iter(), self.cached_bytes, &self.policy, now);
        self.viewers.insert(id, viewer);
        Ok(id)
    }

    /// A viewer left; the last one starts the linger. Unknown viewers are
    /// ignored.
    pub fn leave(&mut self, viewer: ViewerId, now: Timestamp) {
        if self.viewers.remove(&viewer).is_some() {
            self.after_viewer_removed(now);
        }
    }

    /// A frame from the upstream: cached, and offered to every viewer.
    /// A viewer whose queue it would overflow is dropped to the next
    /// keyframe (or disconnected, per the policy). O(viewers).
    pub fn push(&mut self, frame: MediaFrame, now: Timestamp) {
        if self.upstream == Upstream::Stopped {
            self.counters.frames_ignored += 1;
            return;
        }
        let len = frame.record_len();
        self.counters.frames_in += 1;
        self.counters.bytes_in += len as u64;
        let policy = &self.policy;
        let events = &mut self.events;
        let counters = &mut self.counters;
        self.viewers.retain(|id, viewer| {
            let before = viewer.metrics();
            let reason = viewer.offer(&frame, len, policy, now);
            let after = viewer.metrics();
            counters.frames_dropped += after.frames_dropped - before.frames_dropped;
            counters.dropped_to_key += after.dropped_to_key - before.dropped_to_key;
            match reason {
                None => true,
                Some(reason) => {
                    counters.disconnected += 1;
                    events.push_back(Event::Disconnected {
                        viewer: *id,
                        reason,
                    });
                    false
                }
            }
        });
        self.cache_frame(frame, len);
        self.after_viewer_removed(now);
    }

    /// The frames a viewer's sender should send now, in order; `None` if
    /// it is not a viewer (never joined, left, or disconnected).
    pub fn take(&mut self, viewer: ViewerId) -> Option<Vec<MediaFrame>> {
        let viewer = self.viewers.get_mut(&viewer)?;
        self.counters.frames_out += viewer.queue_len() as u64;
        self.counters.bytes_out += viewer.metrics().queued_bytes as u64;
        Some(viewer.take())
    }

    /// Whether a viewer has frames to take.
    pub fn has_frames(&self, viewer: ViewerId) -> bool {
        self.viewers.get(&viewer).is_some_and(Viewer::has_frames)
    }

    /// The unit restarted its stream (a new session, say after a reboot):
    /// what follows does not continue the old GOP. The cache is cleared
    /// and every viewer waits for the next keyframe, keeping what is
    /// already queued for it (that still decodes).
    pub fn upstream_restarted(&mut self) {
        self.clear_cache();
        for viewer in self.viewers.values_mut() {
            viewer.upstream_restarted();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has work: the
    /// end of the linger, or the earliest stall.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let linger = match self.upstream {
            Upstream::Lingering { until } => Some(until),
            Upstream::Stopped | Upstream::Running => None,
        };
        let stall = self
            .viewers
            .values()
            .filter_map(|v| v.stalled_at(&self.policy))
            .min();
        linger.into_iter().chain(stall).min()
    }

    /// Acts on the deadlines due at `now`: disconnects stalled viewers,
    /// and stops the upstream when the linger has run out.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let policy = &self.policy;
        let events = &mut self.events;
        let counters = &mut self.counters;
        self.viewers.retain(|id, viewer| {
            if viewer.stalled_at(policy).is_some_and(|at| at <= now) {
                counters.disconnected += 1;
                events.push_back(Event::Disconnected {
                    viewer: *id,
                    reason: DisconnectReason::Stalled,
                });
                false
            } else {
                true
            }
        });
        self.after_viewer_removed(now);
        if let Upstream::Lingering { until } = self.upstream
            && until <= now
        {
            self.upstream = Upstream::Stopped;
            self.clear_cache();
            self.events.push_back(Event::StopUpstream);
        }
    }

    /// The next thing the driver must do.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Its counters and gauges.
    pub fn metrics(&self) -> StreamMetrics {
        StreamMetrics {
            viewers: self.viewers.len(),
            active_upstreams: usize::from(self.upstream != Upstream::Stopped),
            cached_bytes: self.cached_bytes,
            queued_bytes: self
                .viewers
                .values()
                .map(|v| v.metrics().queued_bytes)
                .sum(),
            ..self.counters
        }
    }

    /// One viewer's counters, if it is a viewer.
    pub fn viewer(&self, viewer: ViewerId) -> Option<ViewerMetrics> {
        self.viewers.get(&viewer).map(Viewer::metrics)
    }

    /// Its viewers, in the order they joined.
    pub fn viewers(&self) -> impl Iterator<Item = ViewerId> + '_ {
        self.viewers.keys().copied()
    }

    /// Whether it has nothing left to do: no viewers, no upstream, no
    /// events to drain.
    pub fn is_idle(&self) -> bool {
        self.upstream == Upstream::Stopped && self.viewers.is_empty() && self.events.is_empty()
    }

    fn cache_frame(&mut self, frame: MediaFrame, len: usize) {
        if frame.is_key() {
            self.clear_cache();
        } else if self.cache.is_empty() {
            // No keyframe to hang it on (none yet, or the GOP was cut).
            return;
        }
        if self.cached_bytes + len > self.policy.gop_cache_bytes {
            // Cut the GOP whole: a new viewer waits for the next keyframe.
            self.clear_cache();
            return;
        }
        self.cached_bytes += len;
        self.cache.push_back(frame);
    }

    fn clear_cache(&mut self) {
        self.cache.clear();
        self.cached_bytes = 0;
    }

    fn after_viewer_removed(&mut self, now: Timestamp) {
        if self.viewers.is_empty() && self.upstream == Upstream::Running {
            self.upstream = Upstream::Lingering {
                until: later(now, self.policy.linger),
            };
        }
    }
}

/// `at + by`, saturating instead of overflowing.
fn later(at: Timestamp, by: SignedDuration) -> Timestamp {
    at.checked_add(by).unwrap_or(Timestamp::MAX)
}
