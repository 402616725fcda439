//! `picket-hub`: the cloud side of Picket — the units' MQTT front, ingest of
//! unit messages into the store with end-to-end event acks, desired config,
//! supervision and the operator API. (The portal, clips and live view come
//! with their issues.)
//!
//! Start reading at [`run`]; the pieces are [`front`] (units' MQTT over
//! mutual TLS, terminated by the hub itself, one topic prefix per unit),
//! [`store`] (SQLite, one writer), and [`ingest`] (decode, commit, then
//! acknowledge).
//!
//! Everything the hub and the agent must agree on lives in `picket-proto`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod auth;
pub mod centre;
pub mod clips;
pub mod clock;
pub mod config;
pub mod front;
pub mod ingest;
pub mod live;
pub mod mail;
pub mod publisher;
pub mod reports;
pub mod run;
pub mod store;
pub mod supervision;
