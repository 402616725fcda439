//! The units' TLS: the hub's server certificate, client certificates
//! required and verified against the hub's CA, and the unit a verified
//! certificate names.

use std::path::Path;
use std::sync::Arc;

use picket_proto::ids::UnitId;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::FrontError;
use crate::config::MqttConfig;

fn file_error(what: &'static str, path: &Path, detail: impl ToString) -> FrontError {
    FrontError::File {
        what,
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// The server configuration for units: TLS 1.2 and 1.3 (ring), client
/// certificates mandatory and chained to the hub's CA, no session tickets
/// or resumption cache (one less thing held per unit; units reconnect
/// rarely).
pub(crate) fn server_config(config: &MqttConfig) -> Result<Arc<rustls::ServerConfig>, FrontError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&config.ca)
        .map_err(|e| file_error("the CA certificate", &config.ca, e))?
    {
        let cert = cert.map_err(|e| file_error("the CA certificate", &config.ca, e))?;
        roots
            .add(cert)
            .map_err(|e| file_error("the CA certificate", &config.ca, e))?;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&config.cert)
        .map_err(|e| file_error("the hub certificate", &config.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error("the hub certificate", &config.cert, e))?;
    let key = PrivateKeyDer::from_pem_file(&config.key)
        .map_err(|e| file_error("the hub key", &config.key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| FrontError::Tls(e.to_string()))?;
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FrontError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| FrontError::Tls(e.to_string()))?;
    server.send_tls13_tickets = 0;
    server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(Arc::new(server))
}

/// The unit a verified client certificate names: its subject's `O=` must
/// be a unit id in canonical form (32 lowercase hex digits).
pub(crate) fn unit_of(certs: Option<&[CertificateDer<'_>]>) -> Result<UnitId, String> {
    let der = certs
        .and_then(|c| c.first())
        .ok_or("no client certificate")?;
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("the client certificate does not parse: {e}"))?;
    let org = cert
        .subject()
        .iter_organization()
        .next()
        .ok_or("the client certificate has no O= (unit id) in its subject")?
        .as_str()
        .map_err(|_| "the client certificate's O= is not a string")?;
    match org.parse::<UnitId>() {
        Ok(unit) if unit.to_string() == org => Ok(unit),
        _ => Err(format!(
            "the client certificate's O={:?} is not a unit id",
            org.chars().take(64).collect::<String>()
        )),
    }
}
