//! The hvcC record (ISO/IEC 14496-15 §8.3.3
//! `HEVCDecoderConfigurationRecord`): how an H.265 stream's parameter sets
//! travel in GStreamer caps (`codec_data` for `stream-format=hvc1`) and in
//! an MP4 `hvc1` sample entry. [`parse_hvcc`] reads the first VPS, SPS and
//! PPS out of one; [`hvcc_record`] writes one for a VPS, SPS and PPS.
//!
//! The record's header repeats what the SPS says (profile, tier, level,
//! chroma format, bit depths, temporal layers), so the writer reads the
//! SPS: its `profile_tier_level` (the 12 general bytes are copied as they
//! are) and the few fields after it, from the RBSP (emulation prevention
//! bytes removed). Fields the SPS leaves to the VUI or that only describe
//! the stream statistically (`min_spatial_segmentation_idc`,
//! `parallelismType`, `avgFrameRate`, `constantFrameRate`) are written as
//! 0, "unknown", which the standard allows. NAL units carry 4-byte lengths.
//!
//! Both sides take outside input (a camera's caps, a frame's parameter
//! sets): every length is checked and nothing panics.

use bytes::Bytes;

use super::frame::ParameterSets;

/// NAL unit types of the parameter sets (H.265 Table 7-1).
const VPS: u8 = 32;
const SPS: u8 = 33;
const PPS: u8 = 34;

/// The fixed part of the record, before its arrays.
const HEADER_LEN: usize = 23;

/// Why an hvcC record could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HvccError {
    /// Shorter than its fields say.
    #[error("hvcC record truncated at byte {at} of {len}")]
    Truncated {
        /// Where the missing field starts.
        at: usize,
        /// The record's length.
        len: usize,
    },
    /// Not version 1.
    #[error("hvcC version {0}, expected 1")]
    Version(u8),
    /// NAL lengths other than 4 bytes (frames must carry 4-byte lengths).
    #[error("hvcC NAL length size {0} bytes, expected 4")]
    LengthSize(u8),
    /// No VPS, SPS or PPS.
    #[error("hvcC record holds no {0}")]
    Missing(&'static str),
    /// A parameter set to write is not what it claims or cannot be read.
    #[error("cannot write an hvcC record: {0}")]
    Sps(&'static str),
    /// A parameter set longer than a 16-bit length.
    #[error("a parameter set of {0} bytes does not fit an hvcC record")]
    TooLong(usize),
}

/// The NAL unit type in an H.265 NAL header's first byte.
fn nal_type(first: u8) -> u8 {
    (first >> 1) & 0x3f
}

/// Parses an hvcC record into its first VPS, SPS and PPS (each array's NAL
/// type says which it holds). Refuses NAL length sizes other than 4 bytes;
/// ignores other arrays (SEI).
pub fn parse_hvcc(record: &[u8]) -> Result<ParameterSets, HvccError> {
    let len = record.len();
    let byte = |at: usize| {
        record
            .get(at)
            .copied()
            .ok_or(HvccError::Truncated { at, len })
    };
    let u16_at = |at: usize| -> Result<usize, HvccError> {
        Ok(usize::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?])))
    };
    let version = byte(0)?;
    if version != 1 {
        return Err(HvccError::Version(version));
    }
    let length_size = (byte(21)? & 0x03) + 1;
    if length_size != 4 {
        return Err(HvccError::LengthSize(length_size));
    }
    let arrays = byte(22)?;
    let mut at = HEADER_LEN;
    let (mut vps, mut sps, mut pps) = (None, None, None);
    for _ in 0..arrays {
        let kind = byte(at)? & 0x3f;
        let count = u16_at(at + 1)?;
        at += 3;
        for _ in 0..count {
            let size = u16_at(at)?;
            let body = record
                .get(at + 2..at + 2 + size)
                .ok_or(HvccError::Truncated { at: at + 2, len })?;
            let slot = match kind {
                VPS => Some(&mut vps),
                SPS => Some(&mut sps),
                PPS => Some(&mut pps),
                _ => None,
            };
            if let Some(slot) = slot
                && slot.is_none()
            {
                *slot = Some(Bytes::copy_from_slice(body));
            }
            at += 2 + size;
        }
    }
    Ok(ParameterSets::H265 {
        vps: vps.ok_or(HvccError::Missing("VPS"))?,
        sps: sps.ok_or(HvccError::Missing("SPS"))?,
        pps: pps.ok_or(HvccError::Missing("PPS"))?,
    })
}

