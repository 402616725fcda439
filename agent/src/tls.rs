//! The unit's TLS client configuration: trust only the hub's CA, present
//! the unit's own certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

/// The TLS files could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file is missing or unreadable.
    #[error("cannot read {what} from {path}: {detail}")]
    File {
        /// Which file.
        what: &'static str,
        /// Where.
        path: String,
        /// Why.
        detail: String,
    },
    /// rustls refused the combination.
    #[error("invalid TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
}

fn file_error(what: &'static str, path: &Path, detail: impl ToString) -> TlsError {
    TlsError::File {
        what,
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// Builds the client configuration from the provisioned files.
pub fn client_config(files: &TlsFiles) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&files.ca)
        .map_err(|e| file_error("the CA certificate", &files.ca, e))?
    {
        let cert = cert.map_err(|e| file_error("the CA certificate", &files.ca, e))?;
        roots.add(cert)?;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_error("the unit certificate", &files.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error("the unit certificate", &files.cert, e))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_error("the unit key", &files.key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
    Ok(Arc::new(config))
}
