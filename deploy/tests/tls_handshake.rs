//! The certificates we issue work with rustls the way the hub and the agent
//! use them: the hub is a TLS server that requires a client certificate from
//! our CA; a unit presents its certificate and verifies the hub's against
//! `ca.pem`. Handshakes run in memory.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use picket_deploy::ca::Ca;
use picket_deploy::hub_cert::{HubCertRequest, write_hub_cert};
use picket_deploy::provision::{Hardware, ProvisionRequest, provision_unit};
use picket_deploy::{ExistingFiles, IssuedCert};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig,
    ServerConnection,
};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_pem: &Path) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca_pem).unwrap())
        .unwrap();
    Arc::new(roots)
}

/// The hub's side, from the files `hub cert` wrote.
fn server_config(hub_dir: &Path) -> Arc<ServerConfig> {
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots(&hub_dir.join("ca.pem")), provider())
            .build()
            .unwrap();
    let chain = vec![CertificateDer::from_pem_file(hub_dir.join("hub.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(hub_dir.join("hub.key")).unwrap();
    Arc::new(
        ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap(),
    )
}

/// A unit's side, from the files `unit provision` wrote.
fn client_config(unit_dir: &Path) -> Arc<ClientConfig> {
    let chain = vec![CertificateDer::from_pem_file(unit_dir.join("unit.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(unit_dir.join("unit.key")).unwrap();
    client_config_with(&unit_dir.join("ca.pem"), chain, key)
}

fn client_config_with(
    ca_pem: &Path,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Arc<ClientConfig> {
    Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots(ca_pem))
            .with_client_auth_cert(chain, key)
            .unwrap(),
    )
}

fn ders(issued: &IssuedCert) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    (
        vec![CertificateDer::from(issued.cert_der.clone())],
        PrivateKeyDer::try_from(issued.key_der.clone()).unwrap(),
    )
}

/// Moves TLS records between the two ends until both finished the
/// handshake, or one refuses.
fn handshake(client: &mut Connection, server: &mut Connection) -> Result<(), rustls::Error> {
    for _ in 0..10 {
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
        transfer(client, server)?;
        transfer(server, client)?;
    }
    panic!("handshake did not finish in 10 round trips");
}

fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).unwrap();
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
    }
    to.process_new_packets().map(|_| ())
}

fn connect(
    client: &Arc<ClientConfig>,
    server: &Arc<ServerConfig>,
    name: &str,
) -> (Result<(), rustls::Error>, Connection, Connection) {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let mut c = Connection::from(ClientConnection::new(client.clone(), name).unwrap());
    let mut s = Connection::from(ServerConnection::new(server.clone()).unwrap());
    let result = handshake(&mut c, &mut s);
    (result, c, s)
}

/// A CA, a hub directory and a unit directory, as an operator makes them.
struct Setup {
    _tmp: tempfile::TempDir,
    hub_dir: std::path::PathBuf,
    unit_dir: std::path::PathBuf,
    unit: picket_proto::ids::UnitId,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::init(&tmp.path().join("ca"), "Test CA", ExistingFiles::Refuse).unwrap();
    let hub_dir = tmp.path().join("hub");
    write_hub_cert(
        &ca,
        &HubCertRequest {
            out_dir: hub_dir.clone(),
            dns: vec!["localhost".to_owned()],
            ips: vec!["127.0.0.1".parse().unwrap()],
            existing: ExistingFiles::Refuse,
        },
    )
    .unwrap();
    let unit_dir = tmp.path().join("unit");
    let provisioned = provision_unit(
        &ca,
        &ProvisionRequest {
            site: "0190f3a2b4c57d8e9f00112233445566".parse().unwrap(),
            unit: None,
            out_dir: unit_dir.clone(),
            mqtt: "localhost:8883".to_owned(),
            https: "https://localhost:8443".to_owned(),
            hardware: Hardware::Gpio,
            existing: ExistingFiles::Refuse,
        },
    )
    .unwrap();
    Setup {
        _tmp: tmp,
        hub_dir,
        unit_dir,
        unit: provisioned.unit,
    }
}

#[test]
fn unit_and_hub_complete_a_mutual_tls_handshake() {
    let setup = setup();
    let server = server_config(&setup.hub_dir);
    let client = client_config(&setup.unit_dir);

    for name in ["localhost", "127.0.0.1"] {
        let (result, mut c, mut s) = connect(&client, &server, name);
        result.unwrap_or_else(|e| panic!("handshake to {name}: {e}"));

        // The hub sees the unit's certificate, and data flows.
        let peer = s.peer_certificates().unwrap();
        assert_eq!(peer.len(), 1);
        let (_, cert) = x509_parser::parse_x509_certificate(peer[0].as_ref()).unwrap();
        let o = cert.subject().iter_organization().next().unwrap();
        assert_eq!(o.as_str().unwrap(), setup.unit.to_string());

        c.writer().write_all(b"hello hub").unwrap();
        transfer(&mut c, &mut s).unwrap();
        let mut got = [0u8; 9];
        s.reader().read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello hub");
    }
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let setup = setup();
    let server = server_config(&setup.hub_dir);
    // Same CA name, different key: only the signature tells them apart.
    let rogue_ca = Ca::generate("Test CA").unwrap();
    let rogue = rogue_ca.issue_unit_cert(setup.unit).unwrap();
    let (chain, key) = ders(&rogue);
    let client = client_config_with(&setup.unit_dir.join("ca.pem"), chain, key);

    let (result, _, _) = connect(&client, &server, "localhost");
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature
            )
        ),
        "{err:?}"
    );
}

#[test]
fn a_server_certificate_is_refused_as_a_client_certificate() {
    let setup = setup();
    let server = server_config(&setup.hub_dir);
    let chain = vec![CertificateDer::from_pem_file(setup.hub_dir.join("hub.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(setup.hub_dir.join("hub.key")).unwrap();
    let client = client_config_with(&setup.hub_dir.join("ca.pem"), chain, key);

    let (result, _, _) = connect(&client, &server, "localhost");
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose)
                | rustls::Error::InvalidCertificate(CertificateError::InvalidPurposeContext { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn the_unit_refuses_a_hub_name_not_in_the_certificate() {
    let setup = setup();
    let server = server_config(&setup.hub_dir);
    let client = client_config(&setup.unit_dir);
    let (result, _, _) = connect(&client, &server, "hub.example.com");
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
                | rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
        ),
        "{err:?}"
    );
}
