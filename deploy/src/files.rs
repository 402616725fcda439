//! Writing certificates and keys with the right file modes.
//!
//! Keys are created with mode 0600 (and set to 0600 before any byte is
//! written, in case the file already existed with a wider mode); certificates
//! and `agent.toml` are 0644. Directories we create are 0700 because they hold
//! keys.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::Error;

/// Mode of private key files.
pub const KEY_MODE: u32 = 0o600;
/// Mode of certificates and configuration files.
pub const PUBLIC_MODE: u32 = 0o644;
/// Mode of directories created to hold keys.
pub const DIR_MODE: u32 = 0o700;

/// What to do when a file we would write already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingFiles {
    /// Fail with [`Error::AlreadyExists`] (the default of every command).
    Refuse,
    /// Overwrite them (`--force`).
    Replace,
}

/// Creates `dir` and its parents (new directories get mode 0700).
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|source| Error::Io {
            action: "create directory",
            path: dir.to_path_buf(),
            source,
        })
}

/// Fails with [`Error::AlreadyExists`] if any of `paths` exists and
/// `existing` is [`ExistingFiles::Refuse`].
pub fn check_absent(paths: &[&Path], existing: ExistingFiles) -> Result<(), Error> {
    if existing == ExistingFiles::Replace {
        return Ok(());
    }
    match paths.iter().find(|path| path.exists()) {
        Some(path) => Err(Error::AlreadyExists {
            path: path.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Writes `contents` to `path` with the given mode, replacing the file.
pub fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), Error> {
    let io_error = |source| Error::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(io_error)?;
    // `mode` applies only when the file is created: narrow an existing one
    // before writing a secret into it.
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(io_error)?;
    file.write_all(contents.as_bytes()).map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

/// Reads a text file.
pub fn read_file(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}
