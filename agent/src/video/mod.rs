//! Event video on the unit: encoded frames, the per-camera ring buffer of
//! the last seconds, which frames go into a clip, and the two GStreamer
//! ends that connect them to cameras and files.
//!
//! The core is pure (no IO, no clock, no GStreamer): [`ingest`] turns a
//! camera's RTSP stream into [`Frame`]s (parsed access units, never
//! re-encoded, stamped with the unit's clock on arrival) and they go, with
//! the alarms, to one [`ClipPlan`] per camera, whose [`Action`]s an
//! [`mp4::ClipWriter`] turns into a fast-start MP4 written to a temporary
//! file, synced and renamed into place. Every instant in the core is an
//! argument, so its tests drive simulated streams; `agent/tests/video_clip.rs`
//! drives the whole chain against `picket-sim camera`.
//!
//! - [`frame`]: an access unit — capture instant, codec, keyframe with its
//!   parameter sets, payload as shared [`bytes::Bytes`] — and the rule for
//!   when a frame does not continue the stream before it ([`Discontinuity`]).
//! - [`ring`]: the last `pre_roll` seconds of one camera, whole GOPs from a
//!   keyframe, under a hard byte bound ([`RingLimits`]).
//! - [`clip_plan`]: alarms and frames in, "start a clip with these frames /
//!   append this frame / finish" out ([`ClipRules`]: pre-roll, post-roll,
//!   the longest clip).
//! - [`hvcc`]: the H.265 decoder configuration record (read from the
//!   camera's caps, written into `hvc1` sample entries); H.264's avcC is
//!   read in [`ingest`] and written in [`mp4`].
//!
//! H.264 and H.265 cameras take the same path: the codec comes from the
//! camera's RTP stream, travels with every frame, and picks the MP4 sample
//! entry (`avc1`/`hvc1`) and the thumbnail's decoder.
//!
//! **Invariant:** a ring, and every clip, starts at a keyframe, holds frames
//! of one codec and one set of parameter sets, in stream order with
//! non-decreasing capture instants, each frame once. A discontinuity
//! (timestamps going backwards, a gap, a new codec or new parameter sets)
//! empties the ring and ends a clip.

pub mod avcc;
pub mod clip_plan;
pub mod frame;
pub mod hvcc;
pub mod ingest;
pub mod journal;
pub mod mp4;
pub mod ring;
pub mod thumbnail;

#[cfg(test)]
mod tests;

use jiff::SignedDuration;

pub use clip_plan::{Action, ClipPlan, ClipRules, ClipStart, ClipStats, FinishReason, Phase};
pub use frame::{Codec, Continuity, Discontinuity, Frame, ParameterSets};
pub use ring::{Coverage, Ring, RingLimits, RingStats};

/// Video settings that cannot work, with the range to pick from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Pre-roll negative or longer than a minute.
    #[error("clip pre-roll {got:#} is out of range: choose 0 to 60 seconds")]
    PreRoll {
        /// The pre-roll asked for.
        got: SignedDuration,
    },
    /// Post-roll zero, negative or longer than five minutes.
    #[error("clip post-roll {got:#} is out of range: choose more than 0 and at most 300 seconds")]
    PostRoll {
        /// The post-roll asked for.
        got: SignedDuration,
    },
    /// The longest clip cannot hold one alarm's pre-roll and post-roll, or
    /// is longer than ten minutes.
    #[error(
        "longest clip {max:#} must be at least pre-roll {pre:#} + post-roll {post:#} \
         and at most 600 seconds: raise it or shorten the rolls"
    )]
    MaxClip {
        /// The longest clip asked for.
        max: SignedDuration,
        /// Pre-roll.
        pre: SignedDuration,
        /// Post-roll.
        post: SignedDuration,
    },
    /// A ring with no room for a single frame.
    #[error(
        "ring byte bound is 0: give it room for pre-roll plus a GOP \
         (RingLimits::for_bitrate derives one from the camera's bitrate)"
    )]
    RingBytes,
    /// A frame gap limit that every stream breaks.
    #[error("largest frame gap {got:#} must be positive (the default is 5 seconds)")]
    MaxGap {
        /// The limit asked for.
        got: SignedDuration,
    },
    /// The ring keeps less than the clips need before an alarm.
    #[error(
        "the ring keeps {ring:#} before now but clips want a pre-roll of {clip:#}: \
         build the ring limits with the clip rules' pre-roll"
    )]
    RingShorterThanPreRoll {
        /// What the ring keeps.
        ring: SignedDuration,
        /// What the clips want.
        clip: SignedDuration,
    },
}
