//! Power-cut recovery of the unit's clips, on real files: real H.264 from
//! GStreamer's encoder (a test pattern, no camera needed), the recorder's
//! journal format, the unit's SQLite index, and FFmpeg's `ffprobe` to say
//! whether a recovered clip is a file players open.
//!
//! Each test lays out what a power cut can leave — a row `writing` with
//! its MP4 in place, with only a journal (torn at its end or not), with
//! nothing usable — runs `recover`, and checks that the index and the
//! directory agree afterwards.

use std::path::Path;
use std::process::Command;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use jiff::{SignedDuration, Timestamp};
use picket_agent::clips::quota::ClipState;
use picket_agent::clips::recovery::{journal_path, recover};
use picket_agent::store::Store;
use picket_agent::video::ingest::parse_avcc;
use picket_agent::video::journal::JournalWriter;
use picket_agent::video::mp4::ClipWriter;
use picket_agent::video::{Codec, Frame};
use picket_proto::ids::{CameraId, EventId};

const FRAMES: usize = 45;
const KEYINT: usize = 15;

/// `FRAMES` frames of a 320×240 H.264 test pattern at 15 fps, a keyframe
/// every `KEYINT`, as the ingest hands them over (AVC access units, each
/// keyframe with its parameter sets), stamped from `at`.
fn h264_frames(at: Timestamp) -> Vec<Frame> {
    let samples = pull_all(&format!(
        "videotestsrc num-buffers={FRAMES} ! video/x-raw,width=320,height=240,framerate=15/1 \
         ! x264enc key-int-max={KEYINT} tune=zerolatency threads=1 bitrate=300 \
         ! h264parse ! video/x-h264,stream-format=avc,alignment=au"
    ));
    let mut frames = Vec::new();
    for sample in samples {
        let caps = sample.caps().unwrap().structure(0).unwrap().to_owned();
        let record = caps.get::<gst::Buffer>("codec_data").unwrap();
        let params = parse_avcc(&record.map_readable().unwrap()).unwrap();
        let buffer = sample.buffer().unwrap();
        let data = bytes::Bytes::copy_from_slice(&buffer.map_readable().unwrap());
        let instant = at + SignedDuration::from_micros(66_667 * frames.len() as i64);
        frames.push(if buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) {
            Frame::delta(instant, Codec::H264, data)
        } else {
            Frame::key(instant, params, data)
        });
    }
    assert_eq!(frames.len(), FRAMES);
    assert!(frames[0].is_key() && frames[KEYINT].is_key());
    frames
}

/// Every sample the pipeline `description` (ending in an appsink it gets
/// added) produces, until its end.
fn pull_all(description: &str) -> Vec<gst::Sample> {
    gst::init().unwrap();
    let pipeline = gst::parse::launch(&format!("{description} ! appsink name=out sync=false"))
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let samples = std::iter::from_fn(|| sink.pull_sample().ok()).collect();
    pipeline.set_state(gst::State::Null).unwrap();
    samples
}

/// An instant as the index keeps it (milliseconds).
fn ms(t: Timestamp) -> Option<Timestamp> {
    Some(Timestamp::from_millisecond(t.as_millisecond()).unwrap())
}

/// Frames, streams and packets `ffprobe` counts in a file, or its complaint.
fn probe(path: &Path) -> Result<(String, usize), String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs (make test installs ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || text.is_empty() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let (codec, frames) = text.split_once(',').ok_or(text.clone())?;
    Ok((codec.to_string(), frames.parse().map_err(|_| text.clone())?))
}

struct Unit {
    _dir: tempfile::TempDir,
    clips: std::path::PathBuf,
    store: Store,
    camera: CameraId,
    at: Timestamp,
}

impl Unit {
    fn new() -> Unit {
        let dir = tempfile::tempdir().unwrap();
        let clips = dir.path().join("clips");
        std::fs::create_dir_all(&clips).unwrap();
        let store = Store::open(&dir.path().join("unit.db")).unwrap();
        Unit {
            _dir: dir,
            clips,
            store,
            camera: CameraId::from_uuid(uuid::Uuid::from_u128(0xca)),
            at: Timestamp::from_second(1_800_000_000).unwrap(),
        }
    }

