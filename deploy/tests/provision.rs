//! CA initialisation and unit provisioning through the library.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use picket_deploy::agent_file::{AgentFile, Backend};
use picket_deploy::ca::Ca;
use picket_deploy::inspect::{self, Chain, Usage};
use picket_deploy::provision::{Hardware, ProvisionRequest, provision_unit};
use picket_deploy::unit_show::{AgentFileCheck, show_unit};
use picket_deploy::{Error, ExistingFiles};
use picket_proto::ids::{SiteId, UnitId};

const SITE: &str = "0190f3a2b4c57d8e9f00112233445566";

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn request(out: &Path) -> ProvisionRequest {
    ProvisionRequest {
        site: SITE.parse().unwrap(),
        unit: None,
        out_dir: out.to_path_buf(),
        mqtt: "hub.example.com:8883".to_owned(),
        https: "https://hub.example.com".to_owned(),
        hardware: Hardware::Sim {
            socket: "sim.sock".to_owned(),
        },
        existing: ExistingFiles::Refuse,
    }
}

#[test]
fn ca_init_writes_cert_and_private_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let ca = Ca::init(&dir, "Test CA", ExistingFiles::Refuse).unwrap();

    assert_eq!(mode(&dir.join("ca.key")), 0o600);
    assert_eq!(mode(&dir.join("ca.pem")), 0o644);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(
        fs::read_to_string(dir.join("ca.pem")).unwrap(),
        ca.cert_pem()
    );

    let summary = inspect::summarize_file(&dir.join("ca.pem")).unwrap();
    assert!(summary.is_ca);
    assert_eq!(summary.common_name.as_deref(), Some("Test CA"));
    let years = summary
        .not_after
        .duration_since(summary.not_before)
        .as_hours()
        / 24
        / 365;
    assert_eq!(years, 10);
    assert_eq!(
        inspect::check_chain(&dir.join("ca.pem"), &dir.join("ca.pem")).unwrap(),
        Chain::SignedByCa,
        "self-signed"
    );
}

#[test]
fn ca_init_refuses_to_overwrite_unless_replacing() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Ca::init(tmp.path(), "Test CA", ExistingFiles::Refuse).unwrap();

    let err = Ca::init(tmp.path(), "Test CA", ExistingFiles::Refuse).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(
        fs::read_to_string(tmp.path().join("ca.pem")).unwrap(),
        first.cert_pem(),
        "the refused init changed nothing"
    );

    let second = Ca::init(tmp.path(), "Test CA", ExistingFiles::Replace).unwrap();
    assert_ne!(second.cert_pem(), first.cert_pem());
    assert_eq!(mode(&tmp.path().join("ca.key")), 0o600);
}

#[test]
fn ca_load_round_trips_and_checks_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let ca = Ca::init(&a, "A", ExistingFiles::Refuse).unwrap();
    Ca::init(&b, "B", ExistingFiles::Refuse).unwrap();

    let loaded = Ca::load(&a).unwrap();
    assert_eq!(loaded.cert_pem(), ca.cert_pem());
    assert_eq!(loaded.cert_der(), ca.cert_der());

    // A unit certificate from the loaded CA chains to the original file.
    let out = tmp.path().join("unit");
    provision_unit(&loaded, &request(&out)).unwrap();
    assert_eq!(
        inspect::check_chain(&out.join("unit.pem"), &a.join("ca.pem")).unwrap(),
        Chain::SignedByCa
    );

    // B's key with A's certificate is refused.
    fs::copy(b.join("ca.key"), a.join("ca.key")).unwrap();
    let err = Ca::load(&a).unwrap_err();
    assert!(matches!(err, Error::KeyMismatch { .. }), "{err:?}");

    let err = Ca::load(&tmp.path().join("missing")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}

