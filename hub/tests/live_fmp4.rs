//! Fragmented MP4 for live view, checked with real tools: GStreamer's
//! x264 encodes test video, the test splits it into access units as a
//! unit would send them, `picket_hub::live::fmp4` writes init segment and
//! fragments, and ffprobe and ffmpeg must decode every frame.

use std::path::Path;
use std::process::Command;

use jiff::{SignedDuration, Timestamp};
use picket_hub::live::fmp4::{Fragmenter, Segment, Sps, init_segment};
use picket_proto::media::{MediaFrame, VideoCodec};

/// An H.264 access unit split from an Annex B stream.
struct AccessUnit {
    /// NAL units without start codes.
    nals: Vec<Vec<u8>>,
}

impl AccessUnit {
    fn of_type(&self, t: u8) -> Option<&Vec<u8>> {
        self.nals.iter().find(|n| n[0] & 0x1f == t)
    }
}

/// Encodes `frames` frames of test video with x264 and returns the Annex B
/// byte stream. `caps` follows `video/x-h264,` (profile and such);
/// `options` are x264enc properties.
fn encode(dir: &Path, width: u32, height: u32, frames: u32, options: &str, caps: &str) -> Vec<u8> {
    let out = dir.join(format!("{width}x{height}.h264"));
    let pipeline = format!(
        "videotestsrc num-buffers={frames} pattern=ball ! \
         video/x-raw,format=I420,width={width},height={height},framerate=15/1 ! \
         x264enc threads=1 bframes=0 {options} ! video/x-h264,{caps} ! h264parse ! \
         video/x-h264,stream-format=byte-stream,alignment=au ! filesink location={}",
        out.display()
    );
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .expect("gst-launch-1.0 runs");
    assert!(status.success(), "{pipeline}");
    std::fs::read(out).unwrap()
}

/// Splits an Annex B stream at its start codes into NAL units.
fn nal_units(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let mut end = starts.get(n + 1).map_or(stream.len(), |next| next - 3);
            // A four-byte start code's leading zero, or trailing zeros.
            while end > start && stream[end - 1] == 0 {
                end -= 1;
            }
            stream[start..end].to_vec()
        })
        .collect()
}

/// Groups NAL units into access units: one begins at an AUD, SPS, PPS or
/// SEI after a picture, or at a slice whose first_mb_in_slice is 0.
fn access_units(stream: &[u8]) -> Vec<AccessUnit> {
    let mut units: Vec<AccessUnit> = Vec::new();
    let mut has_picture = false;
    for nal in nal_units(stream) {
        let t = nal[0] & 0x1f;
        let slice = t == 1 || t == 5;
        let first_slice = slice && nal.get(1).is_some_and(|b| b & 0x80 != 0);
        let starts = units.is_empty() || (has_picture && (matches!(t, 6..=9) || first_slice));
        if starts {
            units.push(AccessUnit { nals: Vec::new() });
            has_picture = false;
        }
        has_picture |= slice;
        units.last_mut().unwrap().nals.push(nal);
    }
    units
}

/// The media frames a unit would send: 15 frames a second from an odd
/// instant, keyframes with their SPS and PPS, and the picture's NAL units
/// (no AUD, SPS or PPS) with 4-byte lengths.
fn media_frames(units: &[AccessUnit]) -> Vec<MediaFrame> {
    let start =
        Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_nanos(123_456_789);
    units
        .iter()
        .enumerate()
        .map(|(n, unit)| {
            let parameter_sets = if unit.of_type(5).is_some() {
                let sps = unit.of_type(7).expect("x264 repeats the SPS at an IDR");
                let pps = unit.of_type(8).expect("and the PPS");
                vec![sps.clone().into(), pps.clone().into()]
            } else {
                Vec::new()
            };
            let mut data = Vec::new();
            for nal in unit.nals.iter().filter(|n| !matches!(n[0] & 0x1f, 7..=9)) {
                data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                data.extend_from_slice(nal);
            }
            MediaFrame {
                codec: VideoCodec::H264,
                captured_at: start + SignedDuration::from_nanos(n as i64 * 1_000_000_000 / 15),
                parameter_sets,
                data: data.into(),
            }
        })
        .collect()
}

