//! The machine-readable stamp burned into every simulated camera frame: the
//! instant the frame was captured and its frame number, as big black and
//! white blocks in the luma (Y) plane, so a test can decode a clip or a
//! live stream and tell exactly which frames (and so which instants) it
//! holds.
//!
//! Pure: no GStreamer, no clock. [`paint`] writes a [`Stamp`] into an 8-bit
//! luma plane, [`read`] gets it back (or `None`); [`try_read`] says why not.
//!
//! # Format (version 1)
//!
//! A grid of [`COLUMNS`] × [`ROWS`] cells of [`CELL`] × [`CELL`] pixels
//! (256 × 128 px) in the top-left corner of the picture. Cells line up with
//! H.264/H.265 16 × 16 macroblocks, so each cell is one flat block that
//! survives compression at modest bitrates. A cell is one bit: white
//! (luma [`WHITE`] = 235) is 1, black (luma [`BLACK`] = 16) is 0. Bits are
//! read row by row, left to right, most significant bit first:
//!
//! | cells    | bits | field                                                   |
//! |----------|------|---------------------------------------------------------|
//! | 0–15     | 16   | start pattern [`SYNC`] = `0xE4D2` (also the version)    |
//! | 16–63    | 48   | capture instant, Unix milliseconds (to the year 10889)  |
//! | 64–95    | 32   | frame number                                            |
//! | 96–127   | 32   | CRC-32 (IEEE 802.3, as in zlib) of the 10 bytes of instant and frame number, big-endian |
//!
//! A reader averages the middle 8 × 8 pixels of each cell (away from the
//! edges, which deblocking and ringing blur) and compares the mean with 126.
//! A stamp counts only if the start pattern matches exactly and the CRC
//! agrees, so a misread frame (a decoder's grey concealment before the first
//! keyframe, a smeared block) is refused rather than misread.
//!
//! The frame must be at least [`MIN_WIDTH`] × [`MIN_HEIGHT`] pixels.

use std::fmt;

/// Side of one cell (one bit), in pixels: one H.264 macroblock.
pub const CELL: usize = 16;
/// Cells per row.
pub const COLUMNS: usize = 16;
/// Rows of cells.
pub const ROWS: usize = 8;
/// The smallest frame width that holds a stamp.
pub const MIN_WIDTH: usize = COLUMNS * CELL;
/// The smallest frame height that holds a stamp.
pub const MIN_HEIGHT: usize = ROWS * CELL;
/// The start pattern, in the first row. A later layout gets a new one.
pub const SYNC: u16 = 0xE4D2;
/// Luma of a 1 bit (video range white).
pub const WHITE: u8 = 235;
/// Luma of a 0 bit (video range black).
pub const BLACK: u8 = 16;
/// The largest instant a stamp holds: 2^48 − 1 ms after 1970.
pub const MAX_UNIX_MS: u64 = (1 << 48) - 1;

/// A cell whose mean luma is above this reads as 1.
const THRESHOLD: u32 = (WHITE as u32 + BLACK as u32) / 2;
/// The sampled square inside each cell: pixels `MARGIN..CELL - MARGIN`.
const MARGIN: usize = 4;
const BITS: usize = COLUMNS * ROWS;

/// What a stamp says about its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stamp {
    /// When the frame was captured: milliseconds since the Unix epoch (UTC).
    /// At most [`MAX_UNIX_MS`].
    pub unix_ms: u64,
    /// The frame's number: 0 for the first frame the camera's pipeline
    /// produced, then one more per frame.
    pub frame: u32,
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frame {} at {} ms", self.frame, self.unix_ms)
    }
}

/// Why a stamp could not be painted or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StampError {
    /// The frame cannot hold the 256 × 128 px stamp.
    #[error(
        "a {width}x{height} frame is too small for a stamp: it needs at least {MIN_WIDTH}x{MIN_HEIGHT} pixels"
    )]
    TooSmall {
        /// The frame's width.
        width: usize,
        /// The frame's height.
        height: usize,
    },
    /// The stride or the buffer does not fit the frame's size.
    #[error(
        "a luma plane of {len} bytes with stride {stride} cannot hold a {width}x{height} frame"
    )]
    Geometry {
        /// The plane's length in bytes.
        len: usize,
        /// Bytes from one row to the next.
        stride: usize,
        /// The frame's width.
        width: usize,
        /// The frame's height.
        height: usize,
    },
    /// The instant does not fit in 48 bits.
    #[error("instant {unix_ms} ms is beyond what a stamp holds ({MAX_UNIX_MS} ms)")]
    InstantTooLate {
        /// The instant.
        unix_ms: u64,
    },
    /// The first row is not the start pattern: no stamp here (or unreadable).
    #[error("no stamp: the start pattern reads {found:#06x}, not {SYNC:#06x}")]
    NoStartPattern {
        /// What the first row read as.
        found: u16,
    },
    /// The cells read, but the checksum does not match: a misread.
    #[error("stamp misread: checksum {found:#010x}, expected {expected:#010x}")]
    Checksum {
        /// The checksum read from the frame.
        found: u32,
        /// The checksum of the instant and frame number as read.
        expected: u32,
    },
}