#[test]
fn provision_writes_a_complete_unit_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::init(&tmp.path().join("ca"), "Test CA", ExistingFiles::Refuse).unwrap();
    let out = tmp.path().join("units").join("u1");

    let provisioned = provision_unit(&ca, &request(&out)).unwrap();
    assert_eq!(provisioned.dir, out);

    assert_eq!(mode(&out.join("unit.key")), 0o600);
    assert_eq!(mode(&out.join("unit.pem")), 0o644);
    assert_eq!(
        fs::read_to_string(out.join("ca.pem")).unwrap(),
        ca.cert_pem()
    );

    // agent.toml: header comment, and it parses back with exactly our keys.
    let text = fs::read_to_string(out.join("agent.toml")).unwrap();
    assert!(
        text.starts_with(
            "# Picket agent configuration, written by `picket-deploy unit provision`.\n"
        )
    );
    let file = AgentFile::parse(&text, &out.join("agent.toml")).unwrap();
    assert_eq!(file.unit, provisioned.unit);
    assert_eq!(file.site, SITE.parse::<SiteId>().unwrap());
    assert_eq!(file.data_dir, "data");
    assert_eq!(file.hub.mqtt, "hub.example.com:8883");
    assert_eq!(file.hub.https, "https://hub.example.com");
    assert_eq!(
        (
            file.tls.ca.as_str(),
            file.tls.cert.as_str(),
            file.tls.key.as_str()
        ),
        ("ca.pem", "unit.pem", "unit.key")
    );
    assert_eq!(file.hardware.backend, Backend::Sim);
    assert_eq!(file.hardware.sim_socket.as_deref(), Some("sim.sock"));

    // The same text as generic TOML: the expected keys and no others.
    let table: toml::Table = text.parse().unwrap();
    let keys: Vec<&str> = table.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    for key in ["unit", "site", "data_dir", "hub", "tls", "hardware"] {
        assert!(table.contains_key(key), "{key}");
    }
    assert_eq!(
        table["unit"].as_str(),
        Some(provisioned.unit.to_string().as_str())
    );

    // The certificate: O= is the unit id as 32 lowercase hex, clientAuth,
    // 5 years, signed by the CA.
    let cert = inspect::summarize_file(&out.join("unit.pem")).unwrap();
    let hex = provisioned.unit.to_string();
    assert_eq!(hex.len(), 32);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(cert.organization.as_deref(), Some(hex.as_str()));
    assert_eq!(cert.common_name.as_deref(), Some(hex.as_str()));
    assert_eq!(cert.usages, vec![Usage::ClientAuth]);
    assert!(!cert.is_ca);
    let years = cert.not_after.duration_since(cert.not_before).as_hours() / 24 / 365;
    assert_eq!(years, 5);
    assert!(cert.is_valid_at(jiff::Timestamp::now()));
    assert_eq!(
        inspect::check_chain(&out.join("unit.pem"), &out.join("ca.pem")).unwrap(),
        Chain::SignedByCa
    );

    // `unit show` reads it all back.
    let report = show_unit(&out).unwrap();
    assert_eq!(report.unit, provisioned.unit);
    assert_eq!(report.chain, Chain::SignedByCa);
    assert_eq!(report.agent_file, AgentFileCheck::SameUnit);
}

#[test]
fn provision_uses_a_given_unit_id_and_gpio() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    let unit: UnitId = "0190f3a2-b4c5-7d8e-9f00-aabbccddeeff".parse().unwrap();
    let mut req = request(tmp.path());
    req.unit = Some(unit);
    req.hardware = Hardware::Gpio;

    let provisioned = provision_unit(&ca, &req).unwrap();
    assert_eq!(provisioned.unit, unit);
    let text = fs::read_to_string(tmp.path().join("agent.toml")).unwrap();
    assert!(!text.contains("sim_socket"), "{text}");
    let file = AgentFile::parse(&text, Path::new("agent.toml")).unwrap();
    assert_eq!(file.unit, unit);
    assert_eq!(file.hardware.backend, Backend::Gpio);
    assert_eq!(file.hardware.sim_socket, None);
}

