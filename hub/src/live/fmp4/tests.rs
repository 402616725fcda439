//! Box layout and timing of the fragmenter, on a real x264 SPS and PPS.
//! Decoding the result with real tools is in `hub/tests/live_fmp4.rs`.

use super::boxes::children;
use super::*;

/// x264 (GStreamer `x264enc`), High, level 2.0, 320x240.
const SPS: &[u8] = &[
    0x67, 0x64, 0x00, 0x14, 0xac, 0xb2, 0x02, 0x83, 0xf6, 0x02, 0xd4, 0x18, 0x18, 0x1a, 0x94, 0x00,
    0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0x7a, 0x3c, 0x50, 0xa9, 0x20,
];
const PPS: &[u8] = &[0x68, 0xeb, 0xcc, 0xb2, 0x2c];

fn at(millis: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_millis(millis)
}

/// An access unit of one NAL unit of `len` bytes of type `nal_type`.
fn access_unit(nal_type: u8, len: u32) -> Vec<u8> {
    let mut data = len.to_be_bytes().to_vec();
    data.push(0x60 | nal_type);
    data.resize(4 + len as usize, 0xab);
    data
}

fn key(millis: i64) -> MediaFrame {
    MediaFrame {
        codec: VideoCodec::H264,
        captured_at: at(millis),
        parameter_sets: vec![SPS.to_vec().into(), PPS.to_vec().into()],
        data: access_unit(5, 300).into(),
    }
}

fn delta(millis: i64) -> MediaFrame {
    MediaFrame {
        codec: VideoCodec::H264,
        captured_at: at(millis),
        parameter_sets: Vec::new(),
        data: access_unit(1, 40).into(),
    }
}

/// The one child of type `kind`.
fn child<'a>(parent: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
    let found: Vec<_> = children(parent)
        .into_iter()
        .filter(|(k, _)| k == kind)
        .collect();
    assert_eq!(found.len(), 1, "{}", String::from_utf8_lossy(kind));
    found[0].1
}