/// The hvcC record (4-byte NAL lengths, `array_completeness` set as an
/// `hvc1` sample entry requires) for one VPS, SPS and PPS, each a NAL unit
/// with its 2-byte header and without start code.
pub fn hvcc_record(vps: &[u8], sps: &[u8], pps: &[u8]) -> Result<Vec<u8>, HvccError> {
    for (set, kind) in [(vps, VPS), (sps, SPS), (pps, PPS)] {
        if set.len() < 3 || nal_type(set[0]) != kind {
            return Err(HvccError::Sps("a parameter set of the wrong NAL type"));
        }
    }
    let info = SpsInfo::read(sps)?;
    let mut record = Vec::with_capacity(HEADER_LEN + 3 * 5 + vps.len() + sps.len() + pps.len());
    record.push(1);
    // general_profile_space, tier, profile_idc; compatibility flags;
    // constraint flags; level_idc: the SPS's 12 bytes as they are.
    record.extend_from_slice(&info.general_ptl);
    // reserved '1111' + min_spatial_segmentation_idc 0 (unknown).
    record.extend_from_slice(&[0xf0, 0x00]);
    // reserved '111111' + parallelismType 0 (unknown).
    record.push(0xfc);
    record.push(0xfc | info.chroma_format_idc);
    record.push(0xf8 | info.bit_depth_luma_minus8);
    record.push(0xf8 | info.bit_depth_chroma_minus8);
    // avgFrameRate 0 (unspecified).
    record.extend_from_slice(&[0, 0]);
    // constantFrameRate 0, numTemporalLayers, temporalIdNested,
    // lengthSizeMinusOne 3.
    record.push(
        ((info.max_sub_layers_minus1 + 1) << 3) | (u8::from(info.temporal_id_nesting) << 2) | 3,
    );
    record.push(3);
    for (set, kind) in [(vps, VPS), (sps, SPS), (pps, PPS)] {
        let size = u16::try_from(set.len()).map_err(|_| HvccError::TooLong(set.len()))?;
        // array_completeness 1: every parameter set is in the entry.
        record.push(0x80 | kind);
        record.extend_from_slice(&1u16.to_be_bytes());
        record.extend_from_slice(&size.to_be_bytes());
        record.extend_from_slice(set);
    }
    Ok(record)
}

/// The size of the pictures an H.265 SPS (a NAL unit with its header)
/// describes, width × height, cropped to its conformance window.
pub fn picture_size(sps: &[u8]) -> Result<(u32, u32), HvccError> {
    if sps.len() < 3 || nal_type(sps[0]) != SPS {
        return Err(HvccError::Sps("not an SPS"));
    }
    let info = SpsInfo::read(sps)?;
    Ok((info.width, info.height))
}

/// What the record's header takes from an SPS.
#[derive(Debug, PartialEq, Eq)]
struct SpsInfo {
    general_ptl: [u8; 12],
    /// The picture's size after the conformance window's cropping.
    width: u32,
    height: u32,
    max_sub_layers_minus1: u8,
    temporal_id_nesting: bool,
    chroma_format_idc: u8,
    bit_depth_luma_minus8: u8,
    bit_depth_chroma_minus8: u8,
}

