//! Writing ISO BMFF (MP4) boxes by hand: a size, a four-character type and
//! a body. The writers here never fail; the callers bound what goes in
//! (a sample is at most [`MAX_SAMPLE`](super::MAX_SAMPLE) bytes), so every
//! box fits a 32-bit size.

/// Appends a box of type `kind` whose body `body` writes, then patches in
/// its size.
pub(super) fn plain(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(kind);
    body(out);
    let size = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// Appends a full box: a plain box whose body opens with a version byte
/// and 24 bits of flags.
pub(super) fn full(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut Vec<u8>),
) {
    plain(out, kind, |out| {
        out.push(version);
        out.extend_from_slice(&flags.to_be_bytes()[1..]);
        body(out);
    });
}

pub(super) fn u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(super) fn u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(super) fn u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(super) fn zeros(out: &mut Vec<u8>, n: usize) {
    out.resize(out.len() + n, 0);
}

/// The identity transformation matrix of `mvhd` and `tkhd`.
pub(super) fn unity_matrix(out: &mut Vec<u8>) {
    for v in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        u32(out, v);
    }
}

/// A parsed box, for the tests: its type, and its body's bytes.
#[cfg(test)]
pub(super) fn children(mut buf: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let size = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
        assert!(
            size >= 8 && size <= buf.len(),
            "box size {size} of {}",
            buf.len()
        );
        out.push((buf[4..8].try_into().unwrap(), &buf[8..size]));
        buf = &buf[size..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_carry_their_size_type_version_and_flags() {
        let mut out = Vec::new();
        plain(&mut out, b"moov", |out| {
            full(out, b"mvhd", 1, 0x00_0203, |out| u16(out, 7));
        });
        assert_eq!(
            out,
            [
                0, 0, 0, 22, b'm', b'o', b'o', b'v', 0, 0, 0, 14, b'm', b'v', b'h', b'd', 1, 0, 2,
                3, 0, 7
            ]
        );
        let moov = children(&out);
        assert_eq!(moov.len(), 1);
        assert_eq!(&moov[0].0, b"moov");
        assert_eq!(&children(moov[0].1)[0].0, b"mvhd");
    }
}
