//! The rules of a resumable upload, without IO: what a unit may declare and
//! which chunk it may send next.

use serde::{Deserialize, Serialize};

/// The largest clip accepted (a 2-minute clip at 16 Mbit/s is 240 MB).
pub const MAX_CLIP_BYTES: u64 = 512 * 1024 * 1024;
/// The largest thumbnail accepted.
pub const MAX_THUMBNAIL_BYTES: u64 = 4 * 1024 * 1024;
/// The largest chunk one request may carry.
pub const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// What a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipKind {
    /// An MP4 around the alarm.
    Clip,
    /// A JPEG from a keyframe near the alarm instant.
    Thumbnail,
}

impl ClipKind {
    /// The largest file of this kind.
    pub fn max_bytes(self) -> u64 {
        match self {
            ClipKind::Clip => MAX_CLIP_BYTES,
            ClipKind::Thumbnail => MAX_THUMBNAIL_BYTES,
        }
    }

    /// The media type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            ClipKind::Clip => "video/mp4",
            ClipKind::Thumbnail => "image/jpeg",
        }
    }

    /// The extension of its stored file.
    pub fn extension(self) -> &'static str {
        match self {
            ClipKind::Clip => "mp4",
            ClipKind::Thumbnail => "jpg",
        }
    }

    /// Stored as.
    pub fn as_str(self) -> &'static str {
        match self {
            ClipKind::Clip => "clip",
            ClipKind::Thumbnail => "thumbnail",
        }
    }

    /// From its stored name.
    pub fn parse(text: &str) -> Option<ClipKind> {
        match text {
            "clip" => Some(ClipKind::Clip),
            "thumbnail" => Some(ClipKind::Thumbnail),
            _ => None,
        }
    }
}

/// Why a declaration or a chunk was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// Empty files are not clips.
    #[error("size: an empty file is not a {0}; declare its real size")]
    Empty(&'static str),
    /// Larger than the kind allows.
    #[error("size: {size} bytes is more than a {kind} may be ({max} bytes)")]
    TooLarge {
        /// Its kind.
        kind: &'static str,
        /// Declared.
        size: u64,
        /// Allowed.
        max: u64,
    },
    /// A chunk that does not start where the hub's copy ends.
    #[error(
        "this chunk starts at byte {offset}, but the hub has {expected}: resume from {expected}"
    )]
    WrongOffset {
        /// Where the chunk starts.
        offset: u64,
        /// Where it should.
        expected: u64,
    },
    /// A chunk past the declared size.
    #[error("this chunk ends at byte {end}, past the declared size {size}")]
    PastEnd {
        /// Where it ends.
        end: u64,
        /// The declared size.
        size: u64,
    },
    /// An empty chunk or one over the per-request limit.
    #[error("a chunk carries 1 to {max} bytes; this one has {len}")]
    ChunkSize {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Checks a declared size against the kind's limit.
pub fn check_size(kind: ClipKind, size: u64) -> Result<(), UploadError> {
    if size == 0 {
        return Err(UploadError::Empty(kind.as_str()));
    }
    if size > kind.max_bytes() {
        return Err(UploadError::TooLarge {
            kind: kind.as_str(),
            size,
            max: kind.max_bytes(),
        });
    }
    Ok(())
}

/// Whether a chunk of `len` bytes at `offset` may be appended to a copy
/// that holds `have` of `size` bytes.
pub fn check_chunk(size: u64, have: u64, offset: u64, len: usize) -> Result<(), UploadError> {
    if len == 0 || len > MAX_CHUNK_BYTES {
        return Err(UploadError::ChunkSize {
            len,
            max: MAX_CHUNK_BYTES,
        });
    }
    if offset != have {
        return Err(UploadError::WrongOffset {
            offset,
            expected: have,
        });
    }
    let end = offset + len as u64;
    if end > size {
        return Err(UploadError::PastEnd { end, size });
    }
    Ok(())
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

/// A SHA-256 in lowercase hex, as units declare it.
pub fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_per_kind() {
        assert!(check_size(ClipKind::Clip, 1).is_ok());
        assert!(check_size(ClipKind::Clip, MAX_CLIP_BYTES).is_ok());
        assert_eq!(
            check_size(ClipKind::Thumbnail, MAX_THUMBNAIL_BYTES + 1),
            Err(UploadError::TooLarge {
                kind: "thumbnail",
                size: MAX_THUMBNAIL_BYTES + 1,
                max: MAX_THUMBNAIL_BYTES
            })
        );
        assert_eq!(
            check_size(ClipKind::Clip, 0),
            Err(UploadError::Empty("clip"))
        );
    }

    #[test]
    fn a_chunk_must_start_where_the_copy_ends_and_stay_within_the_size() {
        assert!(check_chunk(100, 0, 0, 60).is_ok());
        assert!(check_chunk(100, 60, 60, 40).is_ok());
        assert_eq!(
            check_chunk(100, 60, 0, 40),
            Err(UploadError::WrongOffset {
                offset: 0,
                expected: 60
            })
        );
        assert_eq!(
            check_chunk(100, 60, 60, 41),
            Err(UploadError::PastEnd {
                end: 101,
                size: 100
            })
        );
        assert!(matches!(
            check_chunk(100, 0, 0, 0),
            Err(UploadError::ChunkSize { .. })
        ));
        assert!(matches!(
            check_chunk(u64::MAX, 0, 0, MAX_CHUNK_BYTES + 1),
            Err(UploadError::ChunkSize { .. })
        ));
        let message = check_chunk(100, 60, 0, 40).unwrap_err().to_string();
        assert!(message.contains("resume from 60"), "{message}");
    }

    #[test]
    fn sha256_hex_round_trips_and_bad_text_is_none() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        assert_eq!(parse_sha256(&hex(&bytes)), Some(bytes));
        assert_eq!(parse_sha256("ab"), None);
        assert_eq!(parse_sha256(&"zz".repeat(32)), None);
        assert_eq!(parse_sha256(&"é".repeat(32)), None);
    }
}
