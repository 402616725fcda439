//! One camera's GStreamer pipeline: the launch description its media
//! factory builds, and the pad probe that stamps every raw frame.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_rtsp_server::RTSPMedia;
use gstreamer_rtsp_server::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::*;

use super::spec::{CameraSpec, Codec};
use super::stamp::{self, Stamp};

/// The source element's name in the launch description.
const SOURCE: &str = "src";
/// Rows kept free for the human-readable clock below the stamp: a camera
/// shorter than the stamp plus this gets no clock overlay.
const OVERLAY_ROOM: u32 = 48;

/// The elements a camera needs, with the Debian package that has them.
pub(super) fn elements(codec: Codec) -> &'static [(&'static str, &'static str)] {
    match codec {
        Codec::H264 => &[
            ("videotestsrc", "gstreamer1.0-plugins-base"),
            ("x264enc", "gstreamer1.0-plugins-ugly"),
            ("rtph264pay", "gstreamer1.0-plugins-good"),
        ],
        Codec::H265 => &[
            ("videotestsrc", "gstreamer1.0-plugins-base"),
            ("x265enc", "gstreamer1.0-plugins-bad"),
            ("rtph265pay", "gstreamer1.0-plugins-good"),
        ],
    }
}

/// The element drawing the human-readable clock, and its Debian package.
pub(super) const CLOCK_OVERLAY: (&str, &str) = ("clockoverlay", "gstreamer1.0-x");

/// Whether a camera of this size has room for the clock overlay below the
/// stamp.
pub(super) fn has_overlay_room(spec: &CameraSpec) -> bool {
    spec.height >= stamp::MIN_HEIGHT as u32 + OVERLAY_ROOM
}

/// The media factory's launch description: a live test picture, stamped
/// (by the probe [`attach_stamper`] adds on the source's pad), optionally
/// with a human-readable clock in the bottom-right corner, encoded with
/// keyframes exactly every `keyint` frames (no scene-cut keyframes) and
/// payloaded as `pay0`.
///
/// x264enc offsets its timestamps by 1000 hours (room for negative DTS);
/// the payloader's RTP timestamps follow running time, so the offset never
/// reaches clients.
pub(super) fn launch(spec: &CameraSpec, clock_overlay: bool) -> String {
    let CameraSpec {
        width,
        height,
        fps,
        bitrate_kbit,
        keyint,
        codec,
        noise,
        ..
    } = spec;
    let pattern = if *noise { "snow" } else { "ball" };
    let overlay = if clock_overlay {
        "clockoverlay halignment=right valignment=bottom shaded-background=true \
         time-format=\"%Y-%m-%d %H:%M:%S %Z\" ! "
    } else {
        ""
    };
    let encode = match codec {
        // Constrained baseline: without it x264enc picks High 4:4:4 and
        // browsers cannot play the stream. One thread, so one slice per
        // picture: zerolatency's sliced threads split pictures into slices,
        // and rtph264pay (config-interval=-1) then puts SPS/PPS before every
        // IDR *slice*, between a picture's slices, where FFmpeg takes them
        // for a new picture and decodes garbage.
        Codec::H264 => format!(
            "x264enc tune=zerolatency speed-preset=ultrafast threads=1 bitrate={bitrate_kbit} \
             key-int-max={keyint} option-string=scenecut=0 ! \
             video/x-h264,profile=constrained-baseline ! \
             rtph264pay name=pay0 pt=96 config-interval=-1"
        ),
        // Closed GOPs: every keyframe is an IDR a clip can start from.
        Codec::H265 => format!(
            "x265enc tune=zerolatency speed-preset=ultrafast bitrate={bitrate_kbit} \
             key-int-max={keyint} option-string=scenecut=0:open-gop=0 ! \
             video/x-h265,profile=main ! \
             rtph265pay name=pay0 pt=96 config-interval=-1"
        ),
    };
    format!(
        "( videotestsrc name={SOURCE} is-live=true pattern={pattern} ! \
         video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 ! \
         {overlay}{encode} )"
    )
}

