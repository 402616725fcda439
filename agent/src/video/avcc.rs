//! The H.264 decoder configuration record (avcC, ISO/IEC 14496-15
//! `AVCDecoderConfigurationRecord`): read from a camera's caps
//! (`codec_data` for `stream-format=avc`) and written into `avc1` sample
//! entries. The H.265 one is [`super::hvcc`].

use bytes::Bytes;

use super::frame::ParameterSets;

/// Why an avcC record (`codec_data`) could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AvccError {
    /// Shorter than its fields say.
    #[error("avcC record truncated at byte {at} of {len}")]
    Truncated {
        /// Where the missing field starts.
        at: usize,
        /// The record's length.
        len: usize,
    },
    /// Not version 1.
    #[error("avcC version {0}, expected 1")]
    Version(u8),
    /// NAL lengths other than 4 bytes (frames must carry 4-byte lengths).
    #[error("avcC NAL length size {0} bytes, expected 4")]
    LengthSize(u8),
    /// No SPS or no PPS.
    #[error("avcC record holds no {0}")]
    Missing(&'static str),
}

/// Parses an avcC record (ISO/IEC 14496-15 `AVCDecoderConfigurationRecord`,
/// GStreamer's `codec_data` for `stream-format=avc`) into its first SPS and
/// first PPS. Refuses NAL length sizes other than 4 bytes.
pub fn parse_avcc(record: &[u8]) -> Result<ParameterSets, AvccError> {
    let len = record.len();
    let byte = |at: usize| {
        record
            .get(at)
            .copied()
            .ok_or(AvccError::Truncated { at, len })
    };
    let version = byte(0)?;
    if version != 1 {
        return Err(AvccError::Version(version));
    }
    let length_size = (byte(4)? & 0x03) + 1;
    if length_size != 4 {
        return Err(AvccError::LengthSize(length_size));
    }
    let mut at = 5;
    let sets = |count: usize, at: &mut usize| -> Result<Option<Bytes>, AvccError> {
        let mut first = None;
        for _ in 0..count {
            let size = usize::from(u16::from_be_bytes([byte(*at)?, byte(*at + 1)?]));
            let body = record
                .get(*at + 2..*at + 2 + size)
                .ok_or(AvccError::Truncated { at: *at + 2, len })?;
            if first.is_none() {
                first = Some(Bytes::copy_from_slice(body));
            }
            *at += 2 + size;
        }
        Ok(first)
    };
    let sps_count = usize::from(byte(at)? & 0x1f);
    at += 1;
    let sps = sets(sps_count, &mut at)?.ok_or(AvccError::Missing("SPS"))?;
    let pps_count = usize::from(byte(at)?);
    at += 1;
    let pps = sets(pps_count, &mut at)?.ok_or(AvccError::Missing("PPS"))?;
    Ok(ParameterSets::H264 { sps, pps })
}

/// The avcC record (`AVCDecoderConfigurationRecord`, 4-byte NAL lengths)
/// for one SPS and one PPS; `None` if either is too short or too long.
pub fn avcc_record(sps: &[u8], pps: &[u8]) -> Option<Vec<u8>> {
    if sps.len() < 4 {
        return None;
    }
    let sps_len = u16::try_from(sps.len()).ok()?;
    let pps_len = u16::try_from(pps.len()).ok()?;
    let mut record = vec![1, sps[1], sps[2], sps[3], 0xff, 0xe1];
    record.extend_from_slice(&sps_len.to_be_bytes());
    record.extend_from_slice(sps);
    record.push(1);
    record.extend_from_slice(&pps_len.to_be_bytes());
    record.extend_from_slice(pps);
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An avcC record as x264 + h264parse write it (baseline 640x360).
    fn record(sps: &[u8], pps: &[u8]) -> Vec<u8> {
        let mut r = vec![1, sps[1], sps[2], sps[3], 0xff, 0xe1];
        r.extend_from_slice(&(sps.len() as u16).to_be_bytes());
        r.extend_from_slice(sps);
        r.push(1);
        r.extend_from_slice(&(pps.len() as u16).to_be_bytes());
        r.extend_from_slice(pps);
        r
    }

    const SPS: &[u8] = &[0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84];
    const PPS: &[u8] = &[0x68, 0xce, 0x3c, 0x80];

    #[test]
    fn reads_the_first_sps_and_pps() {
        let sets = parse_avcc(&record(SPS, PPS)).unwrap();
        assert_eq!(
            sets,
            ParameterSets::H264 {
                sps: Bytes::from_static(SPS),
                pps: Bytes::from_static(PPS)
            }
        );
    }

    #[test]
    fn takes_the_first_of_several_and_ignores_trailing_extensions() {
        let mut r = vec![1, 0x64, 0, 0x1f, 0xff, 0xe2];
        for sps in [SPS, &[0x67, 9][..]] {
            r.extend_from_slice(&(sps.len() as u16).to_be_bytes());
            r.extend_from_slice(sps);
        }
        r.push(2);
        for pps in [PPS, &[0x68, 7][..]] {
            r.extend_from_slice(&(pps.len() as u16).to_be_bytes());
            r.extend_from_slice(pps);
        }
        // High-profile extension: chroma format, bit depths, no SPS ext.
        r.extend_from_slice(&[0xfd, 0xf8, 0xf8, 0]);
        let ParameterSets::H264 { sps, pps } = parse_avcc(&r).unwrap() else {
            panic!("not H.264");
        };
        assert_eq!((&sps[..], &pps[..]), (SPS, PPS));
    }

    #[test]
    fn refuses_what_frames_cannot_use() {
        let good = record(SPS, PPS);
        let mut v2 = good.clone();
        v2[0] = 2;
        assert_eq!(parse_avcc(&v2), Err(AvccError::Version(2)));
        let mut short_lengths = good.clone();
        short_lengths[4] = 0xfd;
        assert_eq!(parse_avcc(&short_lengths), Err(AvccError::LengthSize(2)));
        let mut no_sps = good.clone();
        no_sps[5] = 0xe0;
        assert!(parse_avcc(&no_sps).is_err());
        let no_pps = &good[..good.len() - PPS.len() - 3];
        let mut no_pps = no_pps.to_vec();
        no_pps.push(0);
        assert_eq!(parse_avcc(&no_pps), Err(AvccError::Missing("PPS")));
        assert_eq!(parse_avcc(&[]), Err(AvccError::Truncated { at: 0, len: 0 }));
    }

    #[test]
    fn every_truncation_is_refused_without_panicking() {
        let good = record(SPS, PPS);
        for len in 0..good.len() {
            assert!(parse_avcc(&good[..len]).is_err(), "{len}");
        }
    }

    #[test]
    fn the_record_written_reads_back() {
        let sps = [0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02];
        let pps = [0x68, 0xce, 0x3c, 0x80];
        let record = avcc_record(&sps, &pps).unwrap();
        assert_eq!(&record[..5], &[1, 0x42, 0xc0, 0x1e, 0xff]);
        assert_eq!(
            parse_avcc(&record).unwrap(),
            ParameterSets::H264 {
                sps: Bytes::copy_from_slice(&sps),
                pps: Bytes::copy_from_slice(&pps)
            }
        );
        assert_eq!(avcc_record(&[0x67], &pps), None);
    }
}
