//! One camera's ring buffer: the last `pre_roll` seconds of encoded frames,
//! whole GOPs from a keyframe, under a hard byte bound.
//!
//! "Now" is the newest frame's instant; the ring reads no clock.
//!
//! - **Starts at a keyframe.** Delta frames that come while the ring holds
//!   no keyframe (at start, after a reset, after an oversized GOP) are
//!   discarded: nothing could decode them.
//! - **Time bound.** The ring keeps the keyframe at or before
//!   `now − pre_roll` and everything after it, and drops older GOPs, whole,
//!   from the front. So it holds at least `pre_roll` (once it has run that
//!   long) and at most `pre_roll` plus one GOP. With a pre-roll of 0 it
//!   holds the current GOP, which a clip or a live view starts from.
//! - **Byte bound.** What it holds ([`Frame::footprint`]: payload, parameter
//!   sets, frame record) never exceeds `max_bytes` after a push. When it
//!   would, the oldest GOP goes even though the pre-roll needs it; that is
//!   counted ([`RingStats::pre_roll_cuts`]) and shown ([`Coverage::CutByBytes`])
//!   until the ring covers the pre-roll again. A GOP that alone exceeds the
//!   bound (a camera whose keyframes stopped) is dropped while it comes in
//!   ([`RingStats::oversized_gops`]); the ring then waits for a keyframe.
//! - **Discontinuities** ([`Discontinuity`]: time going backwards, a gap of
//!   more than `max_gap`, a new codec or new parameter sets) empty the ring
//!   before the frame is taken: frames of two time bases or two encoder
//!   configurations never share a ring, so a clip never mixes them.
//!
//! The default byte bound follows the memory target,
//! `1.1 × bitrate × pre_roll + 8 MB` ([`RingLimits::for_bitrate`]): the 8 MB
//! are room for the GOP reaching back before `now − pre_roll` and for
//! keyframes larger than the average frame.

use std::collections::VecDeque;
use std::collections::vec_deque;

use jiff::{SignedDuration, Timestamp};

use super::SettingsError;
use super::frame::{Continuity, Discontinuity, Frame, minus};

/// What a ring keeps: its pre-roll, its byte bound and the largest gap
/// between frames that still counts as one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingLimits {
    pre_roll: SignedDuration,
    max_bytes: usize,
    max_gap: SignedDuration,
}

impl RingLimits {
    /// The bitrate assumed when the camera's is unknown: 4 Mbit/s, a 1080p
    /// H.264 surveillance stream.
    pub const DEFAULT_BITRATE_BPS: u64 = 4_000_000;
    /// Room on top of `1.1 × bitrate × pre_roll`: 8 MB.
    pub const HEADROOM_BYTES: usize = 8_000_000;
    /// Frames further apart than this are two streams: 5 s.
    pub const DEFAULT_MAX_GAP: SignedDuration = SignedDuration::from_secs(5);
    /// The longest pre-roll: 60 s.
    pub const MAX_PRE_ROLL: SignedDuration = SignedDuration::from_secs(60);

    /// A pre-roll (0–60 s) and a byte bound (above 0).
    pub fn new(pre_roll: SignedDuration, max_bytes: usize) -> Result<RingLimits, SettingsError> {
        check_pre_roll(pre_roll)?;
        if max_bytes == 0 {
            return Err(SettingsError::RingBytes);
        }
        Ok(RingLimits {
            pre_roll,
            max_bytes,
            max_gap: RingLimits::DEFAULT_MAX_GAP,
        })
    }

    /// A pre-roll with the byte bound of the memory target for a
    /// camera sending `bitrate_bps` bits per second:
    /// `1.1 × bitrate_bps / 8 × pre_roll + 8 MB` (13.5 MB for 4 Mbit/s and
    /// 10 s; 41 MB for 4 Mbit/s and 60 s).
    pub fn for_bitrate(
        pre_roll: SignedDuration,
        bitrate_bps: u64,
    ) -> Result<RingLimits, SettingsError> {
        check_pre_roll(pre_roll)?;
        let millis = u128::try_from(pre_roll.as_millis()).unwrap_or(0);
        // 1.1 × (bits/s ÷ 8) × (ms ÷ 1000) bytes, in integers.
        let video = u128::from(bitrate_bps) * millis * 11 / 80_000;
        let video = usize::try_from(video).unwrap_or(usize::MAX);
        RingLimits::new(pre_roll, video.saturating_add(RingLimits::HEADROOM_BYTES))
    }

