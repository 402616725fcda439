//! The `picket-deploy` binary, run as an operator would.

use std::path::Path;
use std::process::{Command, Output};

const SITE: &str = "0190f3a2b4c57d8e9f00112233445566";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket-deploy"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn failing(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn ca_hub_provision_show() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    let hub = tmp.path().join("hub");
    let unit = tmp.path().join("unit");

    ok(&["ca", "init", "--dir", s(&ca), "--name", "Acme Picket CA"]);
    let err = failing(&["ca", "init", "--dir", s(&ca)]);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert!(!err.contains("backtrace"), "{err}");
    ok(&[
        "ca",
        "init",
        "--dir",
        s(&ca),
        "--name",
        "Acme Picket CA",
        "--force",
    ]);

    ok(&["hub", "cert", "--ca-dir", s(&ca), "--out", s(&hub)]);
    for file in ["hub.pem", "hub.key", "ca.pem"] {
        assert!(hub.join(file).exists(), "{file}");
    }

    let out = ok(&[
        "unit",
        "provision",
        "--ca-dir",
        s(&ca),
        "--site",
        SITE,
        "--out",
        s(&unit),
        "--mqtt",
        "localhost:8883",
        "--https",
        "https://localhost:8443",
    ]);
    let id = out
        .lines()
        .find_map(|line| line.strip_prefix("unit "))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(id.len(), 32, "{out}");
    assert!(out.contains(s(&unit)), "{out}");

    let show = ok(&["unit", "show", "--dir", s(&unit)]);
    assert!(show.contains(&id), "{show}");
    assert!(show.contains("Acme Picket CA"), "{show}");
    assert!(show.contains("signature verified"), "{show}");
    assert!(show.contains("valid now"), "{show}");
    assert!(show.contains("names this unit"), "{show}");
}

#[test]
fn a_bad_site_id_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    ok(&["ca", "init", "--dir", s(&ca)]);
    let out = tmp.path().join("unit");
    let err = failing(&[
        "unit",
        "provision",
        "--ca-dir",
        s(&ca),
        "--site",
        "warehouse-7",
        "--out",
        s(&out),
        "--mqtt",
        "localhost:8883",
        "--https",
        "https://localhost:8443",
    ]);
    assert!(err.contains("invalid site id \"warehouse-7\""), "{err}");
    assert!(err.contains("expected a UUID"), "{err}");
    assert!(!out.exists());
}

#[test]
fn sim_socket_needs_the_sim_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca");
    ok(&["ca", "init", "--dir", s(&ca)]);
    let err = failing(&[
        "unit",
        "provision",
        "--ca-dir",
        s(&ca),
        "--site",
        SITE,
        "--out",
        s(&tmp.path().join("u")),
        "--mqtt",
        "h:8883",
        "--https",
        "https://h",
        "--hardware",
        "gpio",
        "--sim-socket",
        "x.sock",
    ]);
    assert!(err.contains("--sim-socket only applies"), "{err}");
}

#[test]
fn every_flag_is_explained_in_help() {
    for cmd in [
        &["ca", "init"][..],
        &["hub", "cert"],
        &["unit", "provision"],
        &["unit", "show"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = ok(&args);
        for line in help.lines().filter(|l| l.trim_start().starts_with("--")) {
            let explained = line
                .trim_start()
                .split_once("  ")
                .map(|(_, rest)| rest.trim());
            assert!(
                explained.is_some_and(|text| !text.is_empty()),
                "{cmd:?}: flag without explanation: {line}"
            );
        }
    }
}