fn types(parent: &[u8]) -> Vec<String> {
    children(parent)
        .iter()
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect()
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// A media segment's fields: (sequence, decode time, data offset,
/// duration, size, flags, mdat body).
fn fields(media: &[u8]) -> (u32, u64, u32, u32, u32, u32, Vec<u8>) {
    assert_eq!(types(media), ["moof", "mdat"]);
    let moof = child(media, b"moof");
    assert_eq!(types(moof), ["mfhd", "traf"]);
    let traf = child(moof, b"traf");
    assert_eq!(types(traf), ["tfhd", "tfdt", "trun"]);
    let tfhd = child(traf, b"tfhd");
    assert_eq!(
        tfhd,
        [0, 2, 0, 0, 0, 0, 0, 1],
        "default-base-is-moof, track 1"
    );
    let tfdt = child(traf, b"tfdt");
    assert_eq!(tfdt[0], 1, "64-bit tfdt");
    let trun = child(traf, b"trun");
    assert_eq!(&trun[..8], [0, 0, 7, 1, 0, 0, 0, 1]);
    (
        be32(child(moof, b"mfhd"), 4),
        u64::from_be_bytes(tfdt[4..12].try_into().unwrap()),
        be32(trun, 8),
        be32(trun, 12),
        be32(trun, 16),
        be32(trun, 20),
        child(media, b"mdat").to_vec(),
    )
}

fn media_only(segment: Segment) -> Vec<u8> {
    match segment {
        Segment::Media(media) => media,
        Segment::Init { .. } => panic!("an init segment where none was due"),
    }
}

#[test]
fn the_init_segment_has_the_boxes_mse_needs() {
    let (init, codecs) = init_segment(&key(0)).unwrap();
    assert_eq!(codecs, "avc1.640014");
    assert_eq!(types(&init), ["ftyp", "moov"]);
    assert_eq!(&child(&init, b"ftyp")[..4], b"iso5");
    let moov = child(&init, b"moov");
    assert_eq!(types(moov), ["mvhd", "trak", "mvex"]);
    let trak = child(moov, b"trak");
    assert_eq!(types(trak), ["tkhd", "mdia"]);
    let tkhd = child(trak, b"tkhd");
    assert_eq!(be32(tkhd, 12), 1, "track id");
    assert_eq!(be32(tkhd, tkhd.len() - 8), 320 << 16);
    assert_eq!(be32(tkhd, tkhd.len() - 4), 240 << 16);
    let mdia = child(trak, b"mdia");
    assert_eq!(types(mdia), ["mdhd", "hdlr", "minf"]);
    assert_eq!(be32(child(mdia, b"mdhd"), 12), 90_000);
    assert_eq!(&child(mdia, b"hdlr")[8..12], b"vide");
    let minf = child(mdia, b"minf");
    assert_eq!(types(minf), ["vmhd", "dinf", "stbl"]);
    assert_eq!(types(child(minf, b"dinf")), ["dref"]);
    let stbl = child(minf, b"stbl");
    assert_eq!(types(stbl), ["stsd", "stts", "stsc", "stsz", "stco"]);
    for empty in [b"stts", b"stsc", b"stco"] {
        assert_eq!(child(stbl, empty), [0; 8]);
    }
    assert_eq!(child(stbl, b"stsz"), [0; 12]);
    let stsd = child(stbl, b"stsd");
    assert_eq!(be32(stsd, 4), 1);
    let avc1 = child(&stsd[8..], b"avc1");
    assert_eq!(&avc1[24..28], [1, 64, 0, 240], "width and height");
    let avcc = child(&avc1[78..], b"avcC");
    let mut want = vec![1, 0x64, 0x00, 0x14, 0xff, 0xe1, 0, SPS.len() as u8];
    want.extend_from_slice(SPS);
    want.extend_from_slice(&[1, 0, PPS.len() as u8]);
    want.extend_from_slice(PPS);
    want.extend_from_slice(&[0xfd, 0xf8, 0xf8, 0]);
    assert_eq!(avcc, want);
    let trex = child(child(moov, b"mvex"), b"trex");
    assert_eq!(
        trex,
        [
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        ]
    );
}

#[test]
fn each_frame_is_a_moof_and_mdat_whose_offset_finds_the_sample() {
    let mut f = Fragmenter::new();
    let Segment::Init { init, media } = f.push(&key(0)).unwrap() else {
        panic!("the first frame brings the init segment");
    };
    assert_eq!(init, InitSegment::new(&key(0)).unwrap());
    let (seq, _, offset, _, size, flags, mdat) = fields(&media);
    assert_eq!((seq, size, flags), (1, 304, SYNC_SAMPLE));
    assert_eq!(mdat, access_unit(5, 300));
    assert_eq!(&media[offset as usize..], access_unit(5, 300));
    let media = media_only(f.push(&delta(40)).unwrap());
    let (seq, _, offset, _, size, flags, _) = fields(&media);
    assert_eq!((seq, size, flags), (2, 44, NON_SYNC_SAMPLE));
    assert_eq!(&media[offset as usize..], access_unit(1, 40));
    // A keyframe with the same parameter sets needs no new init segment.
    let (seq, _, _, _, _, flags, _) = fields(&media_only(f.push(&key(80)).unwrap()));
    assert_eq!((seq, flags), (3, SYNC_SAMPLE));
}

#[test]
fn decode_times_follow_capture_and_durations_the_gap_before() {
    let mut f = Fragmenter::new();
    let Segment::Init { media, .. } = f.push(&key(0)).unwrap() else {
        panic!()
    };
    let (_, time, _, duration, ..) = fields(&media);
    assert_eq!((time, duration), (0, FIRST_DURATION));
    // 15 frames a second, 66.67 ms apart: the decode times stay exact to the
    // nearest tick, the durations are the gaps.
    let mut last = 0;
    for n in 1..=30i64 {
        let mut frame = delta(0);
        frame.captured_at = at(0) + SignedDuration::from_nanos(n * 1_000_000_000 / 15);
        let (_, time, _, duration, ..) = fields(&media_only(f.push(&frame).unwrap()));
        assert_eq!(time, n as u64 * 6000);
        assert_eq!(u64::from(duration), time - last);
        last = time;
    }
    assert_eq!(last, 180_000);
    // The unit's clock steps back an hour: the timeline goes on at the
    // last pace, then follows the new clock.
    let (_, time, _, duration, ..) = fields(&media_only(f.push(&delta(-3_600_000)).unwrap()));
    assert_eq!((time, duration), (186_000, 6000));
    let (_, time, _, duration, ..) = fields(&media_only(f.push(&delta(-3_599_900)).unwrap()));
    assert_eq!((time, duration), (195_000, 9000));
    // Two frames in the same instant still move forward.
    let (_, time, ..) = fields(&media_only(f.push(&delta(-3_599_900)).unwrap()));
    assert_eq!(time, 204_000);
    // A jump forward by more than MAX_GAP is a clock jump too.
    let (_, time, ..) = fields(&media_only(f.push(&delta(0)).unwrap()));
    assert_eq!(time, 213_000);
}

#[test]
fn a_stream_starts_at_a_keyframe() {
    let mut f = Fragmenter::new();
    let err = f.push(&delta(0)).unwrap_err();
    assert_eq!(err, Fmp4Error::NotKeyframe { at: at(0) });
    assert!(err.to_string().contains("starts at a keyframe"), "{err}");
    assert_eq!(
        init_segment(&delta(0)),
        Err(Fmp4Error::NotKeyframe { at: at(0) })
    );
    // Nothing changed: the next keyframe starts the stream.
    assert!(matches!(f.push(&key(40)).unwrap(), Segment::Init { .. }));
    let (_, time, ..) = fields(&media_only(f.push(&delta(80)).unwrap()));
    assert_eq!(time, 3600);
}

#[test]
fn hevc_is_refused() {
    let mut frame = key(0);
    frame.codec = VideoCodec::H265;
    let err = Fragmenter::new().push(&frame).unwrap_err();
    assert_eq!(err, Fmp4Error::UnsupportedCodec(VideoCodec::H265));
    assert!(err.to_string().contains("not HEVC"), "{err}");
    assert_eq!(init_segment(&frame), Err(err.clone()));
    // Mid-stream too.
    let mut f = Fragmenter::new();
    f.push(&key(0)).unwrap();
    frame.parameter_sets.clear();
    assert_eq!(f.push(&frame), Err(err));
}

#[test]
fn new_parameter_sets_bring_a_new_init_segment() {
    let mut f = Fragmenter::new();
    f.push(&key(0)).unwrap();
    f.push(&delta(40)).unwrap();
    // The same picture settings, but a new PPS.
    let mut changed = key(80);
    changed.parameter_sets[1] = vec![0x68, 0xeb, 0xcc, 0xb2, 0x2d].into();
    let Segment::Init { init, media } = f.push(&changed).unwrap() else {
        panic!("a new PPS needs a new init segment");
    };
    assert_eq!(init.codecs, "avc1.640014");
    // The timeline and the sequence numbers go on.
    let (seq, time, ..) = fields(&media);
    assert_eq!((seq, time), (3, 7200));
    assert!(matches!(f.push(&delta(120)).unwrap(), Segment::Media(_)));
    assert!(matches!(f.push(&changed).unwrap(), Segment::Media(_)));
    // And back to the first ones.
    assert!(matches!(f.push(&key(200)).unwrap(), Segment::Init { .. }));
}

#[test]
fn malformed_keyframes_and_access_units_are_refused() {
    let mut f = Fragmenter::new();
    let mut one_set = key(0);
    one_set.parameter_sets.pop();
    assert_eq!(f.push(&one_set), Err(Fmp4Error::ParameterSets { count: 1 }));
    let mut pps_for_sps = key(0);
    pps_for_sps.parameter_sets[0] = PPS.to_vec().into();
    assert!(matches!(f.push(&pps_for_sps), Err(Fmp4Error::Sps { .. })));
    let mut bad_pps = key(0);
    bad_pps.parameter_sets[1] = vec![0x65, 1].into();
    assert!(matches!(f.push(&bad_pps), Err(Fmp4Error::Pps { .. })));
    let mut annex_b = key(0);
    annex_b.data = vec![0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x10].into();
    assert!(matches!(
        f.push(&annex_b),
        Err(Fmp4Error::AccessUnit { .. })
    ));
    let mut empty = key(0);
    empty.data = Vec::new().into();
    assert!(matches!(f.push(&empty), Err(Fmp4Error::AccessUnit { .. })));
    // None of that started a stream.
    assert!(matches!(f.push(&key(0)).unwrap(), Segment::Init { .. }));
}
