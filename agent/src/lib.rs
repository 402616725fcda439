//! `picket-agent`: the daemon on every Picket unit.
//!
//! `picket-agent run` enforces arming from the synced config ([`core`]),
//! records events durably ([`store`]) and syncs them with the hub over MQTT
//! ([`link`]), with sensors from [`hardware`]; `picket-agent plan` prints
//! the timeline a unit will enforce. For event video, the pure clip core
//! ([`video`]: frames, ring buffer, clip plan), the clip index and quota
//! ([`clips`]) and the resumable uploader ([`upload`]) exist; the camera
//! ingest and MP4 writer that connect them come next (see
//! `ARCHITECTURE.md`).
//!
//! The agent never decides arming by itself: every verdict comes from
//! `picket_proto::arming`, the same function the hub shows in the portal.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod arming_file;
pub mod clips;
pub mod clock;
pub mod config;
pub mod core;
pub mod hardware;
pub mod link;
pub mod live;
pub mod outbox;
pub mod plan;
pub mod run;
pub mod sensors;
pub mod store;
pub mod tls;
pub mod upload;
pub mod video;
