//! One clip file from a [`ClipPlan`](super::ClipPlan)'s actions: the
//! frames as MP4 samples, never re-encoded.
//!
//! ```text
//! appsrc (video/x-h264, avc, au, codec_data = avcC of the first keyframe)
//!   → h264parse → mp4mux faststart=true → filesink (a temporary file)
//! appsrc (video/x-h265, hvc1, au, width, height, codec_data = hvcC of the
//!   first keyframe) → mp4mux faststart=true → filesink (a temporary file)
//! ```
//!
//! The sample entry is `avc1` with an avcC record, or `hvc1` with an hvcC
//! record ([`hvcc_record`]), for the codec of the clip's first keyframe.
//!
//! - `Start` → [`ClipWriter::start`]: the temporary file `.NAME.partial`
//!   next to the final path, and the first frames (from a keyframe).
//! - `Append` → [`ClipWriter::append`].
//! - `Finish` → [`ClipWriter::finish`]: end of stream, wait for the muxer
//!   to write the index, fsync, rename into place (atomic), fsync the
//!   directory. A writer dropped unfinished removes its temporary file.
//!
//! **Timing.** A sample's PTS = DTS = its frame's capture instant minus the
//! clip's first frame's; its duration is the next frame's instant minus its
//! own (so a frame is pushed only once the next one is known), and the last
//! frame repeats the duration before it. `h264parse` only reads the access
//! units (it fills in size and profile for the sample entry); their bytes
//! go into the file as they are. H.265 has no parser in between:
//! `h265parse` would replace [`hvcc_record`]'s record with its own, whose
//! arrays are not marked complete as an `hvc1` entry requires, so the caps
//! carry the picture size read from the SPS instead. (The ingest's
//! `h265parse` keeps VPS/SPS/PPS out of the access units, so they are
//! only in the sample entry, as `hvc1` wants.)
//!
//! The calls block (the muxer and the disk): run a writer on a blocking
//! thread.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use jiff::Timestamp;

use super::avcc::avcc_record;
use super::frame::{Codec, Frame, ParameterSets};
pub use super::hvcc::hvcc_record;
use super::hvcc::picture_size;

/// Why a clip could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Mp4Error {
    /// GStreamer could not be initialised or an element is missing.
    #[error("GStreamer: {0}")]
    Init(String),
    /// A clip must start with a keyframe carrying parameter sets.
    #[error("a clip must start with a keyframe (got {0} frames, the first not a keyframe)")]
    NoKeyframe(usize),
    /// The pipeline refused a state change or a frame.
    #[error("writing {path}: {detail}")]
    Pipeline {
        /// The clip's final path.
        path: PathBuf,
        /// What GStreamer said.
        detail: String,
    },
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A finished clip file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenClip {
    /// Where it is (the final path).
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// How many frames it holds.
    pub frames: u64,
}

/// The longest wait for the muxer to finish the file.
const EOS_WAIT: Duration = Duration::from_secs(20);

/// One clip being written.
#[derive(Debug)]
pub struct ClipWriter {
    pipeline: gst::Pipeline,
    source: gst_app::AppSrc,
    partial: PathBuf,
    path: PathBuf,
    first_at: Timestamp,
    /// The last frame taken, pushed once the next one gives its duration.
    pending: Option<Frame>,
    last_duration: u64,
    frames: u64,
    done: bool,
}