impl SpsInfo {
    /// Reads an SPS NAL unit (2-byte header first), H.265 §7.3.2.2.
    fn read(sps: &[u8]) -> Result<SpsInfo, HvccError> {
        let rbsp = unescape(sps.get(2..).unwrap_or_default());
        let short = HvccError::Sps("the SPS is truncated");
        let first = *rbsp.first().ok_or(short.clone())?;
        let general_ptl: [u8; 12] = rbsp
            .get(1..13)
            .and_then(|b| b.try_into().ok())
            .ok_or(short.clone())?;
        let max_sub_layers_minus1 = (first >> 1) & 0x07;
        let temporal_id_nesting = first & 1 == 1;
        if max_sub_layers_minus1 > 6 {
            // 7 is forbidden, and would not fit numTemporalLayers.
            return Err(HvccError::Sps("sps_max_sub_layers_minus1 above 6"));
        }
        let mut bits = Bits::new(&rbsp[13..]);
        let read = |r: Option<u32>| r.ok_or(HvccError::Sps("the SPS is truncated"));
        // The rest of profile_tier_level: sub-layer flags, then the
        // sub-layers' profiles (88 bits) and levels (8 bits).
        let mut present = [(false, false); 8];
        for p in present.iter_mut().take(usize::from(max_sub_layers_minus1)) {
            *p = (read(bits.bits(1))? == 1, read(bits.bits(1))? == 1);
        }
        if max_sub_layers_minus1 > 0 {
            for _ in max_sub_layers_minus1..8 {
                read(bits.bits(2))?;
            }
        }
        for &(profile, level) in present.iter().take(usize::from(max_sub_layers_minus1)) {
            if profile {
                read(bits.skip(88))?;
            }
            if level {
                read(bits.skip(8))?;
            }
        }
        let _sps_id = read(bits.ue())?;
        let chroma_format_idc = read(bits.ue())?;
        if chroma_format_idc > 3 {
            return Err(HvccError::Sps("chroma_format_idc above 3"));
        }
        if chroma_format_idc == 3 {
            let _separate_colour_planes = read(bits.bits(1))?;
        }
        let coded_width = read(bits.ue())?;
        let coded_height = read(bits.ue())?;
        // Cropping offsets count chroma samples (H.265 Table 6-1).
        let (sub_width, sub_height) = match chroma_format_idc {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        let (mut crop_x, mut crop_y) = (0u64, 0u64);
        if read(bits.bits(1))? == 1 {
            let [left, right, top, bottom] = [
                read(bits.ue())?,
                read(bits.ue())?,
                read(bits.ue())?,
                read(bits.ue())?,
            ];
            crop_x = (u64::from(left) + u64::from(right)) * sub_width;
            crop_y = (u64::from(top) + u64::from(bottom)) * sub_height;
        }
        let cropped = |coded: u32, crop: u64| {
            u64::from(coded)
                .checked_sub(crop)
                .filter(|&size| size > 0)
                .and_then(|size| u32::try_from(size).ok())
                .ok_or(HvccError::Sps(
                    "the conformance window crops the whole picture",
                ))
        };
        let width = cropped(coded_width, crop_x)?;
        let height = cropped(coded_height, crop_y)?;
        let luma = read(bits.ue())?;
        let chroma = read(bits.ue())?;
        if luma > 7 || chroma > 7 {
            return Err(HvccError::Sps("bit depth above 15"));
        }
        Ok(SpsInfo {
            general_ptl,
            width,
            height,
            max_sub_layers_minus1,
            temporal_id_nesting,
            chroma_format_idc: chroma_format_idc as u8,
            bit_depth_luma_minus8: luma as u8,
            bit_depth_chroma_minus8: chroma as u8,
        })
    }
}

/// The RBSP of a NAL unit's payload: every `00 00 03` loses its `03`.
fn unescape(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut zeros = 0;
    for &b in payload {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// A big-endian bit reader; every read is `None` past the end.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits { data, at: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = self.data.get(self.at / 8)?;
        let bit = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Some(u32::from(bit))
    }

    /// `n` ≤ 32 bits as a number.
    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..n {
            value = (value << 1) | self.bit()?;
        }
        Some(value)
    }

    fn skip(&mut self, n: usize) -> Option<u32> {
        if self.at + n > self.data.len() * 8 {
            return None;
        }
        self.at += n;
        Some(0)
    }

