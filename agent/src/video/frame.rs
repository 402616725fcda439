//! One encoded frame (an access unit) as the ingest hands it over, and when
//! a frame does not continue the stream before it.
//!
//! - **Payload.** The access unit exactly as the camera encoded it, never
//!   re-encoded: its NAL units each prefixed by a 4-byte big-endian length
//!   (the layout of an MP4 sample; what `h264parse`/`h265parse` give with
//!   `stream-format=avc`/`hvc1`, `alignment=au`). It is a [`Bytes`], so the
//!   ring, a clip being written and a live view share one copy; the ingest
//!   should hand over a buffer of exactly the frame (not a view into a larger
//!   one), or the ring's byte accounting undercounts.
//! - **Parameter sets travel with keyframes.** Every keyframe carries the
//!   SPS/PPS (and VPS for H.265) that decode it ([`ParameterSets`]), taken
//!   from the stream or the caps by the ingest. So any keyframe can start an
//!   MP4 file on its own (its sample entry is built from them), and nothing
//!   has to remember "the latest ones seen" across evictions. Delta frames
//!   carry only their codec.
//! - **Time.** `captured_at` is when the camera captured the frame, on the
//!   unit's wall clock (the same clock alarms are stamped with). Frames come
//!   in decode order and, because Picket's cameras send no B-frames, that is
//!   capture order: instants never go backwards within a stream. There is
//!   no duration: the MP4 writer takes each sample's duration from the next
//!   frame's instant (and repeats the previous one for the last).
//!
//! A frame continues the stream before it unless ([`Continuity`]): its
//! instant is earlier than the previous frame's (a camera clock jump, a
//! reconnect with a new time base), it comes more than `max_gap` after it
//! (frames were lost), its codec differs, or it is a keyframe with other
//! parameter sets (the camera was reconfigured). Equal instants continue.

use std::fmt;

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};

/// The video codec of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    H265,
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::H264 => "H.264",
            Codec::H265 => "H.265",
        })
    }
}

/// The codec parameter sets that decode a keyframe and the frames after it,
/// each one NAL unit without start code or length prefix. One of each: the
/// cameras Picket supports send a single SPS and PPS.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParameterSets {
    /// H.264: sequence and picture parameter sets.
    H264 {
        /// Sequence parameter set.
        sps: Bytes,
        /// Picture parameter set.
        pps: Bytes,
    },
    /// H.265: video, sequence and picture parameter sets.
    H265 {
        /// Video parameter set.
        vps: Bytes,
        /// Sequence parameter set.
        sps: Bytes,
        /// Picture parameter set.
        pps: Bytes,
    },
}

impl ParameterSets {
    /// The codec they belong to.
    pub fn codec(&self) -> Codec {
        match self {
            ParameterSets::H264 { .. } => Codec::H264,
            ParameterSets::H265 { .. } => Codec::H265,
        }
    }

    /// Their size in bytes.
    pub fn byte_len(&self) -> usize {
        match self {
            ParameterSets::H264 { sps, pps } => sps.len() + pps.len(),
            ParameterSets::H265 { vps, sps, pps } => vps.len() + sps.len() + pps.len(),
        }
    }
}

/// Whether a frame can be decoded on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A keyframe (IDR / IRAP), with the parameter sets that decode it.
    Key(ParameterSets),
    /// A frame that needs the frames before it, back to a keyframe.
    Delta,
}

/// One encoded access unit. Cloning it is cheap (reference counts only).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    captured_at: Timestamp,
    codec: Codec,
    kind: FrameKind,
    data: Bytes,
}

impl Frame {
    /// A keyframe captured at `captured_at`; its codec is that of `params`.
    pub fn key(captured_at: Timestamp, params: ParameterSets, data: Bytes) -> Frame {
        Frame {
            captured_at,
            codec: params.codec(),
            kind: FrameKind::Key(params),
            data,
        }
    }

    /// A delta frame captured at `captured_at`.
    pub fn delta(captured_at: Timestamp, codec: Codec, data: Bytes) -> Frame {
        Frame {
            captured_at,
            codec,
            kind: FrameKind::Delta,
            data,
        }
    }

    /// When the camera captured it, on the unit's wall clock.
    pub fn captured_at(&self) -> Timestamp {
        self.captured_at
    }

    /// Its codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Keyframe (with parameter sets) or delta frame.
    pub fn kind(&self) -> &FrameKind {
        &self.kind
    }

    /// Whether it is a keyframe.
    pub fn is_key(&self) -> bool {
        matches!(self.kind, FrameKind::Key(_))
    }

    /// The parameter sets of a keyframe; `None` for a delta frame.
    pub fn parameter_sets(&self) -> Option<&ParameterSets> {
        match &self.kind {
            FrameKind::Key(p) => Some(p),
            FrameKind::Delta => None,
        }
    }

    /// The access unit (length-prefixed NAL units).
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// The memory holding this frame keeps alive: payload, parameter sets
    /// and the frame record itself. What the ring's byte bound counts.
    pub fn footprint(&self) -> usize {
        let params = self.parameter_sets().map_or(0, ParameterSets::byte_len);
        self.data.len() + params + std::mem::size_of::<Frame>()
    }
}

impl fmt::Debug for Frame {
    /// A summary: a payload in a log or a failed test is noise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_key() { "key" } else { "delta" };
        write!(
            f,
            "Frame({} {} {kind}, {} bytes)",
            self.captured_at,
            self.codec,
            self.data.len()
        )
    }
}

