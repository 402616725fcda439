//! The fields of an H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1)
//! that an MP4 init segment needs: the profile, constraint and level bytes
//! (the codecs string and `avcC`), the chroma format and bit depths
//! (`avcC` for the High profiles) and the picture size after cropping
//! (`tkhd` and `avc1`).

use super::Fmp4Error;

/// What an init segment needs from an H.264 SPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc` (66 Baseline, 77 Main, 100 High, …).
    pub profile_idc: u8,
    /// The `constraint_set*_flag` byte (the "compat" byte of `avc1.PPCCLL`).
    pub constraints: u8,
    /// `level_idc` (30 is level 3.0).
    pub level_idc: u8,
    /// `chroma_format_idc` (1 is 4:2:0).
    pub chroma_format_idc: u8,
    /// Luma bit depth (8 for most cameras).
    pub bit_depth_luma: u8,
    /// Chroma bit depth.
    pub bit_depth_chroma: u8,
    /// Displayed width in pixels, after cropping.
    pub width: u16,
    /// Displayed height in pixels, after cropping.
    pub height: u16,
}

impl Sps {
    /// Parses an SPS NAL unit (its one-byte header included, no start code
    /// or length prefix).
    pub fn parse(nal: &[u8]) -> Result<Sps, Fmp4Error> {
        let bad = |reason| Fmp4Error::Sps { reason };
        let (&header, _) = nal.split_first().ok_or(bad("empty"))?;
        if header & 0x1f != 7 {
            return Err(bad("not an SPS NAL unit (type 7)"));
        }
        let rbsp = unescape(&nal[1..]);
        let mut r = Bits::new(&rbsp);
        let profile_idc = r.byte()?;
        let constraints = r.byte()?;
        let level_idc = r.byte()?;
        r.ue()?; // seq_parameter_set_id
        let mut chroma_format_idc = 1;
        let mut separate_colour_planes = false;
        let (mut bit_depth_luma, mut bit_depth_chroma) = (8, 8);
        if matches!(
            profile_idc,
            100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
        ) {
            chroma_format_idc = r.ue_at_most(3, "chroma_format_idc")?;
            if chroma_format_idc == 3 {
                separate_colour_planes = r.flag()?;
            }
            bit_depth_luma = 8 + r.ue_at_most(6, "bit_depth_luma_minus8")?;
            bit_depth_chroma = 8 + r.ue_at_most(6, "bit_depth_chroma_minus8")?;
            r.flag()?; // qpprime_y_zero_transform_bypass_flag
            if r.flag()? {
                // seq_scaling_matrix_present_flag: skip the lists.
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if r.flag()? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        r.ue()?; // log2_max_frame_num_minus4
        match r.ue()? {
            0 => {
                r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
            }
            1 => {
                r.flag()?; // delta_pic_order_always_zero_flag
                r.se()?; // offset_for_non_ref_pic
                r.se()?; // offset_for_top_to_bottom_field
                let cycle = r.ue_at_most(255, "num_ref_frames_in_pic_order_cnt_cycle")?;
                for _ in 0..cycle {
                    r.se()?; // offset_for_ref_frame
                }
            }
            2 => {}
            _ => return Err(bad("pic_order_cnt_type over 2")),
        }
        r.ue()?; // max_num_ref_frames
        r.flag()?; // gaps_in_frame_num_value_allowed_flag
        let width_mbs = r.ue()? + 1;
        let height_map_units = r.ue()? + 1;
        let frame_mbs_only = r.flag()?;
        if !frame_mbs_only {
            r.flag()?; // mb_adaptive_frame_field_flag
        }
        r.flag()?; // direct_8x8_inference_flag
        let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
        if r.flag()? {
            (left, right, top, bottom) = (r.ue()?, r.ue()?, r.ue()?, r.ue()?);
        }
        // Table 6-1 and equations 7-19 to 7-22.
        let field_factor = if frame_mbs_only { 1 } else { 2 };
        let (crop_x, crop_y) = match (separate_colour_planes, chroma_format_idc) {
            (true, _) | (false, 0) => (1, field_factor),
            (false, 1) => (2, 2 * field_factor),
            (false, 2) => (2, field_factor),
            (false, _) => (1, field_factor),
        };
        let width = (width_mbs * 16).checked_sub(crop_x * (left + right));
        let height = (field_factor * height_map_units * 16).checked_sub(crop_y * (top + bottom));
        let size = |v: Option<u64>| {
            v.filter(|v| *v > 0)
                .and_then(|v| u16::try_from(v).ok())
                .ok_or(bad("picture size out of range after cropping"))
        };
        Ok(Sps {
            profile_idc,
            constraints,
            level_idc,
            chroma_format_idc: chroma_format_idc as u8,
            bit_depth_luma: bit_depth_luma as u8,
            bit_depth_chroma: bit_depth_chroma as u8,
            width: size(width)?,
            height: size(height)?,
        })
    }

    /// The RFC 6381 codecs parameter, `avc1.PPCCLL` (profile, constraint
    /// and level bytes in hex), as Media Source Extensions wants it.
    pub fn codecs(&self) -> String {
        format!(
            "avc1.{:02X}{:02X}{:02X}",
            self.profile_idc, self.constraints, self.level_idc
        )
    }

    /// Whether `avcC` carries the chroma format and bit depth fields
    /// (ISO/IEC 14496-15 §5.3.3.1.2: all but profiles 66, 77 and 88).
    pub(super) fn has_avcc_extension(&self) -> bool {
        !matches!(self.profile_idc, 66 | 77 | 88)
    }
}

/// Skips `scaling_list()` (§7.3.2.1.1.1): only the deltas are coded.
fn skip_scaling_list(r: &mut Bits<'_>, size: usize) -> Result<(), Fmp4Error> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.se()? + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

/// The RBSP of a NAL unit's payload: each emulation prevention byte
/// (the `03` of `00 00 03`) removed.
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

/// A big-endian bit reader with Exp-Golomb codes (§9.1).
struct Bits<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Bits { buf, at: 0 }
    }

    fn bit(&mut self) -> Result<u64, Fmp4Error> {
        let byte = self.buf.get(self.at / 8).ok_or(Fmp4Error::Sps {
            reason: "cut short",
        })?;
        let bit = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Ok(u64::from(bit))
    }

    fn flag(&mut self) -> Result<bool, Fmp4Error> {
        Ok(self.bit()? == 1)
    }

    fn byte(&mut self) -> Result<u8, Fmp4Error> {
        let mut v = 0;
        for _ in 0..8 {
            v = v << 1 | self.bit()?;
        }
        Ok(v as u8)
    }

    /// `ue(v)`: unsigned Exp-Golomb, at most 32 leading zeros.
    fn ue(&mut self) -> Result<u64, Fmp4Error> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 32 {
                return Err(Fmp4Error::Sps {
                    reason: "an Exp-Golomb code over 32 bits",
                });
            }
        }
        let mut rest = 0;
        for _ in 0..zeros {
            rest = rest << 1 | self.bit()?;
        }
        Ok((1 << zeros) - 1 + rest)
    }

    fn ue_at_most(&mut self, max: u64, field: &'static str) -> Result<u64, Fmp4Error> {
        let v = self.ue()?;
        if v > max {
            return Err(Fmp4Error::Sps { reason: field });
        }
        Ok(v)
    }

    /// `se(v)`: signed Exp-Golomb (1, -1, 2, -2, … for 1, 2, 3, 4, …).
    fn se(&mut self) -> Result<i64, Fmp4Error> {
        let k = self.ue()? as i64;
        Ok(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x264 (GStreamer `x264enc`), High, 320x240 (no cropping).
    const HIGH_320X240: &[u8] = &[
        0x67, 0x64, 0x00, 0x14, 0xac, 0xb2, 0x02, 0x83, 0xf6, 0x02, 0xd4, 0x18, 0x18, 0x1a, 0x94,
        0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0x7a, 0x3c, 0x50, 0xa9, 0x20,
    ];

    #[test]
    fn exp_golomb_codes_read_as_in_the_standard() {
        // 1 | 010 | 011 | 00100 | 00101 → ue 0, 1, 2, 3, 4.
        let buf = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = Bits::new(&buf);
        let got: Vec<u64> = (0..5).map(|_| r.ue().unwrap()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        let mut r = Bits::new(&buf);
        let got: Vec<i64> = (0..5).map(|_| r.se().unwrap()).collect();
        assert_eq!(got, [0, 1, -1, 2, -2]);
        assert!(Bits::new(&[0, 0, 0, 0, 0]).ue().is_err());
    }

    #[test]
    fn emulation_prevention_bytes_are_removed() {
        assert_eq!(
            unescape(&[1, 0, 0, 3, 0, 0, 0, 3, 3, 0, 0, 3]),
            [1, 0, 0, 0, 0, 0, 3, 0, 0]
        );
    }

    #[test]
    fn a_real_high_profile_sps_parses() {
        let sps = Sps::parse(HIGH_320X240).unwrap();
        assert_eq!((sps.width, sps.height), (320, 240));
        assert_eq!(
            (sps.profile_idc, sps.constraints, sps.level_idc),
            (100, 0, 20)
        );
        assert_eq!(sps.chroma_format_idc, 1);
        assert_eq!(sps.codecs(), "avc1.640014");
    }

    #[test]
    fn truncated_and_foreign_nal_units_are_refused_not_misread() {
        for cut in 0..HIGH_320X240.len() - 1 {
            // Some prefixes are long enough to parse; none may panic.
            let _ = Sps::parse(&HIGH_320X240[..cut]);
        }
        assert!(Sps::parse(&HIGH_320X240[..6]).is_err());
        // Every one-byte corruption parses or is refused, never panics.
        for at in 1..HIGH_320X240.len() {
            for b in 0..=255 {
                let mut sps = HIGH_320X240.to_vec();
                sps[at] = b;
                let _ = Sps::parse(&sps);
            }
        }
        assert!(Sps::parse(&[0x68, 0xeb, 0xcc]).is_err());
        assert!(Sps::parse(&[]).is_err());
    }

    /// A bit writer for hand-made SPSs (ffmpeg's `trace_headers` reads the
    /// two below field by field as their comments say).
    #[derive(Default)]
    struct Writer {
        bits: Vec<bool>,
    }

    impl Writer {
        fn bits(&mut self, v: u64, n: u32) -> &mut Self {
            self.bits.extend((0..n).rev().map(|i| v >> i & 1 == 1));
            self
        }

        fn ue(&mut self, v: u64) -> &mut Self {
            let n = 64 - (v + 1).leading_zeros();
            self.bits(0, n - 1).bits(v + 1, n)
        }

        fn se(&mut self, v: i64) -> &mut Self {
            self.ue(if v > 0 {
                2 * v as u64 - 1
            } else {
                2 * v.unsigned_abs()
            })
        }

        /// The NAL unit: header, then the RBSP with its stop bit, escaped.
        fn nal(&mut self) -> Vec<u8> {
            self.bits(1, 1);
            while !self.bits.len().is_multiple_of(8) {
                self.bits.push(false);
            }
            let mut out = vec![0x67];
            let mut zeros = 0;
            for byte in self.bits.chunks(8) {
                let byte = byte.iter().fold(0u8, |b, bit| b << 1 | u8::from(*bit));
                if zeros >= 2 && byte <= 3 {
                    out.push(3);
                    zeros = 0;
                }
                zeros = if byte == 0 { zeros + 1 } else { 0 };
                out.push(byte);
            }
            out
        }
    }

    #[test]
    fn scaling_lists_fields_and_emulation_prevention_are_got_past() {
        let mut w = Writer::default();
        w.bits(100, 8).bits(0, 8).bits(40, 8).ue(0); // High, level 4.0
        w.ue(1).ue(0).ue(0).bits(0, 1); // 4:2:0, 8 bits, no bypass
        w.bits(1, 1); // seq_scaling_matrix_present_flag
        // List 0 coded in full, list 1 absent, list 2 ends early (a delta
        // to 0 means "the default list"), list 6 (8x8) coded in full.
        w.bits(1, 1);
        for i in 0..16 {
            w.se(if i % 2 == 0 { 3 } else { -2 });
        }
        w.bits(0, 1).bits(1, 1).se(-8);
        w.bits(0, 3).bits(1, 1);
        for i in 0..64 {
            w.se(i % 5 - 2);
        }
        w.bits(0, 1);
        w.ue(0); // log2_max_frame_num_minus4
        w.ue(1)
            .bits(0, 1)
            .se(-70_000)
            .se(3)
            .ue(2)
            .se(-1)
            .se(-(1 << 28)); // pic_order_cnt_type 1
        w.ue(4).bits(0, 1); // max_num_ref_frames, no gaps
        w.ue(119).ue(33); // 120 macroblocks wide, 34 map units (fields) high
        w.bits(0, 1).bits(1, 1); // fields, mb_adaptive_frame_field_flag
        w.bits(1, 1); // direct_8x8_inference_flag
        w.bits(1, 1).ue(0).ue(0).ue(0).ue(2); // crop 2 × 4 lines off the bottom
        w.bits(0, 1); // no VUI
        let nal = w.nal();
        assert!(
            nal.windows(3).any(|w| w == [0, 0, 3]),
            "the SPS needs emulation prevention: {nal:02x?}"
        );
        let sps = Sps::parse(&nal).unwrap();
        assert_eq!((sps.width, sps.height), (1920, 1080));
        assert_eq!(sps.codecs(), "avc1.640028");
        // 4:4:4 with 12 lists, 10 bits, frames, cropped by single pixels.
        let mut w = Writer::default();
        w.bits(244, 8).bits(0, 8).bits(30, 8).ue(0);
        w.ue(3).bits(0, 1).ue(2).ue(2).bits(0, 1).bits(1, 1);
        for _ in 0..12 {
            w.bits(1, 1).se(-8); // each list: the default
        }
        w.ue(0)
            .ue(2)
            .ue(1)
            .bits(0, 1)
            .ue(19)
            .ue(14)
            .bits(1, 1)
            .bits(1, 1);
        w.bits(1, 1).ue(1).ue(1).ue(0).ue(2).bits(0, 1);
        let sps = Sps::parse(&w.nal()).unwrap();
        assert_eq!((sps.width, sps.height), (318, 238));
        assert_eq!((sps.chroma_format_idc, sps.bit_depth_luma), (3, 10));
        assert_eq!(sps.codecs(), "avc1.F4001E");
    }
}
