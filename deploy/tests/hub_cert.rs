//! The hub's TLS server certificate.

use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;

use picket_deploy::ca::Ca;
use picket_deploy::hub_cert::{HubCertRequest, write_hub_cert};
use picket_deploy::inspect::{self, Chain, Usage};
use picket_deploy::{Error, ExistingFiles};

fn request(out: &std::path::Path) -> HubCertRequest {
    HubCertRequest {
        out_dir: out.to_path_buf(),
        dns: vec!["hub.example.com".to_owned(), "localhost".to_owned()],
        ips: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
        existing: ExistingFiles::Refuse,
    }
}

#[test]
fn hub_cert_has_the_sans_and_server_auth() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    let out = tmp.path().join("hub");
    write_hub_cert(&ca, &request(&out)).unwrap();

    let mode = |name: &str| fs::metadata(out.join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("hub.key"), 0o600);
    assert_eq!(mode("hub.pem"), 0o644);
    assert_eq!(
        fs::read_to_string(out.join("ca.pem")).unwrap(),
        ca.cert_pem()
    );
    let pem = fs::read_to_string(out.join("hub.pem")).unwrap();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1, "leaf only");

    let cert = inspect::summarize_file(&out.join("hub.pem")).unwrap();
    assert_eq!(cert.dns_names, ["hub.example.com", "localhost"]);
    let ips: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
    assert_eq!(cert.ip_addresses, ips);
    assert_eq!(cert.common_name.as_deref(), Some("hub.example.com"));
    assert_eq!(cert.usages, vec![Usage::ServerAuth]);
    assert!(!cert.is_ca);
    assert_eq!(
        inspect::check_chain(&out.join("hub.pem"), &out.join("ca.pem")).unwrap(),
        Chain::SignedByCa
    );
}

#[test]
fn hub_cert_refuses_to_overwrite_unless_replacing() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    write_hub_cert(&ca, &request(tmp.path())).unwrap();
    let err = write_hub_cert(&ca, &request(tmp.path())).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    let mut req = request(tmp.path());
    req.existing = ExistingFiles::Replace;
    write_hub_cert(&ca, &req).unwrap();
}

#[test]
fn hub_cert_refuses_bad_names() {
    let ca = Ca::generate("Test CA").unwrap();
    for bad in ["", "hub example", "hub..example", "-/x", "a.b_c"] {
        let err = ca.issue_hub_cert(&[bad.to_owned()], &[]).unwrap_err();
        assert!(err.to_string().contains("DNS name"), "{bad}: {err}");
    }
    let err = ca.issue_hub_cert(&[], &[]).unwrap_err();
    assert!(err.to_string().contains("at least one"), "{err}");
    // An IP address alone is enough; it becomes the CN.
    ca.issue_hub_cert(&[], &["10.1.2.3".parse().unwrap()])
        .unwrap();
}
