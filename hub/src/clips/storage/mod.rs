//! Where the hub keeps clip and thumbnail bytes: the [`ClipStore`] trait,
//! so the upload protocol, retention and downloads never name a backend.
//! [`LocalDir`] (a directory on the hub's disk) is the one backend today;
//! an S3-compatible one comes with scale-out and must pass the same
//! contract suite (`contract`, tests only).
//!
//! A stored file has two lives, both named by the upload id:
//!
//! - an **upload** in progress: bytes appended strictly at the end, the
//!   count it holds being the offset the hub reports to the unit; every
//!   acknowledged append is durable;
//! - an **object** once finished: verified against the declared SHA-256
//!   and visible under its final name (`<id>.mp4` or `<id>.jpg`, from its
//!   [`ClipKind`]), readable by byte range, removable.
//!
//! **Contract** (checked by `contract` against every backend):
//! `received` of an unknown upload is 0; `append` at any offset other
//! than `received` is refused with [`ClipStoreError::WrongOffset`] and
//! changes nothing; `finish` with the wrong hash is refused with
//! [`ClipStoreError::HashMismatch`] and **discards** the upload (the unit
//! starts again from 0: keeping bytes that hash wrong would only let it
//! resume into the same corruption); a missing object or upload is
//! [`ClipStoreError::NotFound`]; `remove` and `discard` of what is not
//! there succeed (retention may run them twice). Callers serialize the
//! operations on one upload (the units' API holds a lock per upload);
//! different ids never affect each other.
//!
//! The methods are async and return boxed futures so the trait stays
//! object-safe (`Arc<dyn ClipStore>`); a backend that does blocking IO runs
//! it off the runtime itself.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use tokio::io::AsyncRead;
use uuid::Uuid;

use super::upload::ClipKind;

mod local_dir;

pub use local_dir::LocalDir;

#[cfg(test)]
pub(crate) mod contract;
#[cfg(test)]
mod memory;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClipStoreError {
    /// The disk (or, later, the object store) said no.
    #[error(
        "clip storage at {path}: {source}; check the hub's data directory (space, permissions)"
    )]
    Io {
        /// Where.
        path: String,
        /// What.
        source: std::io::Error,
    },
    /// An append at another offset than the end of the upload. Nothing was
    /// written.
    #[error("the hub has {have} bytes of this upload, not {offered}: resume from {have}")]
    WrongOffset {
        /// Where the caller's chunk starts.
        offered: u64,
        /// What the store holds.
        have: u64,
    },
    /// The whole upload does not hash to what the unit declared.
    #[error(
        "the uploaded file's SHA-256 is {got}, not the declared {declared}; it was discarded: upload it again from 0"
    )]
    HashMismatch {
        /// Declared.
        declared: String,
        /// Computed.
        got: String,
    },
    /// No such upload (to finish) or object (to size or read).
    #[error("{what} {id} is not in clip storage")]
    NotFound {
        /// `upload` or the object's kind.
        what: &'static str,
        /// Its id.
        id: Uuid,
    },
    /// A read past the end of an object.
    #[error("bytes {start}..{end} are outside {id}, which has {size}")]
    OutOfRange {
        /// The object.
        id: Uuid,
        /// First byte asked for.
        start: u64,
        /// One past the last byte asked for.
        end: u64,
        /// Its size.
        size: u64,
    },
}

/// A store's answer, later: a boxed future, so [`ClipStore`] stays
/// object-safe.
#[must_use = "a store operation does nothing until awaited"]
pub struct Pending<'a, T>(Pin<Box<dyn Future<Output = Result<T, ClipStoreError>> + Send + 'a>>);

impl<'a, T> Pending<'a, T> {
    /// Boxes `work`.
    pub fn new(work: impl Future<Output = Result<T, ClipStoreError>> + Send + 'a) -> Self {
        Pending(Box::pin(work))
    }
}

impl<T> std::fmt::Debug for Pending<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl<T> Future for Pending<'_, T> {
    type Output = Result<T, ClipStoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().0.as_mut().poll(cx)
    }
}

/// Clip and thumbnail bytes: uploads in progress and finished objects.
/// See the module docs for the contract every backend keeps.
pub trait ClipStore: std::fmt::Debug + Send + Sync {
    /// How many bytes of upload `id` the store holds: the offset the unit
    /// resumes from (0 when it has none).
    fn received(&self, id: Uuid) -> Pending<'_, u64>;

    /// Appends `chunk` to upload `id` at `offset`, which must be
    /// [`received`](ClipStore::received) (else
    /// [`ClipStoreError::WrongOffset`], nothing written). Durable before it
    /// returns the new length.
    fn append(&self, id: Uuid, offset: u64, chunk: Bytes) -> Pending<'_, u64>;

    /// Verifies the whole upload against `sha256` and makes it the object
    /// `(id, kind)`, durably; the upload is gone after. A mismatch
    /// discards the upload ([`ClipStoreError::HashMismatch`]).
    fn finish(&self, id: Uuid, kind: ClipKind, sha256: [u8; 32]) -> Pending<'_, ()>;

    /// Drops an unfinished upload (none is fine).
    fn discard(&self, id: Uuid) -> Pending<'_, ()>;

    /// Removes a finished object (none is fine: already gone).
    fn remove(&self, id: Uuid, kind: ClipKind) -> Pending<'_, ()>;

    /// The size of a finished object.
    fn size(&self, id: Uuid, kind: ClipKind) -> Pending<'_, u64>;

    /// Reads `len` bytes of a finished object from `start`; the range must
    /// lie within it ([`ClipStoreError::OutOfRange`]).
    fn read_range(
        &self,
        id: Uuid,
        kind: ClipKind,
        start: u64,
        len: u64,
    ) -> Pending<'_, Pin<Box<dyn AsyncRead + Send>>>;
}