impl ClipWriter {
    /// Opens the clip that will end up at `path` with its first frames
    /// (`ClipStart::frames`: from a keyframe, in stream order).
    pub fn start(path: impl Into<PathBuf>, frames: &[Frame]) -> Result<ClipWriter, Mp4Error> {
        let path = path.into();
        let first = frames
            .first()
            .filter(|f| f.is_key())
            .ok_or(Mp4Error::NoKeyframe(frames.len()))?;
        let Some(params) = first.parameter_sets() else {
            return Err(Mp4Error::NoKeyframe(frames.len()));
        };
        gst::init().map_err(|e| Mp4Error::Init(e.to_string()))?;
        let (caps, parser) = codec_caps(params).map_err(|detail| Mp4Error::Pipeline {
            path: path.clone(),
            detail,
        })?;
        let partial = partial_path(&path);
        let failed = |detail: String| Mp4Error::Pipeline {
            path: path.clone(),
            detail,
        };
        let source = gst_app::AppSrc::builder()
            .caps(&caps)
            .format(gst::Format::Time)
            .is_live(false)
            .block(true)
            .max_bytes(8 << 20)
            .build();
        let make = |name: &str| {
            gst::ElementFactory::make(name)
                .build()
                .map_err(|e| Mp4Error::Init(format!("{name}: {e}")))
        };
        // H.265 goes to the muxer without h265parse: it would replace the
        // hvcC record with its own, whose arrays are not marked complete
        // as an `hvc1` sample entry requires. The caps carry the size.
        let parse = match params.codec() {
            Codec::H264 => Some(make(parser)?),
            Codec::H265 => None,
        };
        let mux = make("mp4mux")?;
        mux.set_property("faststart", true);
        // Its temporary copy of the samples goes next to the clip, not to
        // /tmp (a unit's /tmp may be RAM; a power cut would leave it there,
        // where recovery does not look).
        mux.set_property(
            "faststart-file",
            partial
                .with_extension("faststart")
                .to_string_lossy()
                .as_ref(),
        );
        let sink = make("filesink")?;
        sink.set_property("location", partial.to_string_lossy().as_ref());
        let pipeline = gst::Pipeline::new();
        pipeline
            .add_many([source.upcast_ref(), &mux, &sink])
            .map_err(|e| failed(e.to_string()))?;
        let into_mux = match &parse {
            Some(parse) => {
                pipeline.add(parse).map_err(|e| failed(e.to_string()))?;
                source.link(parse).map_err(|e| failed(e.to_string()))?;
                parse
            }
            None => source.upcast_ref(),
        };
        // The muxer's video pad by name: linking by caps alone may pick an
        // audio pad for an appsrc.
        let video_pad = mux
            .request_pad_simple("video_%u")
            .ok_or_else(|| failed("mp4mux gave no video pad".into()))?;
        into_mux
            .static_pad("src")
            .ok_or_else(|| failed("no src pad before the muxer".into()))?
            .link(&video_pad)
            .map_err(|e| failed(format!("linking the muxer: {e}")))?;
        mux.link(&sink).map_err(|e| failed(e.to_string()))?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| failed(format!("starting: {e}")))?;
        let mut writer = ClipWriter {
            pipeline,
            source,
            partial,
            path,
            first_at: first.captured_at(),
            pending: None,
            last_duration: 0,
            frames: 0,
            done: false,
        };
        for frame in frames {
            writer.append(frame)?;
        }
        Ok(writer)
    }

    /// Adds the next frame.
    pub fn append(&mut self, frame: &Frame) -> Result<(), Mp4Error> {
        if let Some(previous) = self.pending.take() {
            let duration = nanos_between(previous.captured_at(), frame.captured_at());
            self.push(&previous, duration)?;
            self.last_duration = duration;
        }
        self.pending = Some(frame.clone());
        Ok(())
    }

    /// Ends the file and moves it into place.
    pub fn finish(mut self) -> Result<WrittenClip, Mp4Error> {
        if let Some(last) = self.pending.take() {
            self.push(&last, self.last_duration)?;
        }
        let _ = self.source.end_of_stream();
        let bus = self.pipeline.bus().ok_or_else(|| self.failed("no bus"))?;
        let message = bus.timed_pop_filtered(
            gst::ClockTime::from_nseconds(EOS_WAIT.as_nanos() as u64),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        let outcome = match message.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Eos(_)) => Ok(()),
            Some(gst::MessageView::Error(e)) => Err(self.failed(&e.error().to_string())),
            _ => Err(self.failed("the muxer did not finish in time")),
        };
        let _ = self.pipeline.set_state(gst::State::Null);
        outcome?;
        let io = |what: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| Mp4Error::Io { what, path, source }
        };
        File::open(&self.partial)
            .and_then(|f| f.sync_all())
            .map_err(io("syncing", &self.partial))?;
        std::fs::rename(&self.partial, &self.path).map_err(io("renaming into", &self.path))?;
        self.done = true;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io("syncing directory", dir))?;
        }
        let bytes = std::fs::metadata(&self.path)
            .map_err(io("reading", &self.path))?
            .len();
        Ok(WrittenClip {
            path: self.path.clone(),
            bytes,
            frames: self.frames,
        })
    }

    fn push(&mut self, frame: &Frame, duration: u64) -> Result<(), Mp4Error> {
        let pts = nanos_between(self.first_at, frame.captured_at());
        let mut buffer = gst::Buffer::from_slice(frame.data().clone());
        {
            let Some(b) = buffer.get_mut() else {
                return Err(self.failed("a fresh buffer is not writable"));
            };
            b.set_pts(gst::ClockTime::from_nseconds(pts));
            b.set_dts(gst::ClockTime::from_nseconds(pts));
            b.set_duration(gst::ClockTime::from_nseconds(duration));
            if !frame.is_key() {
                b.set_flags(gst::BufferFlags::DELTA_UNIT);
            }
        }
        self.source
            .push_buffer(buffer)
            .map_err(|e| self.failed(&format!("pushing frame {}: {e:?}", self.frames)))?;
        self.frames += 1;
        Ok(())
    }

    fn failed(&self, detail: &str) -> Mp4Error {
        Mp4Error::Pipeline {
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }
}

