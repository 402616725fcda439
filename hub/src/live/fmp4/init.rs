//! The init segment (`ftyp` + `moov`): one H.264 video track at 90 kHz
//! whose `avc1`/`avcC` sample entry carries the stream's SPS and PPS, and
//! empty sample tables (the samples come in fragments, `mvex`/`trex`).

use picket_proto::media::{MediaFrame, VideoCodec};

use super::{Fmp4Error, Sps, TIMESCALE, TRACK_ID, boxes};

/// An init segment (`ftyp` + `moov`) and what a browser needs to know to
/// take it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitSegment {
    /// The segment's bytes.
    pub bytes: Vec<u8>,
    /// The MIME codecs parameter, e.g. `avc1.64001E`: the MSE type is
    /// `video/mp4; codecs="avc1.64001E"`.
    pub codecs: String,
    /// What the stream's SPS says.
    pub sps: Sps,
}

/// The init segment for a stream that starts with `keyframe`, and its
/// MIME codecs string (`avc1.PPCCLL`).
pub fn init_segment(keyframe: &MediaFrame) -> Result<(Vec<u8>, String), Fmp4Error> {
    let init = InitSegment::new(keyframe)?;
    Ok((init.bytes, init.codecs))
}

impl InitSegment {
    /// The init segment for a stream that starts with `keyframe`.
    pub fn new(keyframe: &MediaFrame) -> Result<InitSegment, Fmp4Error> {
        let (sps_nal, pps_nal) = parameter_sets(keyframe)?;
        let sps = Sps::parse(sps_nal)?;
        let mut out = Vec::with_capacity(1024);
        boxes::plain(&mut out, b"ftyp", |out| {
            out.extend_from_slice(b"iso5");
            boxes::u32(out, 512);
            out.extend_from_slice(b"iso5iso6mp41");
        });
        boxes::plain(&mut out, b"moov", |out| {
            mvhd(out);
            boxes::plain(out, b"trak", |out| {
                tkhd(out, &sps);
                boxes::plain(out, b"mdia", |out| {
                    mdhd(out);
                    hdlr(out);
                    boxes::plain(out, b"minf", |out| {
                        boxes::full(out, b"vmhd", 0, 1, |out| boxes::zeros(out, 8));
                        boxes::plain(out, b"dinf", |out| {
                            boxes::full(out, b"dref", 0, 0, |out| {
                                boxes::u32(out, 1);
                                // Flag 1: the media is in this file.
                                boxes::full(out, b"url ", 0, 1, |_| {});
                            });
                        });
                        stbl(out, &sps, sps_nal, pps_nal);
                    });
                });
            });
            boxes::plain(out, b"mvex", |out| {
                boxes::full(out, b"trex", 0, 0, |out| {
                    boxes::u32(out, TRACK_ID);
                    boxes::u32(out, 1); // sample description index
                    boxes::zeros(out, 12); // default duration, size, flags
                });
            });
        });
        Ok(InitSegment {
            bytes: out,
            codecs: sps.codecs(),
            sps,
        })
    }
}

/// A keyframe's SPS and PPS, checked to be H.264 and of the right types.
fn parameter_sets(frame: &MediaFrame) -> Result<(&[u8], &[u8]), Fmp4Error> {
    if frame.codec != VideoCodec::H264 {
        return Err(Fmp4Error::UnsupportedCodec(frame.codec));
    }
    if !frame.is_key() {
        return Err(Fmp4Error::NotKeyframe {
            at: frame.captured_at,
        });
    }
    let [sps, pps] = frame.parameter_sets.as_slice() else {
        return Err(Fmp4Error::ParameterSets {
            count: frame.parameter_sets.len(),
        });
    };
    if sps.len() > usize::from(u16::MAX) {
        return Err(Fmp4Error::Sps {
            reason: "over 65535 bytes",
        });
    }
    match pps.first() {
        Some(h) if h & 0x1f == 8 => {}
        _ => {
            return Err(Fmp4Error::Pps {
                reason: "not a PPS NAL unit (type 8)",
            });
        }
    }
    if pps.len() > usize::from(u16::MAX) {
        return Err(Fmp4Error::Pps {
            reason: "over 65535 bytes",
        });
    }
    Ok((sps, pps))
}

