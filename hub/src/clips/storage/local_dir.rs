//! [`LocalDir`]: clips in a directory on the hub's disk. Uploads grow in
//! `partial/<id>` (its length is the offset the hub reports, so it
//! survives a restart) and move to `<id>.<ext>` once complete and
//! verified. The file IO is blocking and runs on tokio's blocking pool.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use axum::body::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};
use uuid::Uuid;

use super::{ClipStore, ClipStoreError, Pending};
use crate::clips::upload::{ClipKind, hex};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClipStoreError + '_ {
    move |source| ClipStoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A directory of clips: the default [`ClipStore`].
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// Opens (creating) the directory.
    pub fn open(root: &Path) -> Result<LocalDir, ClipStoreError> {
        let partial = root.join("partial");
        std::fs::create_dir_all(&partial).map_err(io(&partial))?;
        Ok(LocalDir {
            root: root.to_path_buf(),
        })
    }

    fn partial(&self, id: Uuid) -> PathBuf {
        self.root.join("partial").join(id.simple().to_string())
    }

    /// Where a finished object lives.
    pub fn path(&self, id: Uuid, kind: ClipKind) -> PathBuf {
        self.root
            .join(format!("{}.{}", id.simple(), kind.extension()))
    }

    /// Runs blocking `work` on a clone of this store off the runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&LocalDir) -> Result<T, ClipStoreError> + Send + 'static,
    ) -> Result<T, ClipStoreError> {
        let dir = self.clone();
        tokio::task::spawn_blocking(move || work(&dir))
            .await
            .map_err(|e| ClipStoreError::Io {
                path: self.root.display().to_string(),
                source: std::io::Error::other(format!("the storage task failed: {e}")),
            })?
    }

    fn received_now(&self, id: Uuid) -> Result<u64, ClipStoreError> {
        let path = self.partial(id);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io(&path)(e)),
        }
    }

    fn append_now(&self, id: Uuid, offset: u64, chunk: &[u8]) -> Result<u64, ClipStoreError> {
        let path = self.partial(id);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        let have = file.metadata().map_err(io(&path))?.len();
        if have != offset {
            return Err(ClipStoreError::WrongOffset {
                offered: offset,
                have,
            });
        }
        file.write_all(chunk).map_err(io(&path))?;
        // Synced before the offset is acknowledged: an offset the hub
        // reported is never lost.
        file.sync_data().map_err(io(&path))?;
        Ok(have + chunk.len() as u64)
    }

    fn finish_now(
        &self,
        id: Uuid,
        kind: ClipKind,
        sha256: &[u8; 32],
    ) -> Result<(), ClipStoreError> {
        let path = self.partial(id);
        let got = match sha256_of(&path) {
            Err(ClipStoreError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(ClipStoreError::NotFound { what: "upload", id });
            }
            other => other?,
        };
        if &got != sha256 {
            self.discard_now(id)?;
            return Err(ClipStoreError::HashMismatch {
                declared: hex(sha256),
                got: hex(&got),
            });
        }
        let done = self.path(id, kind);
        std::fs::rename(&path, &done).map_err(io(&done))?;
        // The rename is durable only once the directory is synced.
        File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.root))?;
        Ok(())
    }

    fn discard_now(&self, id: Uuid) -> Result<(), ClipStoreError> {
        remove_if_there(&self.partial(id))
    }
}

fn remove_if_there(path: &Path) -> Result<(), ClipStoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(path)(e)),
    }
}

fn sha256_of(path: &Path) -> Result<[u8; 32], ClipStoreError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(io(path))?;
        if n == 0 {
            break;
        }
        context.update(&buffer[..n]);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    Ok(out)
}

impl ClipStore for LocalDir {
    fn received(&self, id: Uuid) -> Pending<'_, u64> {
        Pending::new(self.blocking(move |dir| dir.received_now(id)))
    }

    fn append(&self, id: Uuid, offset: u64, chunk: Bytes) -> Pending<'_, u64> {
        Pending::new(self.blocking(move |dir| dir.append_now(id, offset, &chunk)))
    }

    fn finish(&self, id: Uuid, kind: ClipKind, sha256: [u8; 32]) -> Pending<'_, ()> {
        Pending::new(self.blocking(move |dir| dir.finish_now(id, kind, &sha256)))
    }

    fn discard(&self, id: Uuid) -> Pending<'_, ()> {
        Pending::new(self.blocking(move |dir| dir.discard_now(id)))
    }

    fn remove(&self, id: Uuid, kind: ClipKind) -> Pending<'_, ()> {
        Pending::new(self.blocking(move |dir| remove_if_there(&dir.path(id, kind))))
    }

    fn size(&self, id: Uuid, kind: ClipKind) -> Pending<'_, u64> {
        let path = self.path(id, kind);
        Pending::new(async move {
            match tokio::fs::metadata(&path).await {
                Ok(m) => Ok(m.len()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(ClipStoreError::NotFound {
                        what: kind.as_str(),
                        id,
                    })
                }
                Err(e) => Err(io(&path)(e)),
            }
        })
    }

    fn read_range(
        &self,
        id: Uuid,
        kind: ClipKind,
        start: u64,
        len: u64,
    ) -> Pending<'_, Pin<Box<dyn AsyncRead + Send>>> {
        let path = self.path(id, kind);
        Pending::new(async move {
            let mut file = match tokio::fs::File::open(&path).await {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ClipStoreError::NotFound {
                        what: kind.as_str(),
                        id,
                    });
                }
                Err(e) => return Err(io(&path)(e)),
            };
            let size = file.metadata().await.map_err(io(&path))?.len();
            if start.checked_add(len).is_none_or(|end| end > size) {
                return Err(ClipStoreError::OutOfRange {
                    id,
                    start,
                    end: start.saturating_add(len),
                    size,
                });
            }
            if start > 0 {
                file.seek(std::io::SeekFrom::Start(start))
                    .await
                    .map_err(io(&path))?;
            }
            let reader: Pin<Box<dyn AsyncRead + Send>> = Box::pin(file.take(len));
            Ok(reader)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clips::upload::sha256;

    crate::clips::storage::contract::contract_tests!({
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::open(&dir.path().join("clips")).unwrap();
        (dir, store)
    });

    fn id() -> Uuid {
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001)
    }

    #[tokio::test]
    async fn a_restart_keeps_every_acknowledged_byte_and_a_finished_clip_is_a_plain_file() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..1000u32).map(|n| n as u8).collect();
        let store = LocalDir::open(dir.path()).unwrap();
        assert_eq!(
            store
                .append(id(), 0, Bytes::copy_from_slice(&data[..600]))
                .await
                .unwrap(),
            600
        );
        drop(store);

        let store = LocalDir::open(dir.path()).unwrap();
        assert_eq!(store.received(id()).await.unwrap(), 600);
        store
            .append(id(), 600, Bytes::copy_from_slice(&data[600..]))
            .await
            .unwrap();
        store
            .finish(id(), ClipKind::Thumbnail, sha256(&data))
            .await
            .unwrap();
        let done = dir.path().join(format!("{}.jpg", id().simple()));
        assert_eq!(store.path(id(), ClipKind::Thumbnail), done);
        assert_eq!(std::fs::read(&done).unwrap(), data);
        assert_eq!(
            std::fs::read_dir(dir.path().join("partial"))
                .unwrap()
                .count(),
            0,
            "no partial file left"
        );
    }

    #[tokio::test]
    async fn a_directory_it_cannot_create_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        let err = LocalDir::open(&blocker.join("clips")).unwrap_err();
        assert!(err.to_string().contains("not-a-dir"), "{err}");
    }
}
