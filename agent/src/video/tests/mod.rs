//! Simulated camera streams shared by the video tests.

mod clip_plan;
mod frame;
mod properties;
mod ring;

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::EventId;

use super::{Action, ClipStart, Codec, FinishReason, Frame, ParameterSets};

/// The instant simulated streams start at.
pub(super) fn t0() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

/// `t0` plus `ms` milliseconds.
pub(super) fn at_ms(ms: i64) -> Timestamp {
    t0() + SignedDuration::from_millis(ms)
}

/// `t0` plus `s` seconds.
pub(super) fn at_s(s: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(s)
}

pub(super) fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

/// H.264 parameter sets; `variant` changes the SPS.
pub(super) fn h264(variant: u8) -> ParameterSets {
    ParameterSets::H264 {
        sps: Bytes::from(vec![0x67, 0x42, variant]),
        pps: Bytes::from_static(&[0x68, 0xce]),
    }
}

pub(super) fn h265() -> ParameterSets {
    ParameterSets::H265 {
        vps: Bytes::from_static(&[0x40, 0x01]),
        sps: Bytes::from_static(&[0x42, 0x01]),
        pps: Bytes::from_static(&[0x44, 0x01]),
    }
}

/// A payload of `size` bytes (at least 8) starting with `seq`, so a test
/// can tell which frame of the stream it is.
pub(super) fn payload(seq: u64, size: usize) -> Bytes {
    let mut data = vec![0u8; size.max(8)];
    data[..8].copy_from_slice(&seq.to_be_bytes());
    Bytes::from(data)
}

/// The stream position written into a frame's payload.
pub(super) fn seq_of(frame: &Frame) -> u64 {
    u64::from_be_bytes(frame.data()[..8].try_into().unwrap())
}

/// A camera: `fps` frames a second, a keyframe every `gop` frames,
/// keyframes of `key_size` bytes and delta frames of `delta_size`.
#[derive(Debug, Clone)]
pub(super) struct Camera {
    /// Position of the next frame; keyframes where `seq % gop == 0`.
    pub seq: u64,
    /// Instant of the next frame.
    pub at: Timestamp,
    pub step: SignedDuration,
    pub gop: u64,
    pub key_size: usize,
    pub delta_size: usize,
    pub params: ParameterSets,
}

impl Camera {
    pub fn new(fps: i64, gop: u64) -> Camera {
        Camera {
            seq: 0,
            at: t0(),
            step: SignedDuration::from_nanos(1_000_000_000 / fps),
            gop,
            key_size: 40_000,
            delta_size: 4_000,
            params: h264(1),
        }
    }

    /// 30 fps, a keyframe every second.
    pub fn standard() -> Camera {
        Camera::new(30, 30)
    }

    /// The next frame.
    pub fn next_frame(&mut self) -> Frame {
        let frame = if self.seq.is_multiple_of(self.gop) {
            Frame::key(
                self.at,
                self.params.clone(),
                payload(self.seq, self.key_size),
            )
        } else {
            Frame::delta(
                self.at,
                self.params.codec(),
                payload(self.seq, self.delta_size),
            )
        };
        self.seq += 1;
        self.at += self.step;
        frame
    }

    /// The next `n` frames.
    pub fn frames(&mut self, n: usize) -> Vec<Frame> {
        (0..n).map(|_| self.next_frame()).collect()
    }

    /// The frames captured before `until`.
    pub fn frames_until(&mut self, until: Timestamp) -> Vec<Frame> {
        let mut out = Vec::new();
        while self.at < until {
            out.push(self.next_frame());
        }
        out
    }

    /// Jumps the clock by `d` (negative: backwards) without a frame.
    pub fn jump(&mut self, d: SignedDuration) {
        self.at += d;
    }
}

/// The newest keyframe at or before `at` in `stream`.
pub(super) fn keyframe_at_or_before(stream: &[Frame], at: Timestamp) -> &Frame {
    stream
        .iter()
        .rev()
        .find(|f| f.is_key() && f.captured_at() <= at)
        .expect("a keyframe at or before the instant")
}

/// The first keyframe after `at` in `stream`.
pub(super) fn first_keyframe_after(stream: &[Frame], at: Timestamp) -> &Frame {
    stream
        .iter()
        .find(|f| f.is_key() && f.captured_at() > at)
        .expect("a keyframe after the instant")
}

/// The first frame at or after `at` in `stream`.
pub(super) fn first_at_or_after(stream: &[Frame], at: Timestamp) -> &Frame {
    stream
        .iter()
        .find(|f| f.captured_at() >= at)
        .expect("a frame at or after the instant")
}

/// An event id for alarm `n`.
pub(super) fn event(n: u8) -> EventId {
    EventId::v7(at_s(i64::from(n)), [n; 10])
}

/// A clip as written from a plan's actions.
#[derive(Debug, Clone)]
pub(super) struct Clip {
    pub start: ClipStart,
    pub frames: Vec<Frame>,
    /// `None` while still open.
    pub finish: Option<FinishReason>,
}

impl Clip {
    pub fn first(&self) -> &Frame {
        &self.frames[0]
    }

    pub fn last(&self) -> &Frame {
        self.frames.last().unwrap()
    }

    pub fn seqs(&self) -> Vec<u64> {
        self.frames.iter().map(seq_of).collect()
    }
}

/// What a writer would make of a plan's actions: its clips, in order, and
/// the alarms that got no video. Panics on a malformed action sequence
/// (an append or finish with no clip open, a start while one is).
#[derive(Debug, Default)]
pub(super) struct Writer {
    pub clips: Vec<Clip>,
    pub no_video: Vec<(EventId, Timestamp)>,
}

impl Writer {
    pub fn take(&mut self, action: Action) {
        let open = self.clips.last().is_some_and(|c| c.finish.is_none());
        match action {
            Action::Start(start) => {
                assert!(!open, "start while a clip is open");
                self.clips.push(Clip {
                    frames: start.frames.clone(),
                    start,
                    finish: None,
                });
            }
            Action::Append(frame) => {
                assert!(open, "append with no clip open");
                self.clips.last_mut().unwrap().frames.push(frame);
            }
            Action::Finish(reason) => {
                assert!(open, "finish with no clip open");
                self.clips.last_mut().unwrap().finish = Some(reason);
            }
            Action::NoVideo { event, alarm_at } => self.no_video.push((event, alarm_at)),
        }
    }

    pub fn drain(&mut self, plan: &mut super::ClipPlan) {
        while let Some(action) = plan.poll_action() {
            self.take(action);
        }
    }
}

/// A delta frame of `codec` at `at` with a payload of `size` for `seq`.
pub(super) fn delta(seq: u64, at: Timestamp, codec: Codec, size: usize) -> Frame {
    Frame::delta(at, codec, payload(seq, size))
}

/// A keyframe with `params` at `at` with a payload of `size` for `seq`.
pub(super) fn key(seq: u64, at: Timestamp, params: ParameterSets, size: usize) -> Frame {
    Frame::key(at, params, payload(seq, size))
}
