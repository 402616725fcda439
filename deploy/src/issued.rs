//! A freshly issued certificate with its private key.

use std::fmt;
use std::path::Path;

use crate::Error;
use crate::files::{self, ExistingFiles, KEY_MODE, PUBLIC_MODE};

/// A certificate and its new ECDSA P-256 private key, in PEM (for files) and
/// DER (for building rustls configs in tests without a PEM parser).
#[derive(Clone)]
pub struct IssuedCert {
    /// The certificate, PEM (`-----BEGIN CERTIFICATE-----`).
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: String,
    /// The private key, PKCS#8 DER.
    pub key_der: Vec<u8>,
}

impl IssuedCert {
    /// Writes `dir/<stem>.pem` (0644) and `dir/<stem>.key` (0600).
    pub fn write(&self, dir: &Path, stem: &str, existing: ExistingFiles) -> Result<(), Error> {
        let cert_path = dir.join(format!("{stem}.pem"));
        let key_path = dir.join(format!("{stem}.key"));
        files::check_absent(&[&cert_path, &key_path], existing)?;
        files::write_file(&key_path, &self.key_pem, KEY_MODE)?;
        files::write_file(&cert_path, &self.cert_pem, PUBLIC_MODE)
    }
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[elided]")
            .finish_non_exhaustive()
    }
}
