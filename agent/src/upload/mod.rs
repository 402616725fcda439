//! Delivering clips to the hub: resumable uploads over HTTPS with the
//! unit's own certificate (the hub's protocol: `picket_hub::clips`).
//!
//! - [`https`]: one HTTP/1.1 request per TLS connection to the hub's
//!   units' listener (small and predictable: a chunk is up to 1 MiB, so a
//!   handshake per chunk costs little next to the data).
//! - [`resumable`]: declare the file, learn the hub's offset, send the rest
//!   in chunks from there; a refused chunk at the wrong offset jumps to
//!   the offset the hub names; the last chunk completes it once the hub
//!   checked the SHA-256.
//! - [`pace`] (pure): a byte budget per second and backoff after failures,
//!   so a bad link never starves the unit's MQTT (alarms go first).
//!
//! The clip stays on the unit until [`resumable::upload`] returns
//! [`resumable::Outcome::Complete`].

pub mod https;
pub mod pace;
pub mod resumable;
