//! What a stream counts, and what it reports of each viewer.

/// Cumulative counters and current gauges of a stream (or, from
/// [`Relay::metrics`](super::Relay::metrics), of all streams).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamMetrics {
    /// Frames received from the upstream.
    pub frames_in: u64,
    /// Their record bytes.
    pub bytes_in: u64,
    /// Frames that arrived with no upstream asked for, and were ignored.
    pub frames_ignored: u64,
    /// Frames handed to viewers' senders.
    pub frames_out: u64,
    /// Their record bytes.
    pub bytes_out: u64,
    /// Frames a viewer lost by being dropped to the next keyframe.
    pub frames_dropped: u64,
    /// Times a viewer was dropped to the next keyframe.
    pub dropped_to_key: u64,
    /// Viewers the relay disconnected.
    pub disconnected: u64,
    /// Viewers now.
    pub viewers: usize,
    /// Upstreams running or lingering now (0 or 1 for a stream).
    pub active_upstreams: usize,
    /// Bytes in the GOP cache now.
    pub cached_bytes: usize,
    /// Bytes queued for all viewers now.
    pub queued_bytes: usize,
}

impl StreamMetrics {
    pub(super) fn add(&mut self, other: &StreamMetrics) {
        self.frames_in += other.frames_in;
        self.bytes_in += other.bytes_in;
        self.frames_ignored += other.frames_ignored;
        self.frames_out += other.frames_out;
        self.bytes_out += other.bytes_out;
        self.frames_dropped += other.frames_dropped;
        self.dropped_to_key += other.dropped_to_key;
        self.disconnected += other.disconnected;
        self.viewers += other.viewers;
        self.active_upstreams += other.active_upstreams;
        self.cached_bytes += other.cached_bytes;
        self.queued_bytes += other.queued_bytes;
    }
}

/// One viewer's counters and queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViewerMetrics {
    /// Frames handed to its sender.
    pub frames_out: u64,
    /// Their record bytes.
    pub bytes_out: u64,
    /// Frames it lost by being dropped to the next keyframe.
    pub frames_dropped: u64,
    /// Times it was dropped to the next keyframe.
    pub dropped_to_key: u64,
    /// Bytes queued for it now.
    pub queued_bytes: usize,
}