/// Paints `stamp` into the luma plane `y` of a `width` × `height` frame
/// whose rows are `stride` bytes apart. Only the top-left 256 × 128 px
/// change.
pub fn paint(
    y: &mut [u8],
    stride: usize,
    width: usize,
    height: usize,
    stamp: Stamp,
) -> Result<(), StampError> {
    check_geometry(y.len(), stride, width, height)?;
    if stamp.unix_ms > MAX_UNIX_MS {
        return Err(StampError::InstantTooLate {
            unix_ms: stamp.unix_ms,
        });
    }
    for (index, bit) in encode(stamp).into_iter().enumerate() {
        let (top, left) = cell_origin(index);
        let value = if bit { WHITE } else { BLACK };
        for row in top..top + CELL {
            let start = row * stride + left;
            y[start..start + CELL].fill(value);
        }
    }
    Ok(())
}

/// Reads the stamp from the luma plane `y` of a `width` × `height` frame
/// whose rows are `stride` bytes apart: `None` if there is none, it is
/// unreadable, or the frame is too small ([`try_read`] says which).
pub fn read(y: &[u8], stride: usize, width: usize, height: usize) -> Option<Stamp> {
    try_read(y, stride, width, height).ok()
}

/// [`read`], saying why there is no stamp.
pub fn try_read(y: &[u8], stride: usize, width: usize, height: usize) -> Result<Stamp, StampError> {
    check_geometry(y.len(), stride, width, height)?;
    let mut bits = [false; BITS];
    for (index, bit) in bits.iter_mut().enumerate() {
        let (top, left) = cell_origin(index);
        let mut sum = 0u32;
        for row in top + MARGIN..top + CELL - MARGIN {
            let start = row * stride + left + MARGIN;
            sum += y[start..start + CELL - 2 * MARGIN]
                .iter()
                .map(|&v| u32::from(v))
                .sum::<u32>();
        }
        let samples = ((CELL - 2 * MARGIN) * (CELL - 2 * MARGIN)) as u32;
        *bit = sum > THRESHOLD * samples;
    }
    decode(&bits)
}

fn check_geometry(
    len: usize,
    stride: usize,
    width: usize,
    height: usize,
) -> Result<(), StampError> {
    if width < MIN_WIDTH || height < MIN_HEIGHT {
        return Err(StampError::TooSmall { width, height });
    }
    let needed = stride
        .checked_mul(height - 1)
        .and_then(|n| n.checked_add(width));
    if stride < width || needed.is_none_or(|needed| len < needed) {
        return Err(StampError::Geometry {
            len,
            stride,
            width,
            height,
        });
    }
    Ok(())
}

/// Top row and left column of cell `index`, in pixels.
fn cell_origin(index: usize) -> (usize, usize) {
    ((index / COLUMNS) * CELL, (index % COLUMNS) * CELL)
}

fn encode(stamp: Stamp) -> [bool; BITS] {
    let mut bits = [false; BITS];
    let mut at = 0;
    let mut push = |value: u64, width: usize| {
        for i in (0..width).rev() {
            bits[at] = (value >> i) & 1 == 1;
            at += 1;
        }
    };
    push(u64::from(SYNC), 16);
    push(stamp.unix_ms, 48);
    push(u64::from(stamp.frame), 32);
    push(u64::from(crc32(&payload(stamp))), 32);
    bits
}

fn decode(bits: &[bool; BITS]) -> Result<Stamp, StampError> {
    let mut at = 0;
    let mut take = |width: usize| {
        let value = bits[at..at + width]
            .iter()
            .fold(0u64, |acc, &bit| (acc << 1) | u64::from(bit));
        at += width;
        value
    };
    // Each value fits its field's width, so the narrowing casts are exact.
    let sync = take(16) as u16;
    let unix_ms = take(48);
    let frame = take(32) as u32;
    let found = take(32) as u32;
    if sync != SYNC {
        return Err(StampError::NoStartPattern { found: sync });
    }
    let stamp = Stamp { unix_ms, frame };
    let expected = crc32(&payload(stamp));
    if found != expected {
        return Err(StampError::Checksum { found, expected });
    }
    Ok(stamp)
}

/// The checksummed bytes: the 48-bit instant then the frame number,
/// big-endian.
fn payload(stamp: Stamp) -> [u8; 10] {
    let mut bytes = [0u8; 10];
    bytes[..6].copy_from_slice(&stamp.unix_ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&stamp.frame.to_be_bytes());
    bytes
}

