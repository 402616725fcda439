//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong creating or reading Picket's CA and
/// identities. Each variant names the file or value involved; the
/// underlying cause, if any, is the error's `source()` (print the chain, e.g.
/// with anyhow's `{:#}`, to see it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, writing or creating a file or directory failed.
    #[error("could not {action} {path}")]
    Io {
        /// What we were doing (`"read"`, `"write"`, `"create directory"`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file we would write already exists and the caller asked us not to
    /// replace existing files.
    #[error("{path} already exists; refusing to overwrite it (use --force to replace it)")]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },

    /// rcgen refused to generate a key or certificate.
    #[error("could not generate {what}")]
    Generate {
        /// What was being generated (`"the CA key"`, `"the hub certificate"`, …).
        what: &'static str,
        /// The underlying error.
        #[source]
        source: rcgen::Error,
    },

    /// A file did not hold a certificate we could use.
    #[error("{path}: {reason}")]
    BadCertificate {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A file did not hold a private key we could use.
    #[error("{path}: not a usable private key")]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rcgen::Error,
    },

    /// The CA key does not belong to the CA certificate.
    #[error("{key} is not the private key of {cert}")]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },

    /// A value given to us (a DNS name, an endpoint, a subject field) is not
    /// acceptable.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidValue {
        /// Which value (`"DNS name"`, `"MQTT endpoint"`, …).
        what: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// An id in a file did not parse.
    #[error("{path}: bad id")]
    BadId {
        /// The file holding the id.
        path: PathBuf,
        /// The parse error, which names the kind of id and the input.
        #[source]
        source: picket_proto::ids::IdError,
    },

    /// `agent.toml` could not be serialized or parsed.
    #[error("{path}: {reason}")]
    AgentFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Entropy(#[source] getrandom::Error),
}