/// Writes the frames as fragmented MP4 to `path`; returns the codecs
/// string.
fn write_fmp4(path: &Path, frames: &[MediaFrame]) -> String {
    let mut fragmenter = Fragmenter::new();
    let mut file = Vec::new();
    let mut codecs = None;
    for frame in frames {
        match fragmenter.push(frame).unwrap() {
            Segment::Init { init, media } => {
                assert!(codecs.is_none(), "one init segment for one stream");
                file.extend_from_slice(&init.bytes);
                file.extend_from_slice(&media);
                codecs = Some(init.codecs);
            }
            Segment::Media(media) => file.extend_from_slice(&media),
        }
    }
    std::fs::write(path, file).unwrap();
    codecs.unwrap()
}

fn run(program: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(program).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{program} {args:?}: {stderr}");
    (stdout, stderr)
}

/// Encodes, fragments and checks that ffprobe and ffmpeg decode all
/// frames at the right size.
fn round_trip(width: u32, height: u32, options: &str, caps: &str, profile: &str) {
    let dir = tempfile::tempdir().unwrap();
    let frames = 45;
    let units = access_units(&encode(dir.path(), width, height, frames, options, caps));
    assert_eq!(units.len(), frames as usize);
    let media = media_frames(&units);
    assert_eq!(media.iter().filter(|f| f.is_key()).count(), 3);
    let file = dir.path().join("live.mp4");
    let codecs = write_fmp4(&file, &media);
    let sps = Sps::parse(&media[0].parameter_sets[0]).unwrap();
    assert_eq!(
        (u32::from(sps.width), u32::from(sps.height)),
        (width, height)
    );
    assert_eq!(codecs, sps.codecs());
    let file = file.to_str().unwrap();
    let (probe, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,profile,width,height,nb_read_frames",
            "-of",
            "default=noprint_wrappers=1",
            file,
        ],
    );
    eprintln!("ffprobe {file}:\n{probe}");
    let want = format!(
        "codec_name=h264\nprofile={profile}\nwidth={width}\nheight={height}\nnb_read_frames={frames}\n"
    );
    assert_eq!(probe, want);
    // Packet timing: 15 a second from zero, keyframes every 15th.
    let (packets, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts,flags",
            "-of",
            "csv=p=0",
            file,
        ],
    );
    let packets: Vec<&str> = packets.lines().collect();
    assert_eq!(packets.len(), frames as usize);
    for (n, packet) in packets.iter().enumerate() {
        let key = if n % 15 == 0 { "K" } else { "_" };
        assert_eq!(*packet, format!("{},{key}_", n * 6000), "packet {n}");
    }
    let (_, errors) = run("ffmpeg", &["-v", "error", "-i", file, "-f", "null", "-"]);
    assert_eq!(errors, "", "ffmpeg decodes without errors");
    // A second demuxer and decoder: GStreamer's qtdemux and libav.
    let raw = dir.path().join("live.yuv");
    let pipeline = format!(
        "filesrc location={file} ! qtdemux ! h264parse ! avdec_h264 ! \
         video/x-raw,format=I420 ! filesink location={}",
        raw.display()
    );
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .unwrap();
    assert!(status.success(), "{pipeline}");
    let raw = std::fs::metadata(raw).unwrap().len();
    assert_eq!(
        raw,
        u64::from(frames * width * height * 3 / 2),
        "I420 frames"
    );
}

#[test]
fn high_profile_320x240_decodes_every_frame() {
    round_trip(320, 240, "key-int-max=15", "profile=high", "High");
}

#[test]
fn constrained_baseline_640x360_decodes_every_frame() {
    round_trip(
        640,
        360,
        "key-int-max=15",
        "profile=constrained-baseline",
        "Constrained Baseline",
    );
}

/// The SPS of the first access unit x264 makes with these settings.
fn x264_sps(width: u32, height: u32, options: &str, caps: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let units = access_units(&encode(dir.path(), width, height, 1, options, caps));
    units[0].of_type(7).unwrap().clone()
}

