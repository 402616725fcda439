//! Architecture invariants, checked on every `make test`.

use std::collections::BTreeMap;
use std::process::Command;

use picket_proto::ids::UnitId;
use picket_proto::topic::{Topic, TopicKind};
use picket_tests::workspace_root;

/// `cargo metadata --no-deps` of the workspace (the workspace's own manifests).
fn metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args([
        "metadata",
        "--format-version",
        "1",
        "--offline",
        "--no-deps",
    ]);
    let out = cmd.output().expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("metadata is JSON")
}

/// Crates that do IO or run an async runtime; none may reach the pure
/// crates (picket-proto, picket-access, picket-mqtt).
const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "async-std",
    "smol",
    "rumqttc",
    "rumqttd",
    "rusqlite",
    "libsqlite3-sys",
    "gstreamer",
    "ffmpeg-next",
    "axum",
    "hyper",
    "reqwest",
    "rustls",
    "socket2",
    "str0m",
    "getrandom",
    "rand",
];

#[test]
fn proto_has_no_io_or_runtime_dependency() {
    assert_no_io_dependency("picket-proto");
}

#[test]
fn access_has_no_io_or_runtime_dependency() {
    assert_no_io_dependency("picket-access");
}

#[test]
fn mqtt_has_no_io_or_runtime_dependency() {
    assert_no_io_dependency("picket-mqtt");
}

fn assert_no_io_dependency(package: &str) {
    // `cargo tree` (unlike `cargo metadata`) needs only this platform's
    // packages, so it works offline on a fresh checkout after a build.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let reached: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    for io in IO_CRATES {
        assert!(
            !reached.contains(io),
            "{package} depends on {io}: it must stay pure"
        );
    }
    assert!(
        reached.contains(&"jiff"),
        "the walk found {package}'s dependencies: {reached:?}"
    );
}

#[test]
fn proto_source_reads_no_clock_and_does_no_io() {
    assert_source_pure("proto/src", 10);
}

#[test]
fn access_source_reads_no_clock_and_does_no_io() {
    assert_source_pure("access/src", 10);
}

#[test]
fn mqtt_source_reads_no_clock_and_does_no_io() {
    assert_source_pure("mqtt/src", 4);
}

/// `min_files`: how many source files the walk must find (so a moved
/// directory cannot make the check vacuous).
fn assert_source_pure(source_dir: &str, min_files: usize) {
    let forbidden = [
        "SystemTime::now",
        "Instant::now",
        "Timestamp::now",
        "Zoned::now",
        "std::fs",
        "std::net",
        "std::thread",
        "std::env",
        "std::process",
        "now_v7",
        "new_v4",
    ];
    let dir = workspace_root().join(source_dir);
    let mut files = vec![dir];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(
                std::fs::read_dir(&path)
                    .expect("read dir")
                    .map(|e| e.expect("entry").path()),
            );
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            // Unit tests may read what they like (inline modules, and
            // files that are test-only modules such as `tests.rs`).
            if path
                .file_name()
                .is_some_and(|n| n == "tests.rs" || n == "testkit.rs")
            {
                continue;
            }
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for f in forbidden {
                assert!(!code.contains(f), "{} uses {f}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= min_files, "only {checked} files checked");
}

#[test]
fn crates_depend_on_each_other_only_as_designed() {
    let meta = metadata();
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("picket-proto", &[][..]),
        ("picket-agent", &["picket-proto"][..]),
        ("picket-access", &["picket-proto"][..]),
        ("picket-mqtt", &["picket-proto"][..]),
        (
            "picket-hub",
            &["picket-proto", "picket-access", "picket-mqtt"][..],
        ),
        ("picket-sim", &["picket-proto"][..]),
        ("picket-deploy", &["picket-proto"][..]),
    ]);
    for package in meta["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().unwrap_or_default();
        let Some(allowed) = allowed.get(name) else {
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            if dep_name.starts_with("picket-") {
                assert!(
                    allowed.contains(&dep_name),
                    "{name} must not depend on {dep_name}"
                );
            }
        }
    }
}

#[test]
fn every_topic_in_the_protocol_doc_parses_and_every_kind_is_documented() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/protocol.md"))
        .expect("docs/protocol.md");
    let unit: UnitId = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b".parse().expect("unit id");
    let mut documented = Vec::new();
    for token in doc.split(|c: char| c.is_whitespace() || c == '`' || c == '|') {
        // The bare prefix is mentioned as such; every longer token is a topic.
        if let Some(rest) = token
            .strip_prefix("/tenants/<unit>/")
            .filter(|r| !r.is_empty())
        {
            let topic = format!("/tenants/{unit}/{rest}");
            let parsed = Topic::parse(&topic).unwrap_or_else(|e| panic!("docs/protocol.md: {e}"));
            documented.push(parsed.kind);
        }
    }
    for kind in TopicKind::ALL {
        assert!(
            documented.contains(&kind),
            "docs/protocol.md does not document {}",
            kind.segment()
        );
    }
}

#[test]
fn the_readme_leads_with_the_two_commands() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let demo = readme.find("make demo").expect("README shows make demo");
    let test = readme.find("make test").expect("README shows make test");
    let first_other = readme.find("cargo ").unwrap_or(usize::MAX);
    assert!(
        demo < first_other && test < first_other,
        "the two commands come first"
    );
}

#[test]
fn cross_config_covers_both_unit_targets_with_video_libraries() {
    let text = std::fs::read_to_string(workspace_root().join("cross.toml")).expect("cross.toml");
    let config: toml::Table = text.parse().expect("cross.toml is TOML");
    for target in ["aarch64-unknown-linux-gnu", "armv7-unknown-linux-gnueabihf"] {
        let pre = config["target"][target]["pre-build"]
            .as_array()
            .expect("pre-build list");
        let steps: Vec<&str> = pre.iter().filter_map(|s| s.as_str()).collect();
        assert!(
            steps.iter().any(|s| s.contains("--add-architecture")),
            "{target}: multiarch"
        );
        for lib in [
            "libgstreamer1.0-dev:",
            "libgstrtspserver-1.0-dev:",
            "libavformat-dev:",
        ] {
            assert!(
                steps.iter().any(|s| s.contains(lib)),
                "{target}: installs {lib}"
            );
        }
    }
    let link = std::fs::read_link(workspace_root().join("Cross.toml")).expect("Cross.toml link");
    assert_eq!(link, std::path::Path::new("cross.toml"));
}