    /// The same limits with another largest gap between frames (above 0).
    pub fn with_max_gap(self, max_gap: SignedDuration) -> Result<RingLimits, SettingsError> {
        if !max_gap.is_positive() {
            return Err(SettingsError::MaxGap { got: max_gap });
        }
        Ok(RingLimits { max_gap, ..self })
    }

    /// How far before the newest frame the ring reaches.
    pub fn pre_roll(&self) -> SignedDuration {
        self.pre_roll
    }

    /// The most it holds, in [`Frame::footprint`] bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The largest gap between two frames of one stream.
    pub fn max_gap(&self) -> SignedDuration {
        self.max_gap
    }
}

impl Default for RingLimits {
    /// 10 s of pre-roll at [`RingLimits::DEFAULT_BITRATE_BPS`]: 13.5 MB.
    fn default() -> RingLimits {
        RingLimits {
            pre_roll: SignedDuration::from_secs(10),
            max_bytes: 5_500_000 + RingLimits::HEADROOM_BYTES,
            max_gap: RingLimits::DEFAULT_MAX_GAP,
        }
    }
}

/// Refuses a pre-roll outside 0–60 s.
pub(crate) fn check_pre_roll(pre_roll: SignedDuration) -> Result<(), SettingsError> {
    if pre_roll.is_negative() || pre_roll > RingLimits::MAX_PRE_ROLL {
        return Err(SettingsError::PreRoll { got: pre_roll });
    }
    Ok(())
}

/// How much of the pre-roll the ring holds now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Nothing: no keyframe since start or the last reset.
    Empty,
    /// Less than the pre-roll, because the stream has not run that long
    /// since start or the last reset.
    Filling,
    /// From a keyframe at or before `newest − pre_roll`.
    Full,
    /// Less than the pre-roll, because the byte bound dropped GOPs it
    /// needed: the bound is too small for this camera's bitrate or GOP.
    CutByBytes,
}

/// Counters for the health report; they only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Frames pushed.
    pub frames_pushed: u64,
    /// Delta frames discarded because no keyframe came before them.
    pub frames_discarded: u64,
    /// GOPs dropped because they were older than the pre-roll needs.
    pub gops_expired: u64,
    /// GOPs the pre-roll still needed, dropped to keep the byte bound.
    pub pre_roll_cuts: u64,
    /// GOPs larger than the whole byte bound, dropped as they came in.
    pub oversized_gops: u64,
    /// Times the ring was emptied for a discontinuity in the stream.
    pub discontinuities: u64,
    /// Times the ring was emptied by [`Ring::reset`].
    pub resets: u64,
}

/// One camera's ring buffer.
#[derive(Debug)]
pub struct Ring {
    limits: RingLimits,
    continuity: Continuity,
    frames: VecDeque<Frame>,
    /// Positions of the keyframes held, oldest first; `keys[0]` is `base`.
    keys: VecDeque<u64>,
    /// Position of `frames[0]` in the stream of frames ever held.
    base: u64,
    /// Sum of the footprints held.
    bytes: usize,
    /// GOPs the pre-roll needed were dropped since the ring last covered it.
    cut: bool,
    stats: RingStats,
}

impl Ring {
    /// An empty ring.
    pub fn new(limits: RingLimits) -> Ring {
        Ring {
            limits,
            continuity: Continuity::new(limits.max_gap),
            frames: VecDeque::new(),
            keys: VecDeque::new(),
            base: 0,
            bytes: 0,
            cut: false,
            stats: RingStats::default(),
        }
    }

    /// Takes the camera's next frame, in stream order. Returns the
    /// discontinuity it caused, if any: the ring was emptied before taking
    /// it.
    pub fn push(&mut self, frame: Frame) -> Option<Discontinuity> {
        self.stats.frames_pushed += 1;
        let discontinuity = self.continuity.observe(&frame);
        if discontinuity.is_some() {
            self.clear();
            self.stats.discontinuities += 1;
        }
        if frame.is_key() {
            self.keys.push_back(self.base + self.frames.len() as u64);
        } else if self.frames.is_empty() {
            self.stats.frames_discarded += 1;
            return discontinuity;
        }
        self.bytes += frame.footprint();
        self.frames.push_back(frame);
        self.evict();
        discontinuity
    }

