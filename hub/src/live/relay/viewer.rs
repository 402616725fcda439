//! One viewer's queue: bounded in bytes, dropped to the next keyframe
//! when it would overflow, and the policy that disconnects it.

use std::collections::VecDeque;

use jiff::Timestamp;
use picket_proto::media::MediaFrame;

use super::{DisconnectReason, RelayPolicy, ViewerMetrics, later};

/// What a viewer is being fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feed {
    Flowing,
    AwaitingKey(Awaiting),
}

/// Why a viewer waits for a keyframe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Awaiting {
    /// It joined with no usable GOP cached.
    Start,
    /// It was too slow (deltas it misses count as dropped).
    Dropped,
    /// The upstream restarted.
    Restart,
}

/// A viewer, as its stream keeps it.
#[derive(Debug)]
pub(super) struct Viewer {
    feed: Feed,
    queue: VecDeque<MediaFrame>,
    queued_bytes: usize,
    /// Since when frames have waited for it without a take.
    waiting_since: Option<Timestamp>,
    /// Its recent drops, within the drop window.
    drops: VecDeque<Timestamp>,
    metrics: ViewerMetrics,
}

impl Viewer {
    /// A viewer starting from `gop` (the stream's cache, from its
    /// keyframe), or, if that is empty or over its queue cap, waiting for
    /// the next keyframe.
    pub(super) fn new<'a>(
        gop: impl ExactSizeIterator<Item = &'a MediaFrame>,
        gop_bytes: usize,
        policy: &RelayPolicy,
        now: Timestamp,
    ) -> Self {
        let mut viewer = Viewer {
            feed: Feed::AwaitingKey(Awaiting::Start),
            queue: VecDeque::new(),
            queued_bytes: 0,
            waiting_since: None,
            drops: VecDeque::new(),
            metrics: ViewerMetrics::default(),
        };
        if gop.len() > 0 && gop_bytes <= policy.viewer_queue_bytes {
            viewer.feed = Feed::Flowing;
            for frame in gop {
                viewer.enqueue(frame.clone(), frame.record_len(), now);
            }
        }
        viewer
    }

    /// Everything queued, in order, for its sender.
    pub(super) fn take(&mut self) -> Vec<MediaFrame> {
        let frames: Vec<MediaFrame> = self.queue.drain(..).collect();
        self.metrics.frames_out += frames.len() as u64;
        self.metrics.bytes_out += self.queued_bytes as u64;
        self.queued_bytes = 0;
        self.waiting_since = None;
        frames
    }

    /// What follows does not continue the GOP it was fed: wait for a
    /// keyframe, keeping what is queued (that still decodes).
    pub(super) fn upstream_restarted(&mut self) {
        if self.feed == Feed::Flowing {
            self.feed = Feed::AwaitingKey(Awaiting::Restart);
        }
    }

    /// Its counters, and its queue now.
    pub(super) fn metrics(&self) -> ViewerMetrics {
        ViewerMetrics {
            queued_bytes: self.queued_bytes,
            ..self.metrics
        }
    }

    pub(super) fn has_frames(&self) -> bool {
        !self.queue.is_empty()
    }

    pub(super) fn queue_len(&self) -> usize {
        self.queue.len()
    }

    fn enqueue(&mut self, frame: MediaFrame, len: usize, now: Timestamp) {
        self.queued_bytes += len;
        self.queue.push_back(frame);
        self.waiting_since.get_or_insert(now);
    }

    /// Empties the queue and counts a drop; whether the policy now says
    /// to disconnect.
    fn drop_to_key(&mut self, policy: &RelayPolicy, now: Timestamp) -> bool {
        self.metrics.frames_dropped += self.queue.len() as u64;
        self.metrics.dropped_to_key += 1;
        self.queue.clear();
        self.queued_bytes = 0;
        self.feed = Feed::AwaitingKey(Awaiting::Dropped);
        while self
            .drops
            .front()
            .is_some_and(|at| later(*at, policy.drop_window) <= now)
        {
            self.drops.pop_front();
        }
        self.drops.push_back(now);
        self.drops.len() >= policy.drops_before_disconnect as usize
    }

    /// When it counts as stalled, if frames are waiting for it.
    pub(super) fn stalled_at(&self, policy: &RelayPolicy) -> Option<Timestamp> {
        self.waiting_since.map(|at| later(at, policy.stall_limit))
    }

    /// Offers a frame of `len` record bytes; `Some(reason)` if the viewer
    /// must be disconnected.
    pub(super) fn offer(
        &mut self,
        frame: &MediaFrame,
        len: usize,
        policy: &RelayPolicy,
        now: Timestamp,
    ) -> Option<DisconnectReason> {
        if self.stalled_at(policy).is_some_and(|at| at <= now) {
            return Some(DisconnectReason::Stalled);
        }
        if let Feed::AwaitingKey(why) = self.feed {
            if !frame.is_key() {
                if why == Awaiting::Dropped {
                    self.metrics.frames_dropped += 1;
                }
                return None;
            }
            self.feed = Feed::Flowing;
        }
        if self.queued_bytes + len > policy.viewer_queue_bytes {
            if self.drop_to_key(policy, now) {
                return Some(DisconnectReason::TooManyDrops);
            }
            if !frame.is_key() {
                self.metrics.frames_dropped += 1;
                return None;
            }
            // Dropped to this very keyframe.
            self.feed = Feed::Flowing;
            if len > policy.viewer_queue_bytes {
                // A keyframe over the whole cap can never be sent.
                self.metrics.frames_dropped += 1;
                self.feed = Feed::AwaitingKey(Awaiting::Dropped);
                return None;
            }
        }
        self.enqueue(frame.clone(), len, now);
        None
    }
}
