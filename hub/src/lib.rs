//! `picket-hub`: the cloud side of Picket — embedded MQTT broker, ingest of
//! unit messages into the store with end-to-end event acks, desired config,
//! supervision and the operator API. (The portal, clips and live view come
//! with their issues.)
//!
//! Start reading at [`run`]; the pieces are [`broker`] (rumqttd with mTLS
//! and per-unit topic isolation), [`store`] (SQLite, one writer), and
//! [`ingest`] (decode, commit, then acknowledge).
//!
//! Everything the hub and the agent must agree on lives in `picket-proto`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod auth;
pub mod broker;
pub mod clock;
pub mod config;
pub mod ingest;
pub mod mail;
pub mod publisher;
pub mod run;
pub mod store;
pub mod supervision;
