//! The alarm's first picture: one keyframe decoded and encoded as JPEG,
//! sent ahead of the clip so the hub shows a picture within seconds. Only
//! that keyframe is decoded (it needs no other frame); the clip itself is
//! never re-encoded. Blocking: run it off the async runtime.
//!
//! ```text
//! appsrc (the keyframe, caps as the clip writer's) → h264parse → avdec_h264
//! appsrc (the keyframe, caps as the clip writer's) → h265parse → avdec_h265
//!   → videoscale (down only) → videoconvert → jpegenc → appsink
//!
//! Scaling comes first, so only the decoder holds full-size pictures.
//! ```

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

use super::frame::{Codec, Frame};
use super::mp4::codec_caps;

/// Why no thumbnail was made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// Only a keyframe can be decoded on its own.
    #[error("a thumbnail is made from a keyframe; this frame is not one")]
    NotKeyframe,
    /// GStreamer failed.
    #[error("making a thumbnail: {0}")]
    Pipeline(String),
}

/// JPEG bytes of `keyframe`, at most `max_width` pixels wide (scaled down
/// keeping the aspect ratio; never up), quality 0-100.
pub fn jpeg(keyframe: &Frame, max_width: u32, quality: u8) -> Result<Vec<u8>, ThumbnailError> {
    if !keyframe.is_key() {
        return Err(ThumbnailError::NotKeyframe);
    }
    // One at a time across cameras: a decoder's full-size pictures are the
    // largest thing a unit allocates (~19 MB at 1080p), and an alarm asks
    // every camera for a thumbnail at once. Each takes milliseconds.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(params) = keyframe.parameter_sets() else {
        return Err(ThumbnailError::NotKeyframe);
    };
    let failed = |e: &dyn std::fmt::Display| ThumbnailError::Pipeline(e.to_string());
    gst::init().map_err(|e| failed(&e))?;
    let (caps, parser) = codec_caps(params).map_err(ThumbnailError::Pipeline)?;
    let decoder = match params.codec() {
        Codec::H264 => "avdec_h264",
        Codec::H265 => "avdec_h265",
    };
    let source = gst_app::AppSrc::builder()
        .caps(&caps)
        .format(gst::Format::Time)
        .is_live(false)
        .build();
    let make = |name: &str| {
        gst::ElementFactory::make(name)
            .build()
            .map_err(|e| ThumbnailError::Pipeline(format!("{name}: {e}")))
    };
    let parse = make(parser)?;
    let decode = make(decoder)?;
    // One picture: no frame threads (each would hold its own decoder
    // state and pictures, tens of MB at 1080p for nothing).
    decode.set_property("max-threads", 1i32);
    let convert = make("videoconvert")?;
    let scale = make("videoscale")?;
    let encode = make("jpegenc")?;
    encode.set_property("quality", i32::from(quality.min(100)));
    let sink = gst_app::AppSink::builder().sync(false).build();
    let pipeline = gst::Pipeline::new();
    pipeline
        .add_many([
            source.upcast_ref(),
            &parse,
            &decode,
            &convert,
            &scale,
            &encode,
            sink.upcast_ref(),
        ])
        .map_err(|e| failed(&e))?;
    gst::Element::link_many([source.upcast_ref(), &parse, &decode, &scale])
        .map_err(|e| failed(&e))?;
    // Scale down only: the decoded size is known once decoding starts, so
    // cap the width and let the height follow the aspect ratio.
    let limit = gst::Caps::builder("video/x-raw")
        .field("width", gst::IntRange::new(1, max_width.max(16) as i32))
        .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
        .build();
    scale
        .link_filtered(&convert, &limit)
        .map_err(|e| failed(&e))?;
    convert.link(&encode).map_err(|e| failed(&e))?;
    encode.link(&sink).map_err(|e| failed(&e))?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| failed(&e))?;
    let mut buffer = gst::Buffer::from_slice(keyframe.data().clone());
    if let Some(b) = buffer.get_mut() {
        b.set_pts(gst::ClockTime::ZERO);
        b.set_dts(gst::ClockTime::ZERO);
    }
    let outcome = (|| {
        source.push_buffer(buffer).map_err(|e| failed(&e))?;
        source.end_of_stream().map_err(|e| failed(&e))?;
        let sample = sink
            .try_pull_sample(gst::ClockTime::from_seconds(10))
            .ok_or_else(|| ThumbnailError::Pipeline("no picture within 10 s".into()))?;
        let out = sample
            .buffer()
            .ok_or_else(|| ThumbnailError::Pipeline("an empty sample".into()))?
            .map_readable()
            .map_err(|e| failed(&e))?
            .to_vec();
        Ok(out)
    })();
    let _ = pipeline.set_state(gst::State::Null);
    outcome
}
