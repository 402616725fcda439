//! Binding a simulator's Unix socket path safely (the sensor simulator's and
//! the cameras' control socket), and removing it afterwards.

use std::io::ErrorKind;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use crate::Error;

/// Binds `path`, first removing a stale socket left by a simulator that
/// died. Never removes a live simulator's socket or a non-socket file.
pub(crate) fn bind(path: &Path) -> Result<UnixListener, Error> {
    let bind_error = |source| Error::Bind {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(Error::NotASocket {
                path: path.to_path_buf(),
            });
        }
        Ok(_) => match UnixStream::connect(path) {
            Ok(_) => {
                return Err(Error::InUse {
                    path: path.to_path_buf(),
                });
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                std::fs::remove_file(path).map_err(bind_error)?;
                tracing::info!(socket = %path.display(), "removed a stale socket file");
            }
            Err(e) => return Err(bind_error(e)),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(bind_error(e)),
    }
    let listener = UnixListener::bind(path).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok(listener)
}

/// The socket file we bound; removed when dropped.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
}

impl SocketFile {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != ErrorKind::NotFound
        {
            tracing::warn!(socket = %self.path.display(), error = %e, "could not remove socket file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_a_stale_socket_but_not_a_live_one_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.sock");

        let live = bind(&path).unwrap();
        assert!(matches!(bind(&path), Err(Error::InUse { .. })));
        drop(live); // the file stays behind: stale
        assert!(path.exists());
        let _rebound = bind(&path).unwrap();

        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "keep me").unwrap();
        assert!(matches!(bind(&file), Err(Error::NotASocket { .. })));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    }
}
