//! The unit's clips on disk: an index in the unit's SQLite store
//! (`store::clips`) and the quota rule (`quota`). A clip's row is written
//! before its file (state `writing`), marked `ready` once the file is
//! complete and synced, and `uploaded` once the hub confirmed it; the
//! quota may delete only uploaded clips, so an alarm clip the hub does not
//! have is never lost to make room (the unit raises a health warning
//! instead).

pub mod delivery;
pub mod quota;
pub mod recorder;
pub mod recovery;

use picket_proto::ids::{CameraId, EventId};
use picket_proto::message::CameraStatus;

/// What the clip side tells the core (which records events and reports
/// health).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipNews {
    /// A camera's video: `Streaming` at its first frame and again after a
    /// loss, `Lost` when it stops.
    Camera {
        /// Which camera.
        camera: CameraId,
        /// Its state now.
        status: CameraStatus,
    },
    /// A clip of an alarm could not be kept.
    Discarded {
        /// The alarm.
        alarm: EventId,
        /// Its camera.
        camera: CameraId,
        /// Why.
        reason: String,
    },
    /// After a delivery round: what waits for the hub.
    Delivery {
        /// Clips and thumbnails not yet confirmed by the hub.
        pending: u32,
        /// Bytes over the quota only clips the hub lacks hold.
        over_quota_by: u64,
    },
}
