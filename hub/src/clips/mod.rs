//! Event video at the hub: units upload each alarm's clips (MP4) and
//! thumbnails (JPEG) resumably over HTTPS, authenticated by their
//! certificate; the hub keeps their bytes in a [`storage::ClipStore`] (a
//! [`storage::LocalDir`] directory today) and their metadata in the store,
//! linked to the alarm event and camera.
//!
//! The upload protocol (`unit_api`), in the spirit of tus:
//!
//! 1. `POST /unit/v1/uploads` declares a file: its id (a UUIDv7 made on the
//!    unit), the alarm event it belongs to, the camera, `clip` or
//!    `thumbnail`, its size and SHA-256. The event must be this unit's; the
//!    size within the kind's limit. The answer is the offset the hub has
//!    (0 for a new upload; more after an interruption; the size when it is
//!    complete). Declaring the same id again with the same facts is how a
//!    unit resumes; different facts are refused.
//! 2. `PATCH /unit/v1/uploads/{id}` with `Upload-Offset: n` appends a chunk
//!    at exactly that offset (another offset: 409 with the right one). The
//!    store makes each chunk durable before the hub answers with the new
//!    offset, so an offset it reported is never lost.
//! 3. When the last byte arrives the hub checks the SHA-256: equal, the
//!    file becomes a stored object and the upload is complete (the unit
//!    may then delete its copy); different, the store discards the upload
//!    and the unit starts again from 0.
//!
//! Pure rules live in [`upload`]; the bytes in [`storage`] (the
//! [`storage::ClipStore`] trait, its contract, the local backend); the
//! HTTP side in `unit_api` and the TLS listener in `listener`; downloads
//! for people in `crate::api::clips`; deletion in [`retention`].

pub mod listener;
pub mod retention;
pub mod storage;
pub mod unit_api;
pub mod upload;
