//! Encoded video frames as bytes: the record a unit writes for each access
//! unit — into a clip's journal on its disk, and onto its live uplink to
//! the hub — and the incremental decoder that reads them back from a file
//! or a stream. Pure: no IO, no clock.
//!
//! ```text
//! record  = len:u32le crc32(payload):u32le payload          (len = payload bytes ≤ MAX_RECORD)
//! payload = flags:u8 (bit 0: keyframe) codec:u8 (0 H.264, 1 H.265)
//!           captured_at:i64le (ns since the Unix epoch, the unit's clock)
//!           [keyframe only: sets:u8 (len:u32le bytes)*  — SPS, PPS or VPS, SPS, PPS]
//!           data (the access unit, NAL units with 4-byte lengths, to the end)
//! ```
//!
//! A record is checked whole (length bound, CRC-32, payload shape) before a
//! frame comes out, so a torn or corrupt record is refused, never misread.

use bytes::Bytes;
use jiff::Timestamp;

/// The largest payload a record may carry (a very large keyframe).
pub const MAX_RECORD: u32 = 16 << 20;

/// Bytes before a record's payload (length and checksum).
pub const HEADER: usize = 8;

/// A video codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    H265,
}

impl VideoCodec {
    /// How many parameter sets a keyframe of this codec carries.
    pub fn parameter_sets(self) -> usize {
        match self {
            VideoCodec::H264 => 2,
            VideoCodec::H265 => 3,
        }
    }
}

/// One encoded access unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFrame {
    /// Its codec.
    pub codec: VideoCodec,
    /// When it was captured, on the unit's clock.
    pub captured_at: Timestamp,
    /// A keyframe's parameter sets (H.264: SPS, PPS; H.265: VPS, SPS,
    /// PPS); empty for a delta frame.
    pub parameter_sets: Vec<Bytes>,
    /// The access unit (NAL units with 4-byte length prefixes).
    pub data: Bytes,
}

impl MediaFrame {
    /// Whether it decodes on its own.
    pub fn is_key(&self) -> bool {
        !self.parameter_sets.is_empty()
    }

    /// Its record's size in bytes.
    pub fn record_len(&self) -> usize {
        HEADER
            + 10
            + if self.is_key() { 1 } else { 0 }
            + self
                .parameter_sets
                .iter()
                .map(|s| 4 + s.len())
                .sum::<usize>()
            + self.data.len()
    }
}

