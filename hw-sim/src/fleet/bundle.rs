//! Provisioned unit bundles (`picket-deploy unit provision`): a directory
//! per unit with `agent.toml`, `ca.pem`, `unit.pem` and `unit.key`.
//!
//! Only what the fleet needs is read from `agent.toml` — `unit`,
//! `[hub] mqtt` and `[tls]` — and every other key is ignored, so the file
//! can grow without breaking the simulator. Paths in `[tls]` are relative to
//! the file, as for the agent.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use picket_proto::ids::UnitId;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

use super::{FleetError, FleetUnit};

/// The agent configuration file's name in a bundle.
pub const AGENT_FILE: &str = "agent.toml";

/// One unit's bundle, read.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The unit and its TLS client configuration.
    pub unit: FleetUnit,
    /// The hub's MQTT endpoint from `agent.toml` (`host:port`).
    pub hub: String,
    /// The bundle's directory.
    pub dir: PathBuf,
}

#[derive(Debug, Deserialize)]
struct AgentToml {
    unit: UnitId,
    hub: HubSection,
    tls: TlsSection,
}

#[derive(Debug, Deserialize)]
struct HubSection {
    mqtt: String,
}

#[derive(Debug, Deserialize)]
struct TlsSection {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Reads every `DIR/*/agent.toml` (sorted by directory name), at most
/// `limit` of them. Directories without an `agent.toml` are skipped.
pub fn load_bundles(dir: &Path, limit: Option<usize>) -> Result<Vec<Bundle>, FleetError> {
    let entries = std::fs::read_dir(dir).map_err(|e| FleetError::Bundle {
        path: dir.to_owned(),
        detail: e.to_string(),
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(AGENT_FILE).is_file())
        .collect();
    dirs.sort();
    if let Some(limit) = limit {
        dirs.truncate(limit);
    }
    dirs.iter().map(|d| load_bundle(d)).collect()
}

/// Reads one bundle directory.
pub fn load_bundle(dir: &Path) -> Result<Bundle, FleetError> {
    let path = dir.join(AGENT_FILE);
    let bad = |detail: String| FleetError::Bundle {
        path: path.clone(),
        detail,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let agent: AgentToml = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let tls = client_config(
        &dir.join(&agent.tls.ca),
        &dir.join(&agent.tls.cert),
        &dir.join(&agent.tls.key),
    )?;
    Ok(Bundle {
        unit: FleetUnit {
            unit: agent.unit,
            tls,
        },
        hub: agent.hub.mqtt,
        dir: dir.to_owned(),
    })
}

/// The unit's TLS client configuration, as the agent builds it: trust only
/// the CA in `ca`, present `cert` with `key`; ring as the crypto provider.
pub fn client_config(
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ClientConfig>, FleetError> {
    let file_error = |path: &Path, detail: String| FleetError::Bundle {
        path: path.to_owned(),
        detail,
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(|e| file_error(ca, e.to_string()))? {
        let c = c.map_err(|e| file_error(ca, e.to_string()))?;
        roots
            .add(c)
            .map_err(|e| file_error(ca, format!("not a usable CA certificate: {e}")))?;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_error(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(cert, e.to_string()))?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, e.to_string()))?;
    client_config_from_der(roots, chain, key_der)
}

/// The same from certificates already in memory (for tests and benches).
pub fn client_config_from_pem(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<Arc<rustls::ClientConfig>, FleetError> {
    let mem = |what: &str, detail: String| FleetError::Bundle {
        path: PathBuf::from(format!("<{what} in memory>")),
        detail,
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let c = c.map_err(|e| mem("CA certificate", e.to_string()))?;
        roots
            .add(c)
            .map_err(|e| mem("CA certificate", e.to_string()))?;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| mem("unit certificate", e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| mem("unit key", e.to_string()))?;
    client_config_from_der(roots, chain, key)
}

fn client_config_from_der(
    roots: rustls::RootCertStore,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ClientConfig>, FleetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FleetError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| FleetError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_toml_keeps_only_what_the_fleet_needs() {
        let text = r#"
            unit = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b"
            site = "019abcde00017000800000000000b001"
            data_dir = "data"
            future_key = 3

            [hub]
            mqtt = "127.0.0.1:8883"
            https = "https://127.0.0.1:8443"

            [tls]
            ca = "ca.pem"
            cert = "unit.pem"
            key = "unit.key"

            [hardware]
            backend = "sim"
            sim_socket = "sim.sock"

            [sync]
            heartbeat_s = 5
        "#;
        let agent: AgentToml = toml::from_str(text).unwrap();
        assert_eq!(agent.unit.to_string(), "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b");
        assert_eq!(agent.hub.mqtt, "127.0.0.1:8883");
        assert_eq!(agent.tls.key, PathBuf::from("unit.key"));
    }

    #[test]
    fn a_directory_without_bundles_is_empty_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_bundles(dir.path(), None).unwrap().is_empty());
        let unit = dir.path().join("u1");
        std::fs::create_dir(&unit).unwrap();
        std::fs::write(unit.join(AGENT_FILE), "unit = 1").unwrap();
        let err = load_bundles(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("agent.toml"), "{err}");
        assert!(load_bundles(dir.path(), Some(0)).unwrap().is_empty());
    }
}
