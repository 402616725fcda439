//! `picket-agent`: the daemon on every Picket unit.
//!
//! What exists today: [`arming_file`] (a site's arming settings as a strict
//! TOML file) and [`plan`] (the timeline of states a unit will enforce,
//! computed with `picket-proto`'s arm-state engine), behind the
//! `picket-agent plan` command. The MQTT sync, sensors and video arrive with
//! their issues; see `ARCHITECTURE.md`.
//!
//! The agent never decides arming by itself: every verdict comes from
//! `picket_proto::arming`, the same function the hub shows in the portal.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod arming_file;
pub mod clock;
pub mod config;
pub mod core;
pub mod hardware;
pub mod link;
pub mod outbox;
pub mod plan;
pub mod run;
pub mod sensors;
pub mod store;
pub mod tls;