/// Why bytes are not a record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The length field is over [`MAX_RECORD`].
    #[error("a media record of {0} bytes is over the {MAX_RECORD}-byte limit")]
    TooLarge(u32),
    /// The checksum does not match: the record is corrupt.
    #[error("a media record's checksum does not match: corrupt")]
    Checksum,
    /// The payload's fields do not parse.
    #[error("a media record is malformed: {0}")]
    Malformed(&'static str),
    /// A frame that cannot be written (too many or too large parameter sets).
    #[error("a frame cannot be recorded: {0}")]
    Unrecordable(&'static str),
}

/// Appends `frame`'s record to `out`.
pub fn encode(frame: &MediaFrame, out: &mut Vec<u8>) -> Result<(), MediaError> {
    if frame.is_key() && frame.parameter_sets.len() != frame.codec.parameter_sets() {
        return Err(MediaError::Unrecordable(
            "a keyframe carries exactly its codec's parameter sets",
        ));
    }
    let len = frame.record_len() - HEADER;
    let len =
        u32::try_from(len)
            .ok()
            .filter(|l| *l <= MAX_RECORD)
            .ok_or(MediaError::Unrecordable(
                "the frame is over the record limit",
            ))?;
    let start = out.len();
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(u8::from(frame.is_key()));
    out.push(match frame.codec {
        VideoCodec::H264 => 0,
        VideoCodec::H265 => 1,
    });
    let nanos = i64::try_from(frame.captured_at.as_nanosecond()).unwrap_or(i64::MAX);
    out.extend_from_slice(&nanos.to_le_bytes());
    if frame.is_key() {
        out.push(frame.parameter_sets.len() as u8);
        for set in &frame.parameter_sets {
            out.extend_from_slice(&(set.len() as u32).to_le_bytes());
            out.extend_from_slice(set);
        }
    }
    out.extend_from_slice(&frame.data);
    let crc = crc32fast::hash(&out[start + HEADER..]);
    out[start + 4..start + HEADER].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// The first record in `buf`: the frame and the bytes it took, `Ok(None)`
/// if `buf` holds only part of a record (read more), or why it is not one.
pub fn decode(buf: &[u8]) -> Result<Option<(MediaFrame, usize)>, MediaError> {
    let Some(head) = buf.get(..HEADER) else {
        return Ok(None);
    };
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    if len > MAX_RECORD {
        return Err(MediaError::TooLarge(len));
    }
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let Some(payload) = buf.get(HEADER..HEADER + len as usize) else {
        return Ok(None);
    };
    if crc32fast::hash(payload) != crc {
        return Err(MediaError::Checksum);
    }
    Ok(Some((payload_frame(payload)?, HEADER + len as usize)))
}

fn payload_frame(payload: &[u8]) -> Result<MediaFrame, MediaError> {
    let short = MediaError::Malformed("cut short");
    let (&flags, rest) = payload.split_first().ok_or(short.clone())?;
    let (&codec, rest) = rest.split_first().ok_or(short.clone())?;
    let codec = match codec {
        0 => VideoCodec::H264,
        1 => VideoCodec::H265,
        _ => return Err(MediaError::Malformed("unknown codec")),
    };
    if flags & !1 != 0 {
        return Err(MediaError::Malformed("unknown flags"));
    }
    let (nanos, mut rest) = rest.split_at_checked(8).ok_or(short.clone())?;
    let nanos = i64::from_le_bytes(nanos.try_into().map_err(|_| short.clone())?);
    let captured_at = Timestamp::from_nanosecond(i128::from(nanos))
        .map_err(|_| MediaError::Malformed("instant out of range"))?;
    let mut parameter_sets = Vec::new();
    if flags & 1 == 1 {
        let (&count, tail) = rest.split_first().ok_or(short.clone())?;
        if usize::from(count) != codec.parameter_sets() {
            return Err(MediaError::Malformed(
                "a keyframe carries exactly its codec's parameter sets",
            ));
        }
        rest = tail;
        for _ in 0..count {
            let (len, tail) = rest.split_at_checked(4).ok_or(short.clone())?;
            let len = u32::from_le_bytes(len.try_into().map_err(|_| short.clone())?) as usize;
            let (set, tail) = tail.split_at_checked(len).ok_or(short.clone())?;
            if set.is_empty() {
                return Err(MediaError::Malformed("an empty parameter set"));
            }
            parameter_sets.push(Bytes::copy_from_slice(set));
            rest = tail;
        }
    }
    Ok(MediaFrame {
        codec,
        captured_at,
        parameter_sets,
        data: Bytes::copy_from_slice(rest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<MediaFrame> {
        let at = Timestamp::from_second(1_800_000_000).unwrap();
        let key = |n: i64, codec: VideoCodec| MediaFrame {
            codec,
            captured_at: at + jiff::SignedDuration::from_millis(40 * n),
            parameter_sets: match codec {
                VideoCodec::H264 => vec![
                    Bytes::from_static(&[0x67, 0x42, 0xc0, 0x1e]),
                    Bytes::from_static(&[0x68, 0xce]),
                ],
                VideoCodec::H265 => vec![
                    Bytes::from_static(&[0x40, 0x01]),
                    Bytes::from_static(&[0x42, 0x01, 0x01]),
                    Bytes::from_static(&[0x44, 0x01]),
                ],
            },
            data: Bytes::from(vec![n as u8; 100 + n as usize]),
        };
        let delta = |n: i64| MediaFrame {
            codec: VideoCodec::H264,
            captured_at: at + jiff::SignedDuration::from_nanos(40_000_123 * n),
            parameter_sets: Vec::new(),
            data: Bytes::from(vec![n as u8; 50]),
        };
        vec![
            key(0, VideoCodec::H264),
            delta(1),
            delta(2),
            key(3, VideoCodec::H265),
        ]
    }

    fn stream() -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames() {
            let before = out.len();
            encode(&f, &mut out).unwrap();
            assert_eq!(out.len() - before, f.record_len());
        }
        out
    }

    #[test]
    fn records_decode_to_the_frames_they_were_made_from() {
        let bytes = stream();
        let mut at = 0;
        let mut back = Vec::new();
        while let Some((frame, used)) = decode(&bytes[at..]).unwrap() {
            back.push(frame);
            at += used;
        }
        assert_eq!(at, bytes.len());
        assert_eq!(back, frames());
    }

    #[test]
    fn any_prefix_is_whole_records_then_a_need_for_more() {
        let bytes = stream();
        for cut in 0..bytes.len() {
            let mut at = 0;
            let mut n = 0;
            loop {
                match decode(&bytes[at..cut]) {
                    Ok(Some((frame, used))) => {
                        assert_eq!(frame, frames()[n], "cut at {cut}");
                        n += 1;
                        at += used;
                    }
                    Ok(None) => break,
                    Err(e) => panic!("cut at {cut}: {e}"),
                }
            }
            assert!(n < frames().len());
        }
    }

    #[test]
    fn corrupt_oversize_and_malformed_records_are_refused() {
        let mut bytes = stream();
        bytes[HEADER + 3] ^= 0x10;
        assert_eq!(decode(&bytes), Err(MediaError::Checksum));
        let mut huge = (MAX_RECORD + 1).to_le_bytes().to_vec();
        huge.extend_from_slice(&[0; 4]);
        assert_eq!(decode(&huge), Err(MediaError::TooLarge(MAX_RECORD + 1)));
        // A well-checksummed payload with an unknown codec.
        let payload = [0u8, 7, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut record = (payload.len() as u32).to_le_bytes().to_vec();
        record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        record.extend_from_slice(&payload);
        assert_eq!(decode(&record), Err(MediaError::Malformed("unknown codec")));
        // A keyframe without its parameter sets cannot be written.
        let mut key = frames()[0].clone();
        key.parameter_sets.pop();
        assert!(encode(&key, &mut Vec::new()).is_err());
    }
}