    /// An unsigned Exp-Golomb number (`ue(v)`), at most 32 bits.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some((1u32 << zeros) - 1 + self.bits(zeros)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // What `picket-sim camera …,codec=h265` (x265, Main, 640x360) sends,
    // and the hvcC record h265parse builds from it (its arrays with
    // array_completeness 0).
    const VPS_NAL: &[u8] = &[
        0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xba, 0x02, 0x40,
    ];
    const SPS_NAL: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x3f, 0xa0, 0x05, 0x02, 0x01, 0x71, 0xf2, 0xe5, 0xba, 0x4a, 0x4c, 0x2f, 0xff,
        0x00, 0x01, 0x00, 0x01, 0x6a, 0x0c, 0x0c, 0x0c, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00,
        0x00, 0x03, 0x00, 0x78, 0x40,
    ];
    const PPS_NAL: &[u8] = &[0x44, 0x01, 0xc0, 0x71, 0x83, 0x12];
    const GSTREAMER_HVCC: &str = "0101600000009000000000003ff000fcfdf8f800000f03\
        200001001840010c01ffff01600000030090000003000003003fba0240\
        210001003242010101600000030090000003000003003fa005020171f2e5ba4a4c2fff000100016a0c0c0c08000003000800000300784022\
        000100064401c0718312";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn sets() -> ParameterSets {
        ParameterSets::H265 {
            vps: Bytes::from_static(VPS_NAL),
            sps: Bytes::from_static(SPS_NAL),
            pps: Bytes::from_static(PPS_NAL),
        }
    }

    #[test]
    fn reads_gstreamers_record() {
        assert_eq!(parse_hvcc(&hex(GSTREAMER_HVCC)).unwrap(), sets());
    }

    #[test]
    fn writes_what_gstreamer_writes_but_marks_the_arrays_complete() {
        let ours = hvcc_record(VPS_NAL, SPS_NAL, PPS_NAL).unwrap();
        let mut theirs = hex(GSTREAMER_HVCC);
        let mut at = HEADER_LEN;
        for _ in 0..3 {
            theirs[at] |= 0x80;
            let size = usize::from(u16::from_be_bytes([theirs[at + 3], theirs[at + 4]]));
            at += 5 + size;
        }
        assert_eq!(ours, theirs);
    }

    #[test]
    fn the_record_reads_back() {
        let record = hvcc_record(VPS_NAL, SPS_NAL, PPS_NAL).unwrap();
        assert_eq!(parse_hvcc(&record).unwrap(), sets());
        // Main profile, main tier, level 2.1 (63 = 30 × 2.1).
        assert_eq!(record[1], 0x01);
        assert_eq!(record[12], 63);
        assert_eq!(picture_size(SPS_NAL), Ok((640, 360)));
        assert!(picture_size(VPS_NAL).is_err());
    }

    #[test]
    fn reads_the_sps_fields_the_header_repeats() {
        let info = SpsInfo::read(SPS_NAL).unwrap();
        assert_eq!(
            info,
            SpsInfo {
                general_ptl: [1, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x3f],
                width: 640,
                height: 360,
                max_sub_layers_minus1: 0,
                temporal_id_nesting: true,
                chroma_format_idc: 1,
                bit_depth_luma_minus8: 0,
                bit_depth_chroma_minus8: 0,
            }
        );
    }

    #[test]
    fn sub_layers_are_skipped_to_reach_the_sps_fields() {
        // Three temporal layers, sub-layer 0 with profile and level, 1 with
        // a level only; 4:2:2 10-bit, a conformance window.
        let mut rbsp_bits = String::new();
        rbsp_bits.push_str("0000"); // vps id
        rbsp_bits.push_str("010"); // max_sub_layers_minus1 = 2
        rbsp_bits.push('0'); // temporal id nesting
        rbsp_bits.push_str(&"01000010".repeat(12)); // general PTL, 96 bits
        rbsp_bits.push_str("11"); // sub-layer 0: profile, level
        rbsp_bits.push_str("01"); // sub-layer 1: level
        rbsp_bits.push_str(&"00".repeat(6)); // reserved for 2..8
        rbsp_bits.push_str(&"1".repeat(88 + 8)); // sub-layer 0
        rbsp_bits.push_str(&"1".repeat(8)); // sub-layer 1
        let ue = |n: u32| {
            let code = format!("{:b}", n + 1);
            format!("{}{code}", "0".repeat(code.len() - 1))
        };
        rbsp_bits.push_str(&ue(0)); // sps id
        rbsp_bits.push_str(&ue(2)); // chroma_format_idc 4:2:2
        rbsp_bits.push_str(&ue(1280)); // width
        rbsp_bits.push_str(&ue(720)); // height
        rbsp_bits.push('1'); // conformance window
        for offset in [0, 1, 0, 4] {
            rbsp_bits.push_str(&ue(offset));
        }
        rbsp_bits.push_str(&ue(2)); // luma 8 + 2
        rbsp_bits.push_str(&ue(2)); // chroma 8 + 2
        while !rbsp_bits.len().is_multiple_of(8) {
            rbsp_bits.push('0');
        }
        let mut nal = vec![0x42, 0x01];
        for i in (0..rbsp_bits.len()).step_by(8) {
            nal.push(u8::from_str_radix(&rbsp_bits[i..i + 8], 2).unwrap());
        }
        let info = SpsInfo::read(&nal).unwrap();
        assert_eq!(info.max_sub_layers_minus1, 2);
        assert!(!info.temporal_id_nesting);
        assert_eq!(info.general_ptl, [0x42; 12]);
        assert_eq!(
            (
                info.chroma_format_idc,
                info.bit_depth_luma_minus8,
                info.bit_depth_chroma_minus8
            ),
            (2, 2, 2)
        );
        // 4:2:2: horizontal offsets count 2 pixels, vertical ones 1.
        assert_eq!((info.width, info.height), (1280 - 2, 720 - 4));
        let record = hvcc_record(VPS_NAL, &nal, PPS_NAL).unwrap();
        assert_eq!(record[16], 0xfc | 2);
        assert_eq!(record[21], (3 << 3) | 3);
    }

    #[test]
    fn emulation_prevention_bytes_are_removed() {
        assert_eq!(
            unescape(&[0, 0, 3, 0, 0, 0, 3, 1, 3]),
            [0, 0, 0, 0, 0, 1, 3]
        );
    }

    #[test]
    fn refuses_what_frames_cannot_use() {
        let good = hvcc_record(VPS_NAL, SPS_NAL, PPS_NAL).unwrap();
        let mut v0 = good.clone();
        v0[0] = 0;
        assert_eq!(parse_hvcc(&v0), Err(HvccError::Version(0)));
        let mut short_lengths = good.clone();
        short_lengths[21] &= !0x03;
        assert_eq!(parse_hvcc(&short_lengths), Err(HvccError::LengthSize(1)));
        let mut two_arrays = good[..good.len() - PPS_NAL.len() - 5].to_vec();
        two_arrays[22] = 2;
        assert_eq!(parse_hvcc(&two_arrays), Err(HvccError::Missing("PPS")));
        assert_eq!(parse_hvcc(&[]), Err(HvccError::Truncated { at: 0, len: 0 }));
        assert!(hvcc_record(SPS_NAL, VPS_NAL, PPS_NAL).is_err());
        assert!(hvcc_record(VPS_NAL, &SPS_NAL[..10], PPS_NAL).is_err());
        let mut eight_layers = SPS_NAL.to_vec();
        eight_layers[2] = 0x0f;
        assert_eq!(
            hvcc_record(VPS_NAL, &eight_layers, PPS_NAL),
            Err(HvccError::Sps("sps_max_sub_layers_minus1 above 6"))
        );
    }

    proptest::proptest! {
        /// Any bytes as a record or an SPS: an answer, never a panic.
        #[test]
        fn arbitrary_input_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let _ = parse_hvcc(&bytes);
            let _ = SpsInfo::read(&bytes);
            let _ = hvcc_record(VPS_NAL, &bytes, PPS_NAL);
        }

        /// Whatever the VPS and PPS hold past their headers, the record
        /// gives them back unchanged.
        #[test]
        fn any_vps_and_pps_read_back(
            vps_body in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..400),
            pps_body in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..400),
        ) {
            let vps = [&[0x40, 0x01][..], &vps_body].concat();
            let pps = [&[0x44, 0x01][..], &pps_body].concat();
            let record = hvcc_record(&vps, SPS_NAL, &pps).unwrap();
            proptest::prop_assert_eq!(
                parse_hvcc(&record).unwrap(),
                ParameterSets::H265 {
                    vps: Bytes::from(vps),
                    sps: Bytes::from_static(SPS_NAL),
                    pps: Bytes::from(pps),
                }
            );
        }
    }

    #[test]
    fn every_truncation_is_refused_without_panicking() {
        let good = hvcc_record(VPS_NAL, SPS_NAL, PPS_NAL).unwrap();
        for len in 0..good.len() {
            assert!(parse_hvcc(&good[..len]).is_err(), "{len}");
        }
        for len in 0..SPS_NAL.len() {
            // Cut SPSs either fail or are read without panicking.
            let _ = hvcc_record(VPS_NAL, &SPS_NAL[..len], PPS_NAL);
        }
    }
}
