//! Fragmented MP4 for live view in browsers: an init segment, then one
//! media segment (`moof` + `mdat`) per frame, ready to append to a Media
//! Source Extensions `SourceBuffer` in `segments` mode. Pure: no IO, no
//! clock; the boxes are written by hand (ISO/IEC 14496-12 and -15).
//!
//! Start at [`Fragmenter::push`]: feed it a camera's frames in order; the
//! first must be a keyframe, and it answers with an init segment and the
//! frame's fragment ([`Segment::Init`]), then a fragment per frame
//! ([`Segment::Media`]), and a new init segment again whenever a keyframe
//! brings new parameter sets (a resolution change, say).
//!
//! Only H.264 goes this way: Chromium's MSE does not take HEVC, so an
//! H.265 frame is refused ([`Fmp4Error::UnsupportedCodec`]).
//!
//! **Timing.** The decode time of each fragment (`tfdt`) is its frame's
//! `captured_at` relative to the first frame, at 90 kHz to the nearest
//! tick, so the timeline never drifts. (A jump of the unit's clock — a
//! gap that is negative, zero ticks or over [`MAX_GAP`] — is taken as one
//! more frame at the last pace, and the timeline follows the new clock
//! from there.) A sample's duration is only known when the next frame
//! arrives; rather than hold every frame back by one frame interval, a
//! fragment goes out at once with the gap before it as its duration
//! (exact at a steady frame rate; the first fragment of a stream guesses
//! [`FIRST_DURATION`]). The next `tfdt` corrects any error. The price:
//! if the gap after a frame is over twice the one before it (two or more
//! frames lost in a row), MSE treats the jump as a discontinuity and
//! drops frames up to the next keyframe. Frames must come in decode order
//! without B-frames (no composition offsets are written), as cameras send
//! them for live view.

mod boxes;
mod init;
mod sps;

use jiff::{SignedDuration, Timestamp};
use picket_proto::media::{MediaFrame, VideoCodec};

pub use init::{InitSegment, init_segment};
pub use sps::Sps;

/// The media timescale: 90 kHz, as RTP video.
pub const TIMESCALE: u32 = 90_000;

/// The duration given to a stream's first fragment, before any gap is
/// known (90 kHz ticks: a tenth of a second). Erring long is harmless; the
/// next fragment's decode time is exact.
pub const FIRST_DURATION: u32 = 9_000;

/// The largest gap between frames taken at face value (ten seconds); a
/// larger or a negative one is a jump of the unit's clock, and the
/// timeline goes on by the last frame duration instead.
pub const MAX_GAP: SignedDuration = SignedDuration::from_secs(10);

/// The largest access unit put in a fragment.
pub const MAX_SAMPLE: usize = 64 << 20;

/// The one track's id.
const TRACK_ID: u32 = 1;

/// `trun` sample flags of a sync sample: depends on no other.
const SYNC_SAMPLE: u32 = 0x0200_0000;

/// `trun` sample flags of a delta frame: depends on others, not sync.
const NON_SYNC_SAMPLE: u32 = 0x0101_0000;