impl Drop for ClipWriter {
    /// An unfinished clip leaves no file behind.
    fn drop(&mut self) {
        if !self.done {
            let _ = self.pipeline.set_state(gst::State::Null);
            let _ = std::fs::remove_file(&self.partial);
            let _ = std::fs::remove_file(self.partial.with_extension("faststart"));
        }
    }
}

/// The caps of a stream whose keyframe carries `params` (length-prefixed
/// access units with the avcC or hvcC record as `codec_data`; for H.265
/// also the picture size, which the muxer needs without a parser), and
/// the parser that reads it. `Err` if the parameter sets fit no record.
pub(crate) fn codec_caps(params: &ParameterSets) -> Result<(gst::Caps, &'static str), String> {
    let (media, format, record, parser) = match params {
        ParameterSets::H264 { sps, pps } => {
            let record = avcc_record(sps, pps)
                .ok_or_else(|| "parameter sets do not fit an avcC record".to_string())?;
            ("video/x-h264", "avc", record, "h264parse")
        }
        ParameterSets::H265 { vps, sps, pps } => {
            let record = hvcc_record(vps, sps, pps).map_err(|e| e.to_string())?;
            ("video/x-h265", "hvc1", record, "h265parse")
        }
    };
    let mut caps = gst::Caps::builder(media)
        .field("stream-format", format)
        .field("alignment", "au")
        .field("codec_data", gst::Buffer::from_mut_slice(record));
    if let ParameterSets::H265 { sps, .. } = params {
        let (width, height) = picture_size(sps).map_err(|e| e.to_string())?;
        let size = |n: u32| i32::try_from(n).map_err(|_| format!("a picture {n} pixels wide"));
        caps = caps
            .field("width", size(width)?)
            .field("height", size(height)?);
    }
    Ok((caps.build(), parser))
}

/// `.NAME.partial` in the final path's directory.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "clip".into());
    path.with_file_name(format!(".{name}.partial"))
}

/// Nanoseconds from `from` to `to`, 0 if `to` is earlier.
fn nanos_between(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from(to.duration_since(from).as_nanos()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn the_partial_file_sits_next_to_the_clip() {
        assert_eq!(
            partial_path(Path::new("/clips/a.mp4")),
            Path::new("/clips/.a.mp4.partial")
        );
    }

    #[test]
    fn a_clip_must_start_with_a_keyframe() {
        let at = Timestamp::from_second(1_700_000_000).unwrap();
        let delta = Frame::delta(
            at,
            crate::video::Codec::H264,
            Bytes::from_static(&[0, 0, 0, 1, 0x41]),
        );
        assert!(matches!(
            ClipWriter::start("/nonexistent/x.mp4", &[delta]),
            Err(Mp4Error::NoKeyframe(1))
        ));
        assert!(matches!(
            ClipWriter::start("/nonexistent/x.mp4", &[]),
            Err(Mp4Error::NoKeyframe(0))
        ));
    }
}