/// Adds the stamping probe to a newly built media of `spec`'s camera: every
/// raw frame gets its capture instant and its number (from 0 for this
/// media) painted in, before anything else touches it.
pub(super) fn attach_stamper(media: &RTSPMedia, spec: &CameraSpec) -> Result<(), String> {
    let bin = media
        .element()
        .downcast::<gst::Bin>()
        .map_err(|_| "the media's element is not a bin".to_owned())?;
    let source = bin
        .by_name(SOURCE)
        .ok_or_else(|| format!("no element named {SOURCE:?} in the pipeline"))?;
    let pad = source
        .static_pad("src")
        .ok_or_else(|| "the source has no src pad".to_owned())?;
    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, spec.width, spec.height)
        .fps(gst::Fraction::new(spec.fps as i32, 1))
        .build()
        .map_err(|e| format!("video info: {e}"))?;
    let (width, height) = (spec.width as usize, spec.height as usize);
    let camera = spec.name.clone();
    let next_frame = AtomicU32::new(0);
    let warned = AtomicBool::new(false);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, probe| {
        let Some(gst::PadProbeData::Buffer(buffer)) = probe.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let frame = next_frame.fetch_add(1, Ordering::Relaxed);
        let unix_ms = capture_unix_ms(pad, buffer.pts());
        let painted = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer.make_mut(), &info)
            .map_err(|e| e.to_string())
            .and_then(|mut video| {
                let stride = usize::try_from(video.plane_stride()[0])
                    .map_err(|_| "negative stride".to_owned())?;
                let y = video.plane_data_mut(0).map_err(|e| e.to_string())?;
                stamp::paint(y, stride, width, height, Stamp { unix_ms, frame })
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = painted
            && !warned.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(%camera, frame, error = %e, "could not stamp a frame (warned once)");
        }
        gst::PadProbeReturn::Ok
    })
    .ok_or_else(|| "could not add the stamping probe".to_owned())?;
    Ok(())
}

/// The wall-clock instant of a frame with timestamp `pts` on `pad`: the
/// moment the pipeline clock showed the frame's running time, read back
/// from the clock now, so consecutive frames are exactly 1/fps apart
/// whatever the scheduling. Falls back to now if the pipeline cannot tell.
fn capture_unix_ms(pad: &gst::Pad, pts: Option<gst::ClockTime>) -> u64 {
    let at_pipeline_clock = || -> Option<u64> {
        let element = pad.parent_element()?;
        let clock = element.clock()?;
        let base = element.base_time()?;
        let segment = pad.sticky_event::<gst::event::Segment>(0)?;
        let running = segment
            .segment()
            .downcast_ref::<gst::format::Time>()?
            .to_running_time(pts?)?;
        let captured = base.checked_add(running)?.nseconds();
        // Read the wall clock between two readings of the pipeline clock,
        // and retry if something ran in between.
        for _ in 0..3 {
            let before = clock.time().nseconds();
            let wall = unix_ns(SystemTime::now());
            let after = clock.time().nseconds();
            if after.saturating_sub(before) < 1_000_000 {
                let now = before / 2 + after / 2;
                return Some(wall_ms(captured, now, wall));
            }
        }
        None
    };
    at_pipeline_clock().unwrap_or_else(|| wall_ms(0, 0, unix_ns(SystemTime::now())))
}

fn unix_ns(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos())
}

/// Milliseconds since the epoch at pipeline-clock time `captured`, given
/// that the clock read `now` at wall-clock `wall_ns`.
fn wall_ms(captured: u64, now: u64, wall_ns: u128) -> u64 {
    let at = wall_ns as i128 - (i128::from(now) - i128::from(captured));
    u64::try_from(at.max(0) / 1_000_000).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_is_counted_back_from_now() {
        let wall = 1_767_225_600_000_000_000u128; // 2026-01-01, in ns
        assert_eq!(
            wall_ms(5_000_000_000, 5_250_000_000, wall),
            1_767_225_599_750
        );
        // A frame the clock has not reached yet (the source runs ahead).
        assert_eq!(
            wall_ms(5_010_000_000, 5_000_000_000, wall),
            1_767_225_600_010
        );
    }

    #[test]
    fn launch_constrains_the_profile_and_the_keyframes() {
        let spec: CameraSpec = "north:320x240@10,bitrate=300,keyint=5".parse().unwrap();
        let text = launch(&spec, false);
        assert!(
            text.contains("width=320,height=240,framerate=10/1"),
            "{text}"
        );
        assert!(text.contains("profile=constrained-baseline"), "{text}");
        assert!(
            text.contains("key-int-max=5 option-string=scenecut=0"),
            "{text}"
        );
        assert!(text.contains("rtph264pay name=pay0"), "{text}");
        assert!(!text.contains("clockoverlay"), "{text}");
        assert!(launch(&spec, true).contains("clockoverlay"));
        let hevc: CameraSpec = "south,codec=h265".parse().unwrap();
        assert!(launch(&hevc, false).contains("x265enc"));
    }
}