/// Why frames cannot become fragmented MP4.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fmp4Error {
    /// Not H.264: browsers' MSE does not take HEVC.
    #[error(
        "{0:?} cannot go to a browser as fragmented MP4 (Media Source Extensions take H.264, not HEVC)"
    )]
    UnsupportedCodec(VideoCodec),
    /// The stream does not start at a keyframe.
    #[error("a fragmented MP4 stream starts at a keyframe; this frame ({at}) is a delta frame")]
    NotKeyframe {
        /// The refused frame's capture time.
        at: Timestamp,
    },
    /// A keyframe without exactly an SPS and a PPS.
    #[error("an H.264 keyframe carries an SPS and a PPS, not {count} parameter sets")]
    ParameterSets {
        /// How many it carries.
        count: usize,
    },
    /// The SPS does not parse.
    #[error("the H.264 SPS is malformed: {reason}")]
    Sps {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The PPS is not a PPS NAL unit, or too long for `avcC`.
    #[error("the H.264 PPS is malformed: {reason}")]
    Pps {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The access unit is not NAL units with 4-byte lengths.
    #[error("the access unit captured at {at} is malformed: {reason}")]
    AccessUnit {
        /// The frame's capture time.
        at: Timestamp,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// What [`Fragmenter::push`] makes of a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A media segment (`moof` + `mdat`) to append after the ones before.
    Media(Vec<u8>),
    /// The first frame of the stream, or a keyframe with new parameter
    /// sets: append `init`, then `media`. If `init.codecs` differs from the
    /// last one, the `SourceBuffer` needs `changeType()` first.
    Init {
        /// The new init segment.
        init: InitSegment,
        /// The frame's media segment.
        media: Vec<u8>,
    },
}

/// Turns one camera's frames into fragmented MP4, one fragment per frame.
#[derive(Debug, Default)]
pub struct Fragmenter {
    /// `None` until the first keyframe.
    stream: Option<Stream>,
}

#[derive(Debug)]
struct Stream {
    /// The current SPS and PPS, to notice new ones.
    sps: Vec<u8>,
    pps: Vec<u8>,
    /// The next `mfhd` sequence number.
    sequence: u32,
    /// The decode time is `base + ticks(captured_at - origin)`; a clock
    /// jump moves the origin.
    origin: Timestamp,
    base: u64,
    /// The last frame's capture and decode times.
    last_at: Timestamp,
    last_time: u64,
    /// The duration given to the last fragment.
    last_duration: u32,
}

impl Fragmenter {
    /// A fragmenter waiting for its first keyframe.
    pub fn new() -> Self {
        Fragmenter::default()
    }

    /// Makes `frame`'s fragment, with an init segment before it if it is
    /// the first frame or brings new parameter sets. A refused frame
    /// changes nothing: push the next one (a delta frame before the first
    /// keyframe is refused, so skip to a keyframe).
    pub fn push(&mut self, frame: &MediaFrame) -> Result<Segment, Fmp4Error> {
        if frame.codec != VideoCodec::H264 {
            return Err(Fmp4Error::UnsupportedCodec(frame.codec));
        }
        check_access_unit(frame)?;
        // A new init segment validates the parameter sets, so the indexing
        // below holds.
        let init = match &self.stream {
            Some(s) if !frame.is_key() || s.same_parameter_sets(frame) => None,
            _ => Some(InitSegment::new(frame)?),
        };
        let stream = match &mut self.stream {
            Some(stream) => {
                if init.is_some() {
                    stream.sps = frame.parameter_sets[0].to_vec();
                    stream.pps = frame.parameter_sets[1].to_vec();
                }
                stream.advance(frame.captured_at);
                stream
            }
            None => self.stream.insert(Stream {
                sps: frame.parameter_sets[0].to_vec(),
                pps: frame.parameter_sets[1].to_vec(),
                sequence: 1,
                origin: frame.captured_at,
                base: 0,
                last_at: frame.captured_at,
                last_time: 0,
                last_duration: FIRST_DURATION,
            }),
        };
        let media = fragment(
            stream.sequence,
            stream.last_time,
            stream.last_duration,
            frame,
        );
        stream.sequence = stream.sequence.wrapping_add(1).max(1);
        Ok(match init {
            Some(init) => Segment::Init { init, media },
            None => Segment::Media(media),
        })
    }
}

impl Stream {
    fn same_parameter_sets(&self, key: &MediaFrame) -> bool {
        matches!(key.parameter_sets.as_slice(), [sps, pps] if **sps == self.sps && **pps == self.pps)
    }

    /// Moves the timeline to a frame captured at `at`: sets its decode
    /// time and the duration its fragment claims (the gap before it).
    fn advance(&mut self, at: Timestamp) {
        let gap = at.duration_since(self.last_at);
        let mut time = self.base + ticks(at.duration_since(self.origin));
        if gap <= SignedDuration::ZERO || gap > MAX_GAP || time <= self.last_time {
            // The unit's clock jumped (or two frames share a tick): go on
            // at the last pace from here.
            time = self.last_time + u64::from(self.last_duration);
            self.base = time;
            self.origin = at;
        }
        self.last_duration = u32::try_from(time - self.last_time).unwrap_or(u32::MAX);
        self.last_time = time;
        self.last_at = at;
    }
}

/// A non-negative duration in 90 kHz ticks, to the nearest (capture
/// times truncated to whole nanoseconds, 1/15 s is 66 666 666 ns, must
/// still make 6000 ticks).
fn ticks(d: SignedDuration) -> u64 {
    let nanos = d.as_nanos().max(0) as u128;
    ((nanos * u128::from(TIMESCALE) + 500_000_000) / 1_000_000_000) as u64
}

/// Checks that `frame.data` is NAL units with 4-byte lengths, end to end.
fn check_access_unit(frame: &MediaFrame) -> Result<(), Fmp4Error> {
    let bad = |reason| Fmp4Error::AccessUnit {
        at: frame.captured_at,
        reason,
    };
    if frame.data.len() > MAX_SAMPLE {
        return Err(bad("over the sample size limit"));
    }
    let mut rest: &[u8] = &frame.data;
    if rest.is_empty() {
        return Err(bad("empty"));
    }
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<4>()
            .ok_or(bad("a NAL unit length cut short"))?;
        let len = u32::from_be_bytes(*len) as usize;
        if len == 0 {
            return Err(bad("an empty NAL unit"));
        }
        rest = tail.get(len..).ok_or(bad(
            "a NAL unit longer than the access unit (Annex B start codes?)",
        ))?;
    }
    Ok(())
}

/// One frame's `moof` + `mdat`.
fn fragment(sequence: u32, decode_time: u64, duration: u32, frame: &MediaFrame) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.data.len() + 128);
    let mut data_offset_at = 0;
    boxes::plain(&mut out, b"moof", |out| {
        boxes::full(out, b"mfhd", 0, 0, |out| boxes::u32(out, sequence));
        boxes::plain(out, b"traf", |out| {
            // Flag 0x020000: offsets are from the start of this moof.
            boxes::full(out, b"tfhd", 0, 0x02_0000, |out| boxes::u32(out, TRACK_ID));
            boxes::full(out, b"tfdt", 1, 0, |out| boxes::u64(out, decode_time));
            // Flags: data offset, sample duration, size and flags present.
            boxes::full(out, b"trun", 0, 0x00_0701, |out| {
                boxes::u32(out, 1); // sample count
                data_offset_at = out.len();
                boxes::u32(out, 0); // data offset, patched below
                boxes::u32(out, duration);
                boxes::u32(out, frame.data.len() as u32);
                boxes::u32(
                    out,
                    if frame.is_key() {
                        SYNC_SAMPLE
                    } else {
                        NON_SYNC_SAMPLE
                    },
                );
            });
        });
    });
    // The sample starts after the moof and the mdat's header.
    let data_offset = (out.len() + 8) as u32;
    out[data_offset_at..data_offset_at + 4].copy_from_slice(&data_offset.to_be_bytes());
    boxes::plain(&mut out, b"mdat", |out| out.extend_from_slice(&frame.data));
    out
}

#[cfg(test)]
mod tests;
