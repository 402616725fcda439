//! `picket-sim`: simulated Picket hardware, so the agent can be run and
//! tested without a real tower.
//!
//! Today it simulates **sensor inputs**: [`sensors::Simulator`] listens on a
//! Unix socket and speaks the line protocol of
//! [`picket_proto::sim::SimMessage`]. An agent's `sim` hardware backend
//! connects and says `Hello`; control clients ([`control::trigger`], the
//! `picket-sim trigger` command, a [`scenario`] or a test) connect to the
//! same socket and ask for a `Trigger`, a `TamperRestored` or a `Power`
//! change, which the simulator forwards to that unit's agent. Agents report their outputs (arm-state LED,
//! siren, strobe), which the simulator keeps for inspection.
//!
//! It also simulates **a fleet of units** at the protocol level
//! ([`fleet`]): many units in one process, each connecting to the hub over
//! MQTT with mutual TLS exactly as the agent does (but with an in-memory
//! outbox instead of the agent's SQLite), heartbeating, sending events and
//! timing the hub's acknowledgements — for load tests and benchmarks
//! (`picket-sim fleet`).
//!
//! And it simulates **RTSP cameras** ([`camera`], `picket-sim camera`):
//! GStreamer test pictures, H.264 or H.265, with the capture instant and the
//! frame number burned into every frame as a machine-readable
//! [`camera::stamp`] (which other crates' tests use to check which instants
//! a clip or a live view covers), and a camera loss on command.
//!
//! What it never does: decide anything about arming or alarms (that is the
//! agent's job, with `picket_proto::arming`), or depend on the agent or the
//! hub. Nothing a peer sends can panic it: malformed and over-long lines are
//! answered with `Failed` (on the cameras' control socket, `{"error":...}`)
//! and logged; undecodable MQTT messages are counted and logged.
//!
//! Where to start reading:
//! - [`sensors`]: the simulator — [`sensors::Simulator::bind`], then `run` or
//!   `spawn`; its state lives in one registry task.
//! - [`control`]: the client side, one request and one answer per line.
//! - [`scenario`]: scripted, timed triggers from a TOML file; the timing is a
//!   pure [`scenario::Player`] so tests run it without sleeping.
//! - [`sensor_name`]: the names `pir`, `door`, … and the messages they make.
//! - [`mod@line`]: the bounded line splitter both sides use.
//! - [`camera`]: [`camera::CameraServer::start`] with a
//!   [`camera::ServerConfig`]; [`camera::stamp`] for the stamp's format.
//! - [`fleet`]: [`fleet::Fleet::start`] with a [`fleet::FleetConfig`], then
//!   [`fleet::Fleet::send_event`] and the latency figures.

// Nothing from a socket or a file may panic us: no unwraps outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod camera;
pub mod control;
mod error;
pub mod fleet;
pub mod line;
pub mod scenario;
pub mod sensor_name;
pub mod sensors;
mod socket_file;

pub use error::Error;
