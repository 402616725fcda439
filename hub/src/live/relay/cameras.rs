//! Every camera's stream: the [`Relay`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use picket_proto::media::MediaFrame;

use super::{Event, JoinError, RelayPolicy, Stream, StreamKey, StreamMetrics, ViewerId};

/// Every live stream at the hub, by camera. Streams come into being when
/// a first viewer joins and go once their upstream has stopped.
#[derive(Debug)]
pub struct Relay {
    policy: RelayPolicy,
    streams: BTreeMap<StreamKey, Stream>,
    /// The counters of streams gone, and of frames for no stream.
    retired: StreamMetrics,
}

impl Relay {
    /// No streams yet; each will follow `policy`.
    pub fn new(policy: RelayPolicy) -> Self {
        Self {
            policy,
            streams: BTreeMap::new(),
            retired: StreamMetrics::default(),
        }
    }

    /// A new viewer of a camera; see [`Stream::join`].
    pub fn join(&mut self, key: StreamKey, now: Timestamp) -> Result<ViewerId, JoinError> {
        self.streams
            .entry(key)
            .or_insert_with(|| Stream::new(self.policy.clone()))
            .join(now)
    }

    /// See [`Stream::leave`].
    pub fn leave(&mut self, key: StreamKey, viewer: ViewerId, now: Timestamp) {
        if let Some(stream) = self.streams.get_mut(&key) {
            stream.leave(viewer, now);
        }
    }

    /// See [`Stream::push`]; a frame for no stream is counted and ignored.
    pub fn push(&mut self, key: StreamKey, frame: MediaFrame, now: Timestamp) {
        match self.streams.get_mut(&key) {
            Some(stream) => stream.push(frame, now),
            None => self.retired.frames_ignored += 1,
        }
    }

    /// See [`Stream::take`].
    pub fn take(&mut self, key: StreamKey, viewer: ViewerId) -> Option<Vec<MediaFrame>> {
        self.streams.get_mut(&key)?.take(viewer)
    }

    /// See [`Stream::upstream_restarted`].
    pub fn upstream_restarted(&mut self, key: StreamKey) {
        if let Some(stream) = self.streams.get_mut(&key) {
            stream.upstream_restarted();
        }
    }

    /// The earliest deadline of any stream. O(streams × viewers).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.streams.values().filter_map(Stream::poll_timeout).min()
    }

    /// See [`Stream::handle_timeout`], for every stream.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        for stream in self.streams.values_mut() {
            stream.handle_timeout(now);
        }
    }

    /// The next thing the driver must do, and for which camera. A stream
    /// with nothing left to do is forgotten once drained.
    pub fn poll_event(&mut self) -> Option<(StreamKey, Event)> {
        let mut found = None;
        for (key, stream) in &mut self.streams {
            if let Some(event) = stream.poll_event() {
                found = Some((*key, event));
                break;
            }
        }
        let retired = &mut self.retired;
        self.streams.retain(|_, stream| {
            let idle = stream.is_idle();
            if idle {
                retired.add(&stream.metrics());
            }
            !idle
        });
        found
    }

    /// A stream, if it is live.
    pub fn stream(&self, key: StreamKey) -> Option<&Stream> {
        self.streams.get(&key)
    }

    /// Totals over every stream, past and present.
    pub fn metrics(&self) -> StreamMetrics {
        let mut total = self.retired;
        for stream in self.streams.values() {
            total.add(&stream.metrics());
        }
        total
    }
}