#[test]
fn sps_sizes_and_codecs_strings_from_x264() {
    // 1080 lines are coded as 1088 and cropped.
    let sps = x264_sps(1920, 1080, "", "profile=high");
    let parsed = Sps::parse(&sps).unwrap();
    assert_eq!((parsed.width, parsed.height), (1920, 1080));
    assert_eq!(parsed.profile_idc, 100);
    assert_eq!(
        parsed.codecs(),
        format!("avc1.64{:02X}{:02X}", sps[2], sps[3])
    );
    // High 4:4:4 (what x264enc picks unconstrained from Y444): chroma format 3.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("444.h264");
    let pipeline = format!(
        "videotestsrc num-buffers=1 ! video/x-raw,format=Y444,width=318,height=238 ! \
         x264enc ! video/x-h264,stream-format=byte-stream ! filesink location={}",
        out.display()
    );
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(pipeline.split_whitespace())
        .status()
        .unwrap();
    assert!(status.success());
    let units = access_units(&std::fs::read(out).unwrap());
    let sps = Sps::parse(units[0].of_type(7).unwrap()).unwrap();
    assert_eq!((sps.profile_idc, sps.chroma_format_idc), (244, 3));
    assert_eq!((sps.width, sps.height), (318, 238));
    assert_eq!(sps.codecs(), format!("avc1.F400{:02X}", sps.level_idc));
}

#[test]
fn the_init_segment_alone_probes_as_the_encoders_stream() {
    let dir = tempfile::tempdir().unwrap();
    let units = access_units(&encode(dir.path(), 1920, 1080, 1, "", "profile=main"));
    let frames = media_frames(&units);
    let (init, codecs) = init_segment(&frames[0]).unwrap();
    assert!(codecs.starts_with("avc1.4D"), "{codecs}");
    let file = dir.path().join("init.mp4");
    std::fs::write(&file, init).unwrap();
    let (probe, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "default=noprint_wrappers=1",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(probe, "codec_name=h264\nwidth=1920\nheight=1080\n");
}

#[test]
fn a_resolution_change_brings_a_new_init_segment_and_the_timeline_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let small = media_frames(&access_units(&encode(
        dir.path(),
        320,
        240,
        30,
        "key-int-max=15",
        "profile=high",
    )));
    let mut large = media_frames(&access_units(&encode(
        dir.path(),
        640,
        480,
        30,
        "key-int-max=15",
        "profile=high",
    )));
    // The larger stream follows the smaller one, 1/15 s after its last frame.
    for frame in &mut large {
        frame.captured_at += SignedDuration::from_secs(2);
    }
    let mut fragmenter = Fragmenter::new();
    let mut inits = Vec::new();
    let mut second = Vec::new();
    for (n, frame) in small.iter().chain(&large).enumerate() {
        match fragmenter.push(frame).unwrap() {
            Segment::Init { init, media } => {
                inits.push((n, init.sps.width, init.sps.height));
                second = init.bytes;
                second.extend_from_slice(&media);
            }
            Segment::Media(media) => second.extend_from_slice(&media),
        }
    }
    assert_eq!(inits, [(0, 320, 240), (30, 640, 480)]);
    // From the new init segment on, the fragments decode on their own, and
    // their decode times go on from the first stream's.
    let file = dir.path().join("second.mp4");
    std::fs::write(&file, second).unwrap();
    let file = file.to_str().unwrap();
    let (probe, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=width,height,nb_read_frames",
            "-of",
            "default=noprint_wrappers=1",
            file,
        ],
    );
    assert_eq!(probe, "width=640\nheight=480\nnb_read_frames=30\n");
    let (packets, _) = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "packet=dts",
            "-of",
            "csv=p=0",
            file,
        ],
    );
    assert_eq!(packets.lines().next(), Some("180000"));
    let (_, errors) = run("ffmpeg", &["-v", "error", "-i", file, "-f", "null", "-"]);
    assert_eq!(errors, "");
}