    /// A row `writing` for a new clip (or thumbnail) of a new alarm.
    fn writing(&mut self, kind: &str, n: u128) -> (uuid::Uuid, EventId) {
        let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n);
        let alarm = EventId::from_uuid(uuid::Uuid::from_u128(0xa000 | n));
        self.store
            .clip_begin(id, alarm, self.camera, kind, self.at)
            .unwrap();
        (id, alarm)
    }

    fn file(&self, id: uuid::Uuid, ext: &str) -> std::path::PathBuf {
        self.clips.join(format!("{}.{ext}", id.simple()))
    }

    fn journal(&self, id: uuid::Uuid, frames: &[Frame]) -> std::path::PathBuf {
        let mut j = JournalWriter::create(journal_path(&self.clips, id)).unwrap();
        for f in frames {
            j.append(f).unwrap();
        }
        j.sync().unwrap();
        j.path().to_path_buf()
    }

    /// The directory's file names, sorted.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.clips)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

#[test]
fn a_clip_cut_off_mid_write_is_completed_from_its_journal_up_to_the_torn_frame() {
    let mut unit = Unit::new();
    let frames = h264_frames(unit.at);
    let (id, _) = unit.writing("clip", 1);
    let journal = unit.journal(id, &frames);
    // The power went while the 41st frame was being written: its record
    // is half there.
    let intact = 40;
    let mut cut = std::fs::read(&journal).unwrap();
    let mut at = 8;
    for _ in 0..intact {
        let len = u32::from_le_bytes(cut[at..at + 4].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    cut.truncate(at + 8 + 10);
    std::fs::write(&journal, &cut).unwrap();
    // The muxer's temporary file, as a cut leaves it (no index).
    std::fs::write(
        unit.clips.join(format!(".{}.mp4.partial", id.simple())),
        b"mdat",
    )
    .unwrap();

    let done = recover(&mut unit.store, &unit.clips).unwrap();

    assert_eq!(done.completed, vec![id]);
    assert!(done.discarded.is_empty());
    let mp4 = unit.file(id, "mp4");
    assert_eq!(probe(&mp4).unwrap(), ("h264".to_string(), intact));
    let rows = unit.store.clips().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, ClipState::Ready);
    assert_eq!(rows[0].bytes, std::fs::metadata(&mp4).unwrap().len());
    assert_eq!(rows[0].started_at, ms(frames[0].captured_at()));
    assert_eq!(rows[0].ended_at, ms(frames[intact - 1].captured_at()));
    // Only the clip is left: journal and partial file are gone.
    assert_eq!(unit.files(), vec![format!("{}.mp4", id.simple())]);
}

#[test]
fn the_recovered_clip_holds_the_journaled_frames_byte_for_byte() {
    let mut unit = Unit::new();
    let frames = h264_frames(unit.at);
    let (id, _) = unit.writing("clip", 2);
    unit.journal(id, &frames);
    recover(&mut unit.store, &unit.clips).unwrap();

    // Demux the MP4 and compare its samples with the frames.
    let samples: Vec<Vec<u8>> = pull_all(&format!(
        "filesrc location={} ! qtdemux ! video/x-h264",
        unit.file(id, "mp4").display()
    ))
    .iter()
    .map(|s| s.buffer().unwrap().map_readable().unwrap().to_vec())
    .collect();
    assert_eq!(samples.len(), frames.len());
    for (n, (sample, frame)) in samples.iter().zip(&frames).enumerate() {
        assert_eq!(&sample[..], &frame.data()[..], "frame {n}");
    }
}

#[test]
fn a_clip_whose_mp4_was_in_place_is_only_marked_ready() {
    let mut unit = Unit::new();
    let frames = h264_frames(unit.at);
    let (id, _) = unit.writing("clip", 3);
    // Written, synced and renamed; the power went before the index said so.
    let mut writer = ClipWriter::start(unit.file(id, "mp4"), &frames[..1]).unwrap();
    for f in &frames[1..] {
        writer.append(f).unwrap();
    }
    let written = writer.finish().unwrap();
    unit.journal(id, &frames);
    let before = std::fs::read(unit.file(id, "mp4")).unwrap();

    let done = recover(&mut unit.store, &unit.clips).unwrap();

    assert_eq!(done.completed, vec![id]);
    assert_eq!(std::fs::read(unit.file(id, "mp4")).unwrap(), before);
    let row = &unit.store.clips().unwrap()[0];
    assert_eq!((row.state, row.bytes), (ClipState::Ready, written.bytes));
    assert_eq!(row.ended_at, ms(frames[FRAMES - 1].captured_at()));
    assert_eq!(unit.files(), vec![format!("{}.mp4", id.simple())]);
}

#[test]
fn a_clip_with_nothing_usable_is_discarded_and_said_so() {
    let mut unit = Unit::new();
    let frames = h264_frames(unit.at);
    // Only delta frames made it (the keyframe's record is corrupt).
    let (id, alarm) = unit.writing("clip", 4);
    let journal = unit.journal(id, &frames[..10]);
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes[8 + 8 + 30] ^= 0x55;
    std::fs::write(&journal, &bytes).unwrap();
    // And one with no journal at all.
    let (bare, bare_alarm) = unit.writing("clip", 5);

    let done = recover(&mut unit.store, &unit.clips).unwrap();

    assert!(done.completed.is_empty());
    let mut discarded: Vec<_> = done
        .discarded
        .iter()
        .map(|d| (d.id, d.alarm, d.camera))
        .collect();
    discarded.sort();
    assert_eq!(
        discarded,
        vec![(id, alarm, unit.camera), (bare, bare_alarm, unit.camera)]
    );
    assert!(
        done.discarded
            .iter()
            .all(|d| d.reason.contains("unclean stop")),
        "{:?}",
        done.discarded
    );
    assert!(unit.store.clips().unwrap().is_empty());
    assert!(unit.files().is_empty(), "{:?}", unit.files());
}

#[test]
fn thumbnails_missing_rows_and_stray_files_are_reconciled() {
    let mut unit = Unit::new();
    // A thumbnail whose JPEG was renamed into place: kept.
    let (kept, _) = unit.writing("thumbnail", 6);
    std::fs::write(unit.file(kept, "jpg"), b"\xff\xd8jpeg").unwrap();
    // One whose JPEG never made it (its partial file did): dropped.
    let (lost, _) = unit.writing("thumbnail", 7);
    std::fs::write(unit.file(lost, "partial"), b"\xff\xd8").unwrap();
    // A ready clip whose file is gone: dropped and reported.
    let (gone, gone_alarm) = unit.writing("clip", 8);
    unit.store.clip_ready(gone, 1000, None, None).unwrap();
    // An uploaded clip with its file: untouched.
    let (uploaded, _) = unit.writing("clip", 9);
    std::fs::write(unit.file(uploaded, "mp4"), b"mp4").unwrap();
    unit.store.clip_ready(uploaded, 3, None, None).unwrap();
    unit.store.clip_uploaded(uploaded, unit.at).unwrap();
    // A file no row names.
    std::fs::write(unit.clips.join("0123.mp4"), b"orphan").unwrap();

    let done = recover(&mut unit.store, &unit.clips).unwrap();

    assert_eq!(done.completed, vec![kept]);
    assert_eq!(done.thumbnails_dropped, 1);
    assert_eq!(done.discarded.len(), 1);
    assert_eq!(
        (done.discarded[0].id, done.discarded[0].alarm),
        (gone, gone_alarm)
    );
    assert_eq!(done.files_removed, 2);
    let rows: Vec<_> = unit
        .store
        .clips()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.state))
        .collect();
    assert_eq!(
        rows,
        vec![(kept, ClipState::Ready), (uploaded, ClipState::Uploaded)]
    );
    let mut expected = vec![
        format!("{}.jpg", kept.simple()),
        format!("{}.mp4", uploaded.simple()),
    ];
    expected.sort();
    assert_eq!(unit.files(), expected);
    // A second pass finds nothing to do.
    assert_eq!(
        recover(&mut unit.store, &unit.clips).unwrap(),
        Default::default()
    );
}