/// Why a frame does not continue the stream before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discontinuity {
    /// Its instant is earlier than the previous frame's.
    Backwards {
        /// The previous frame's instant.
        last: Timestamp,
        /// This frame's instant.
        next: Timestamp,
    },
    /// It comes more than the allowed gap after the previous frame.
    Gap {
        /// The previous frame's instant.
        last: Timestamp,
        /// This frame's instant.
        next: Timestamp,
    },
    /// Its codec differs from the previous frame's.
    CodecChanged {
        /// The previous frame's codec.
        from: Codec,
        /// This frame's codec.
        to: Codec,
    },
    /// A keyframe whose parameter sets differ from the previous keyframe's.
    ParametersChanged,
}

impl Discontinuity {
    /// Whether instants before and after it are on one timeline, so that a
    /// window in time (an alarm's post-roll) still means the same thing.
    /// Only a jump backwards breaks that.
    pub fn keeps_timeline(&self) -> bool {
        !matches!(self, Discontinuity::Backwards { .. })
    }
}

impl fmt::Display for Discontinuity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Discontinuity::Backwards { last, next } => {
                write!(f, "frame time went back from {last} to {next}")
            }
            Discontinuity::Gap { last, next } => {
                let gap = next.duration_since(*last);
                write!(f, "no frames for {gap:#} (from {last} to {next})")
            }
            Discontinuity::CodecChanged { from, to } => {
                write!(f, "codec changed from {from} to {to}")
            }
            Discontinuity::ParametersChanged => f.write_str("codec parameter sets changed"),
        }
    }
}

/// What a stream has shown so far, to judge whether the next frame
/// continues it. It outlives the ring's contents: after the ring is emptied
/// (camera lost), the first frame is still checked against the last one.
#[derive(Clone, Debug)]
pub struct Continuity {
    max_gap: SignedDuration,
    last_at: Option<Timestamp>,
    codec: Option<Codec>,
    params: Option<ParameterSets>,
}

impl Continuity {
    /// A stream with nothing seen yet; gaps longer than `max_gap` break it.
    pub fn new(max_gap: SignedDuration) -> Continuity {
        Continuity {
            max_gap,
            last_at: None,
            codec: None,
            params: None,
        }
    }

    /// Judges `next` against the frames seen so far, then remembers it. A
    /// jump backwards wins over a gap, a gap over a codec change, a codec
    /// change over new parameter sets.
    pub fn observe(&mut self, next: &Frame) -> Option<Discontinuity> {
        let at = next.captured_at();
        let verdict = if let Some(last) = self.last_at
            && at < last
        {
            Some(Discontinuity::Backwards { last, next: at })
        } else if let Some(last) = self.last_at
            && at.duration_since(last) > self.max_gap
        {
            Some(Discontinuity::Gap { last, next: at })
        } else if let Some(from) = self.codec
            && from != next.codec()
        {
            Some(Discontinuity::CodecChanged {
                from,
                to: next.codec(),
            })
        } else if let (Some(seen), Some(new)) = (&self.params, next.parameter_sets())
            && seen != new
        {
            Some(Discontinuity::ParametersChanged)
        } else {
            None
        };
        self.last_at = Some(at);
        self.codec = Some(next.codec());
        if let Some(p) = next.parameter_sets() {
            self.params = Some(p.clone());
        }
        verdict
    }
}

/// `at − d`, saturating at the earliest instant (never panics on a
/// camera's absurd timestamp).
pub(crate) fn minus(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.saturating_sub(d).unwrap_or(Timestamp::MIN)
}

/// `at + d`, saturating at the latest instant.
pub(crate) fn plus(at: Timestamp, d: SignedDuration) -> Timestamp {
    at.saturating_add(d).unwrap_or(Timestamp::MAX)
}

impl From<&Frame> for picket_proto::media::MediaFrame {
    /// The frame as a media record carries it (payload and parameter sets
    /// shared, not copied).
    fn from(frame: &Frame) -> picket_proto::media::MediaFrame {
        use picket_proto::media::VideoCodec;
        let parameter_sets = match frame.parameter_sets() {
            Some(ParameterSets::H264 { sps, pps }) => vec![sps.clone(), pps.clone()],
            Some(ParameterSets::H265 { vps, sps, pps }) => {
                vec![vps.clone(), sps.clone(), pps.clone()]
            }
            None => Vec::new(),
        };
        picket_proto::media::MediaFrame {
            codec: match frame.codec() {
                Codec::H264 => VideoCodec::H264,
                Codec::H265 => VideoCodec::H265,
            },
            captured_at: frame.captured_at(),
            parameter_sets,
            data: frame.data().clone(),
        }
    }
}

impl TryFrom<picket_proto::media::MediaFrame> for Frame {
    type Error = &'static str;

    /// A media record's frame back (a record's keyframe always has its
    /// codec's parameter sets: `picket_proto::media::decode` checks).
    fn try_from(m: picket_proto::media::MediaFrame) -> Result<Frame, &'static str> {
        use picket_proto::media::VideoCodec;
        let codec = match m.codec {
            VideoCodec::H264 => Codec::H264,
            VideoCodec::H265 => Codec::H265,
        };
        if !m.is_key() {
            return Ok(Frame::delta(m.captured_at, codec, m.data));
        }
        let params = match (
            codec,
            <[Bytes; 2]>::try_from(m.parameter_sets.clone()),
            <[Bytes; 3]>::try_from(m.parameter_sets),
        ) {
            (Codec::H264, Ok([sps, pps]), _) => ParameterSets::H264 { sps, pps },
            (Codec::H265, _, Ok([vps, sps, pps])) => ParameterSets::H265 { vps, sps, pps },
            _ => return Err("a keyframe without its codec's parameter sets"),
        };
        Ok(Frame::key(m.captured_at, params, m.data))
    }
}