    /// New limits (the site's clip settings changed): a shorter pre-roll or
    /// byte bound trims the ring at once, a longer one fills as frames
    /// come. The stream's continuity is judged as before.
    pub fn set_limits(&mut self, limits: RingLimits) {
        self.limits = limits;
        self.evict();
    }

    /// Empties the ring (the camera was lost or its stream restarts). The
    /// next frame is still checked against the last one seen.
    pub fn reset(&mut self) {
        self.clear();
        self.stats.resets += 1;
    }

    /// The frames from the newest keyframe at or before `at` to the newest
    /// frame; from the oldest keyframe if the ring does not reach back to
    /// `at` (see [`Ring::covers`]); nothing if the ring is empty.
    pub fn from_keyframe_at_or_before(&self, at: Timestamp) -> vec_deque::Iter<'_, Frame> {
        let later = self.keys.partition_point(|&k| self.at(k) <= at);
        match self.keys.get(later.saturating_sub(1)) {
            Some(&k) => self.frames.range(self.index(k)..),
            None => self.frames.range(0..0),
        }
    }

    /// Whether the ring holds a keyframe at or before `at`.
    pub fn covers(&self, at: Timestamp) -> bool {
        self.keys.front().is_some_and(|&k| self.at(k) <= at)
    }

    /// The newest GOP (where a live view starts); nothing if empty.
    pub fn latest_gop(&self) -> vec_deque::Iter<'_, Frame> {
        match self.keys.back() {
            Some(&k) => self.frames.range(self.index(k)..),
            None => self.frames.range(0..0),
        }
    }

    /// Every frame held, oldest first.
    pub fn frames(&self) -> vec_deque::Iter<'_, Frame> {
        self.frames.iter()
    }

    /// How many frames it holds.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The bytes held ([`Frame::footprint`]s); at most
    /// [`RingLimits::max_bytes`].
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }

    /// From the oldest frame held to the newest.
    pub fn span(&self) -> SignedDuration {
        match (self.frames.front(), self.frames.back()) {
            (Some(first), Some(last)) => last.captured_at().duration_since(first.captured_at()),
            _ => SignedDuration::ZERO,
        }
    }

    /// How much of the pre-roll it holds.
    pub fn coverage(&self) -> Coverage {
        match self.frames.back() {
            None => Coverage::Empty,
            Some(newest) if self.covers(minus(newest.captured_at(), self.limits.pre_roll)) => {
                Coverage::Full
            }
            Some(_) if self.cut => Coverage::CutByBytes,
            Some(_) => Coverage::Filling,
        }
    }

    /// Its counters.
    pub fn stats(&self) -> RingStats {
        self.stats
    }

    /// Its limits.
    pub fn limits(&self) -> RingLimits {
        self.limits
    }

    /// Drops what the pre-roll no longer needs, then what the byte bound
    /// does not allow.
    fn evict(&mut self) {
        let Some(newest) = self.frames.back() else {
            return;
        };
        let wanted = minus(newest.captured_at(), self.limits.pre_roll);
        while self.keys.len() >= 2 && self.at(self.keys[1]) <= wanted {
            self.drop_oldest_gop();
            self.stats.gops_expired += 1;
        }
        while self.bytes > self.limits.max_bytes {
            self.cut = true;
            if self.keys.len() >= 2 {
                self.drop_oldest_gop();
                self.stats.pre_roll_cuts += 1;
            } else {
                self.clear_frames();
                self.stats.oversized_gops += 1;
            }
        }
        if self.covers(wanted) {
            self.cut = false;
        }
    }

    fn drop_oldest_gop(&mut self) {
        self.keys.pop_front();
        let end = self.keys.front().copied();
        while end.is_none_or(|end| self.base < end) {
            let Some(frame) = self.frames.pop_front() else {
                break;
            };
            self.bytes -= frame.footprint();
            self.base += 1;
        }
    }

    /// Empties the ring and forgets a cut (a new stream starts filling).
    fn clear(&mut self) {
        self.clear_frames();
        self.cut = false;
    }

    fn clear_frames(&mut self) {
        self.base += self.frames.len() as u64;
        self.frames.clear();
        self.keys.clear();
        self.bytes = 0;
    }

    fn index(&self, key: u64) -> usize {
        (key - self.base) as usize
    }

    fn at(&self, key: u64) -> Timestamp {
        self.frames[self.index(key)].captured_at()
    }
}
