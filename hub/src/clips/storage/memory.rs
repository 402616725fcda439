//! A [`ClipStore`] in memory, for tests only: it exists to prove the
//! contract suite is about the trait, not about [`super::LocalDir`]. It is
//! not durable and never stands in for the real store in other tests.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;

use axum::body::Bytes;
use tokio::io::AsyncRead;
use uuid::Uuid;

use super::{ClipStore, ClipStoreError, Pending};
use crate::clips::upload::{ClipKind, hex, sha256};

#[derive(Debug, Default)]
struct Held {
    uploads: HashMap<Uuid, Vec<u8>>,
    objects: HashMap<(Uuid, ClipKind), Bytes>,
}

/// Uploads and objects in a map.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    held: Mutex<Held>,
}

impl Memory {
    fn with<T>(&self, f: impl FnOnce(&mut Held) -> Result<T, ClipStoreError>) -> Pending<'_, T>
    where
        T: Send + 'static,
    {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut held);
        Pending::new(async move { out })
    }
}

impl ClipStore for Memory {
    fn received(&self, id: Uuid) -> Pending<'_, u64> {
        self.with(|h| Ok(h.uploads.get(&id).map_or(0, |u| u.len() as u64)))
    }

    fn append(&self, id: Uuid, offset: u64, chunk: Bytes) -> Pending<'_, u64> {
        self.with(|h| {
            let upload = h.uploads.entry(id).or_default();
            let have = upload.len() as u64;
            if have != offset {
                return Err(ClipStoreError::WrongOffset {
                    offered: offset,
                    have,
                });
            }
            upload.extend_from_slice(&chunk);
            Ok(upload.len() as u64)
        })
    }

    fn finish(&self, id: Uuid, kind: ClipKind, declared: [u8; 32]) -> Pending<'_, ()> {
        self.with(|h| {
            let upload = h
                .uploads
                .remove(&id)
                .ok_or(ClipStoreError::NotFound { what: "upload", id })?;
            let got = sha256(&upload);
            if got != declared {
                return Err(ClipStoreError::HashMismatch {
                    declared: hex(&declared),
                    got: hex(&got),
                });
            }
            h.objects.insert((id, kind), Bytes::from(upload));
            Ok(())
        })
    }

    fn discard(&self, id: Uuid) -> Pending<'_, ()> {
        self.with(|h| {
            h.uploads.remove(&id);
            Ok(())
        })
    }

    fn remove(&self, id: Uuid, kind: ClipKind) -> Pending<'_, ()> {
        self.with(|h| {
            h.objects.remove(&(id, kind));
            Ok(())
        })
    }

    fn size(&self, id: Uuid, kind: ClipKind) -> Pending<'_, u64> {
        self.with(|h| {
            h.objects
                .get(&(id, kind))
                .map(|o| o.len() as u64)
                .ok_or(ClipStoreError::NotFound {
                    what: kind.as_str(),
                    id,
                })
        })
    }

    fn read_range(
        &self,
        id: Uuid,
        kind: ClipKind,
        start: u64,
        len: u64,
    ) -> Pending<'_, Pin<Box<dyn AsyncRead + Send>>> {
        self.with(|h| {
            let object = h.objects.get(&(id, kind)).ok_or(ClipStoreError::NotFound {
                what: kind.as_str(),
                id,
            })?;
            let size = object.len() as u64;
            let end = start.checked_add(len).filter(|end| *end <= size).ok_or(
                ClipStoreError::OutOfRange {
                    id,
                    start,
                    end: start.saturating_add(len),
                    size,
                },
            )?;
            let part = object.slice(start as usize..end as usize);
            let reader: Pin<Box<dyn AsyncRead + Send>> = Box::pin(std::io::Cursor::new(part));
            Ok(reader)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::clips::storage::contract::contract_tests!({ ((), Memory::default()) });
}