#[test]
fn provision_makes_distinct_unit_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    let a = provision_unit(&ca, &request(&tmp.path().join("a"))).unwrap();
    let b = provision_unit(&ca, &request(&tmp.path().join("b"))).unwrap();
    assert_ne!(a.unit, b.unit);
    assert_eq!(a.unit.as_uuid().get_version_num(), 7);
}

#[test]
fn provision_refuses_an_existing_identity_unless_replacing() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    let first = provision_unit(&ca, &request(tmp.path())).unwrap();

    let err = provision_unit(&ca, &request(tmp.path())).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert!(err.to_string().contains("unit.pem"), "{err}");
    assert_eq!(show_unit(tmp.path()).unwrap().unit, first.unit, "untouched");

    let mut req = request(tmp.path());
    req.existing = ExistingFiles::Replace;
    let second = provision_unit(&ca, &req).unwrap();
    assert_ne!(second.unit, first.unit);
    assert_eq!(show_unit(tmp.path()).unwrap().unit, second.unit);
    assert_eq!(mode(&tmp.path().join("unit.key")), 0o600);
}

#[test]
fn provision_refuses_bad_endpoints_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    let out = tmp.path().join("u");

    let mut req = request(&out);
    req.mqtt = "hub.example.com".to_owned();
    let err = provision_unit(&ca, &req).unwrap_err();
    assert!(err.to_string().contains("MQTT endpoint"), "{err}");

    let mut req = request(&out);
    req.https = "http://hub.example.com".to_owned();
    let err = provision_unit(&ca, &req).unwrap_err();
    assert!(err.to_string().contains("https://"), "{err}");

    assert!(!out.exists());
}

#[test]
fn a_bad_site_id_is_a_clear_error() {
    let err = "not-a-site".parse::<SiteId>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid site id \"not-a-site\": expected a UUID (32 hex digits, hyphens optional)"
    );
}

#[test]
fn unit_show_notices_another_ca_and_another_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    let other = Ca::generate("Test CA").unwrap(); // same name, other key
    let unrelated = Ca::generate("Unrelated CA").unwrap();
    provision_unit(&ca, &request(tmp.path())).unwrap();

    fs::write(tmp.path().join("ca.pem"), other.cert_pem()).unwrap();
    assert_eq!(show_unit(tmp.path()).unwrap().chain, Chain::BadSignature);
    fs::write(tmp.path().join("ca.pem"), unrelated.cert_pem()).unwrap();
    assert_eq!(show_unit(tmp.path()).unwrap().chain, Chain::OtherIssuer);

    let text = fs::read_to_string(tmp.path().join("agent.toml")).unwrap();
    let mut file = AgentFile::parse(&text, Path::new("agent.toml")).unwrap();
    let stranger: UnitId = "0190f3a2b4c57d8e9f00aabbccddeeff".parse().unwrap();
    file.unit = stranger;
    fs::write(
        tmp.path().join("agent.toml"),
        file.render(Path::new("agent.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        show_unit(tmp.path()).unwrap().agent_file,
        AgentFileCheck::OtherUnit(stranger)
    );
}

#[test]
fn test_certificates_carry_the_requested_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Ca::generate("Test CA").unwrap();
    let issued = ca
        .issue_client_cert_with_subject("intruder", Some("not-a-unit"))
        .unwrap();
    issued
        .write(tmp.path(), "unit", ExistingFiles::Refuse)
        .unwrap();
    let cert = inspect::summarize_file(&tmp.path().join("unit.pem")).unwrap();
    assert_eq!(cert.common_name.as_deref(), Some("intruder"));
    assert_eq!(cert.organization.as_deref(), Some("not-a-unit"));
    assert_eq!(cert.usages, vec![Usage::ClientAuth]);
    // `unit show` refuses it: its O= is not a unit id.
    let err = show_unit(tmp.path()).unwrap_err();
    assert!(matches!(err, Error::BadId { .. }), "{err:?}");

    let no_o = ca
        .issue_client_cert_with_subject("anonymous", None)
        .unwrap();
    no_o.write(tmp.path(), "unit", ExistingFiles::Replace)
        .unwrap();
    let err = show_unit(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("no O="), "{err}");
}
