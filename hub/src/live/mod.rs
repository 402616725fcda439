//! Live view at the hub: one upstream per camera from its unit, fanned out
//! to every viewer (issue 7, in progress).
//!
//! - [`relay`]: **pure** fan-out of one camera's stream — the latest GOP
//!   for a new viewer, bounded per-viewer queues, slow viewers dropped to
//!   the next keyframe or disconnected, the linger after the last viewer.
//! - [`upstream`]: `POST /unit/v1/live/{stream}` on the units' HTTPS —
//!   a unit's media records for a stream the hub asked it for.
//! - [`service`]: drives the relay with IO — asks units to start and stop
//!   (`live_view_start`/`stop` over MQTT), feeds their frames in, wakes
//!   each viewer's [`service::Watcher`].
//! - [`token`]: **pure** stream tokens — short-lived, bound to (viewer,
//!   unit, camera), signed by the hub, revocable.
//! - [`fmp4`]: **pure** fragmented MP4 (init segment + one fragment per
//!   frame) from media frames, for Media Source Extensions in browsers.

pub mod fmp4;
pub mod relay;
pub mod service;
pub mod token;
pub mod upstream;
