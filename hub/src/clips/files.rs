//! Clip files on the hub's disk: uploads grow in `partial/<id>` (its length
//! is the offset the hub reports, so it survives a restart) and move to
//! `<id>.<ext>` once complete and verified. Blocking IO: callers run it off
//! the async runtime.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::upload::hex;

/// Why a file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The disk said no.
    #[error("clip storage at {path}: {source}")]
    Io {
        /// Where.
        path: String,
        /// What.
        source: std::io::Error,
    },
    /// The partial copy is not as long as the caller thought (another
    /// request appended meanwhile).
    #[error("the hub has {have} bytes of this upload, not {expected}: resume from {have}")]
    Moved {
        /// What the caller expected.
        expected: u64,
        /// What is there.
        have: u64,
    },
    /// The whole file does not hash to what the unit declared.
    #[error(
        "the uploaded file's SHA-256 is {got}, not the declared {declared}; it was discarded: upload it again from 0"
    )]
    HashMismatch {
        /// Declared.
        declared: String,
        /// Computed.
        got: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FilesError + '_ {
    move |source| FilesError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A directory of clips.
#[derive(Debug, Clone)]
pub struct ClipFiles {
    root: PathBuf,
}

impl ClipFiles {
    /// Opens (creating) the directory.
    pub fn open(root: &Path) -> Result<ClipFiles, FilesError> {
        let partial = root.join("partial");
        std::fs::create_dir_all(&partial).map_err(io(&partial))?;
        Ok(ClipFiles {
            root: root.to_path_buf(),
        })
    }

    fn partial(&self, id: Uuid) -> PathBuf {
        self.root.join("partial").join(id.simple().to_string())
    }

    /// Where a complete file lives.
    pub fn path(&self, id: Uuid, ext: &str) -> PathBuf {
        self.root.join(format!("{}.{ext}", id.simple()))
    }

    /// How many bytes of an upload the hub has.
    pub fn have(&self, id: Uuid) -> Result<u64, FilesError> {
        let path = self.partial(id);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Appends `data` at `offset` (which must be the current length) and
    /// syncs it to disk; returns the new length.
    pub fn append(&self, id: Uuid, offset: u64, data: &[u8]) -> Result<u64, FilesError> {
        let path = self.partial(id);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        let have = file.metadata().map_err(io(&path))?.len();
        if have != offset {
            return Err(FilesError::Moved {
                expected: offset,
                have,
            });
        }
        file.write_all(data).map_err(io(&path))?;
        file.sync_data().map_err(io(&path))?;
        Ok(have + data.len() as u64)
    }

    /// Checks the complete upload against `sha256` and moves it into place
    /// as `<id>.<ext>` (synced, directory included). A mismatch discards it.
    pub fn finish(&self, id: Uuid, sha256: &[u8; 32], ext: &str) -> Result<PathBuf, FilesError> {
        let path = self.partial(id);
        let got = sha256_of(&path)?;
        if &got != sha256 {
            self.discard(id)?;
            return Err(FilesError::HashMismatch {
                declared: hex(sha256),
                got: hex(&got),
            });
        }
        let done = self.path(id, ext);
        std::fs::rename(&path, &done).map_err(io(&done))?;
        File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.root))?;
        Ok(done)
    }

    /// Removes a complete file (missing is fine: already gone).
    pub fn remove(&self, id: Uuid, ext: &str) -> Result<(), FilesError> {
        let path = self.path(id, ext);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Drops a partial upload.
    pub fn discard(&self, id: Uuid) -> Result<(), FilesError> {
        let path = self.partial(id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path)(e)),
        }
    }
}

fn sha256_of(path: &Path) -> Result<[u8; 32], FilesError> {
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

/// The SHA-256 of `bytes` (for tests and small files).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Uuid {
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001)
    }

    #[test]
    fn chunks_append_at_the_end_and_a_verified_file_moves_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let files = ClipFiles::open(dir.path()).unwrap();
        let data: Vec<u8> = (0..1000u32).map(|n| n as u8).collect();
        assert_eq!(files.have(id()).unwrap(), 0);
        assert_eq!(files.append(id(), 0, &data[..600]).unwrap(), 600);
        assert!(matches!(
            files.append(id(), 0, &data[..10]),
            Err(FilesError::Moved {
                expected: 0,
                have: 600
            })
        ));
        // A restart keeps what was synced.
        let files = ClipFiles::open(dir.path()).unwrap();
        assert_eq!(files.have(id()).unwrap(), 600);
        assert_eq!(files.append(id(), 600, &data[600..]).unwrap(), 1000);
        let done = files.finish(id(), &sha256(&data), "mp4").unwrap();
        assert_eq!(std::fs::read(&done).unwrap(), data);
        assert_eq!(files.have(id()).unwrap(), 0, "no partial left");
    }

    #[test]
    fn a_file_that_does_not_hash_as_declared_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let files = ClipFiles::open(dir.path()).unwrap();
        files.append(id(), 0, b"not the declared bytes").unwrap();
        let err = files
            .finish(id(), &sha256(b"the declared bytes"), "mp4")
            .unwrap_err();
        assert!(err.to_string().contains("upload it again from 0"), "{err}");
        assert_eq!(files.have(id()).unwrap(), 0);
        assert!(!files.path(id(), "mp4").exists());
    }
}
