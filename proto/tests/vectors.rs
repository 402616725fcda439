//! Golden CBOR vectors: the wire bytes of one message of every kind, checked
//! in under `tests/vectors/`. A change that alters the wire fails here.
//!
//! After an *intended* wire change (which needs a protocol version bump or a
//! compatible addition), regenerate with
//! `PICKET_BLESS=1 cargo test -p picket-proto --test vectors` and review the
//! diff.

mod support;

use std::path::PathBuf;

use picket_proto::codec::{decode, encode};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/vectors/{name}.cbor"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_sample_encodes_to_its_golden_bytes_and_back() {
    let bless = std::env::var_os("PICKET_BLESS").is_some();
    for (name, envelope) in support::samples() {
        let bytes = encode(&envelope).unwrap();
        let file = path(name);
        if bless {
            std::fs::write(&file, &bytes).unwrap();
            continue;
        }
        let golden = std::fs::read(&file).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with PICKET_BLESS=1 to create it",
                file.display()
            )
        });
        assert_eq!(
            hex(&bytes),
            hex(&golden),
            "{name}: encoding changed; the wire is no longer what {} says",
            file.display()
        );
        assert_eq!(
            decode(&golden).unwrap(),
            envelope,
            "{name}: decoding changed"
        );
    }
}

#[test]
fn no_stray_vectors() {
    let names: Vec<_> = support::samples().into_iter().map(|(n, _)| n).collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let stem = file.trim_end_matches(".cbor");
        assert!(names.contains(&stem), "{file} has no sample");
    }
}