fn mvhd(out: &mut Vec<u8>) {
    boxes::full(out, b"mvhd", 0, 0, |out| {
        boxes::zeros(out, 8); // creation and modification time
        boxes::u32(out, 1000); // timescale
        boxes::u32(out, 0); // duration: unknown, fragmented
        boxes::u32(out, 0x0001_0000); // rate 1.0
        boxes::u16(out, 0x0100); // volume 1.0
        boxes::zeros(out, 10);
        boxes::unity_matrix(out);
        boxes::zeros(out, 24); // pre_defined
        boxes::u32(out, TRACK_ID + 1); // next_track_ID
    });
}

fn tkhd(out: &mut Vec<u8>, sps: &Sps) {
    // Flags: enabled, in movie.
    boxes::full(out, b"tkhd", 0, 3, |out| {
        boxes::zeros(out, 8); // creation and modification time
        boxes::u32(out, TRACK_ID);
        boxes::zeros(out, 4);
        boxes::u32(out, 0); // duration
        boxes::zeros(out, 8);
        boxes::zeros(out, 8); // layer, alternate group, volume, reserved
        boxes::unity_matrix(out);
        boxes::u32(out, u32::from(sps.width) << 16);
        boxes::u32(out, u32::from(sps.height) << 16);
    });
}

fn mdhd(out: &mut Vec<u8>) {
    boxes::full(out, b"mdhd", 0, 0, |out| {
        boxes::zeros(out, 8);
        boxes::u32(out, TIMESCALE);
        boxes::u32(out, 0);
        boxes::u16(out, 0x55c4); // language "und"
        boxes::u16(out, 0);
    });
}

fn hdlr(out: &mut Vec<u8>) {
    boxes::full(out, b"hdlr", 0, 0, |out| {
        boxes::u32(out, 0);
        out.extend_from_slice(b"vide");
        boxes::zeros(out, 12);
        out.extend_from_slice(b"Picket live\0");
    });
}

fn stbl(out: &mut Vec<u8>, sps: &Sps, sps_nal: &[u8], pps_nal: &[u8]) {
    boxes::plain(out, b"stbl", |out| {
        boxes::full(out, b"stsd", 0, 0, |out| {
            boxes::u32(out, 1);
            avc1(out, sps, sps_nal, pps_nal);
        });
        // The samples are all in fragments: empty tables.
        boxes::full(out, b"stts", 0, 0, |out| boxes::u32(out, 0));
        boxes::full(out, b"stsc", 0, 0, |out| boxes::u32(out, 0));
        boxes::full(out, b"stsz", 0, 0, |out| boxes::zeros(out, 8));
        boxes::full(out, b"stco", 0, 0, |out| boxes::u32(out, 0));
    });
}

fn avc1(out: &mut Vec<u8>, sps: &Sps, sps_nal: &[u8], pps_nal: &[u8]) {
    boxes::plain(out, b"avc1", |out| {
        boxes::zeros(out, 6);
        boxes::u16(out, 1); // data reference index
        boxes::zeros(out, 16); // pre_defined, reserved
        boxes::u16(out, sps.width);
        boxes::u16(out, sps.height);
        boxes::u32(out, 0x0048_0000); // 72 dpi
        boxes::u32(out, 0x0048_0000);
        boxes::u32(out, 0);
        boxes::u16(out, 1); // frame count
        boxes::zeros(out, 32); // compressor name
        boxes::u16(out, 0x0018); // depth
        boxes::u16(out, 0xffff); // pre_defined -1
        boxes::plain(out, b"avcC", |out| {
            out.extend_from_slice(&[1, sps.profile_idc, sps.constraints, sps.level_idc]);
            out.push(0xfc | 3); // 4-byte NAL unit lengths
            out.push(0xe0 | 1);
            boxes::u16(out, sps_nal.len() as u16);
            out.extend_from_slice(sps_nal);
            out.push(1);
            boxes::u16(out, pps_nal.len() as u16);
            out.extend_from_slice(pps_nal);
            if sps.has_avcc_extension() {
                out.push(0xfc | sps.chroma_format_idc);
                out.push(0xf8 | (sps.bit_depth_luma - 8));
                out.push(0xf8 | (sps.bit_depth_chroma - 8));
                out.push(0); // no SPS extensions
            }
        });
    });
}