/// CRC-32 as in IEEE 802.3 and zlib (reflected 0x04C11DB7, initial and
/// final XOR 0xFFFFFFFF). Ten bytes per frame: bitwise is fast enough.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAMP: Stamp = Stamp {
        unix_ms: 1_767_225_600_123, // 2026-01-01T00:00:00.123Z
        frame: 4_000_000_007,
    };

    /// A grey frame with a gradient along each row (`stride` bytes, the
    /// frame's width or more), so stray reads are not all one value.
    fn frame(height: usize, stride: usize) -> Vec<u8> {
        (0..stride * height)
            .map(|i| (100 + (i % stride) * 50 / stride) as u8)
            .collect()
    }

    /// Deterministic pseudo-random noise in `-amplitude..=amplitude`.
    fn add_noise(y: &mut [u8], amplitude: i32) {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for v in y {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % (2 * amplitude as u64 + 1)) as i32 - amplitude;
            *v = (i32::from(*v) + noise).clamp(0, 255) as u8;
        }
    }

    fn flip_cell(y: &mut [u8], stride: usize, index: usize) {
        let (top, left) = cell_origin(index);
        for row in top..top + CELL {
            for v in &mut y[row * stride + left..row * stride + left + CELL] {
                *v = if *v > 125 { BLACK } else { WHITE };
            }
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trip_at_the_smallest_size_and_with_padded_rows() {
        for (width, height, stride) in [(256, 128, 256), (640, 360, 640), (320, 240, 384)] {
            let mut y = frame(height, stride);
            paint(&mut y, stride, width, height, STAMP).unwrap();
            assert_eq!(
                read(&y, stride, width, height),
                Some(STAMP),
                "{width}x{height}"
            );
        }
        for stamp in [
            Stamp {
                unix_ms: 0,
                frame: 0,
            },
            Stamp {
                unix_ms: MAX_UNIX_MS,
                frame: u32::MAX,
            },
        ] {
            let mut y = frame(128, 256);
            paint(&mut y, 256, 256, 128, stamp).unwrap();
            assert_eq!(read(&y, 256, 256, 128), Some(stamp));
        }
    }

    #[test]
    fn paints_only_the_stamp_area() {
        let (width, height) = (320, 240);
        let before = frame(height, width);
        let mut y = before.clone();
        paint(&mut y, width, width, height, STAMP).unwrap();
        for row in 0..height {
            for col in 0..width {
                if row >= MIN_HEIGHT || col >= MIN_WIDTH {
                    assert_eq!(y[row * width + col], before[row * width + col]);
                }
            }
        }
    }

    #[test]
    fn reads_through_noise_of_30_luma_levels() {
        let (width, height) = (320, 240);
        let mut y = frame(height, width);
        paint(&mut y, width, width, height, STAMP).unwrap();
        add_noise(&mut y, 30);
        assert_eq!(try_read(&y, width, width, height), Ok(STAMP));
    }

    #[test]
    fn a_misread_cell_is_caught_by_the_checksum() {
        let (width, height) = (320, 240);
        // A cell of the checksum, of the instant and of the frame number.
        for cell in [100, 20, 70] {
            let mut y = frame(height, width);
            paint(&mut y, width, width, height, STAMP).unwrap();
            flip_cell(&mut y, width, cell);
            assert!(
                matches!(
                    try_read(&y, width, width, height),
                    Err(StampError::Checksum { .. })
                ),
                "cell {cell}"
            );
            assert_eq!(read(&y, width, width, height), None);
        }
    }

    #[test]
    fn a_frame_without_a_stamp_reads_none() {
        let (width, height) = (320, 240);
        let grey = vec![128u8; width * height];
        assert!(matches!(
            try_read(&grey, width, width, height),
            Err(StampError::NoStartPattern { .. })
        ));
        let mut noise = vec![128u8; width * height];
        add_noise(&mut noise, 127);
        assert_eq!(read(&noise, width, width, height), None);
    }

    #[test]
    fn too_small_frames_are_refused_clearly() {
        let mut y = vec![0u8; 255 * 240];
        let err = paint(&mut y, 255, 255, 240, STAMP).unwrap_err();
        assert_eq!(
            err,
            StampError::TooSmall {
                width: 255,
                height: 240
            }
        );
        assert_eq!(
            err.to_string(),
            "a 255x240 frame is too small for a stamp: it needs at least 256x128 pixels"
        );
        assert_eq!(read(&y, 255, 255, 240), None);
        assert!(matches!(
            try_read(&y, 320, 320, 127),
            Err(StampError::TooSmall { .. })
        ));
    }

    #[test]
    fn inconsistent_geometry_and_late_instants_are_refused() {
        let mut y = vec![0u8; 320 * 240];
        // Stride shorter than a row, and a buffer too short for the frame.
        assert!(matches!(
            paint(&mut y, 300, 320, 240, STAMP),
            Err(StampError::Geometry { .. })
        ));
        assert!(matches!(
            try_read(&y[..320 * 239], 320, 320, 240),
            Err(StampError::Geometry { .. })
        ));
        let late = Stamp {
            unix_ms: MAX_UNIX_MS + 1,
            frame: 0,
        };
        assert_eq!(
            paint(&mut y, 320, 320, 240, late),
            Err(StampError::InstantTooLate {
                unix_ms: MAX_UNIX_MS + 1
            })
        );
    }
}
