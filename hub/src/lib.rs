//! `picket-hub`: the cloud side of Picket — embedded MQTT broker, ingest of
//! unit events into the store, desired config, supervision, the JSON API and
//! portal, clip storage and the live-view relay.
//!
//! Nothing is implemented yet: the sync issue brings `picket-hub serve`.
//! The crate exists so the workspace has its final shape and the dependency
//! rules (`tests/tests/architecture.rs`) hold from the start. Everything the
//! hub and the agent must agree on lives in `picket-proto`, never here.
