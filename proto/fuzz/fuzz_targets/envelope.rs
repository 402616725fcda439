//! Decodes arbitrary bytes as an envelope. Decoding must never panic, and
//! whatever decodes must survive encode → decode unchanged.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use picket_proto::codec::{decode, decode_on, encode};
use picket_proto::topic::{Topic, TopicKind};

static TOPIC: LazyLock<Topic> = LazyLock::new(|| {
    let unit = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b"
        .parse()
        .expect("fixed unit id parses");
    Topic::new(unit, TopicKind::Event)
});

fuzz_target!(|data: &[u8]| {
    let _ = decode_on(&TOPIC, data);

    let Ok(first) = decode(data) else {
        return;
    };
    // Unknown bodies (and unknown nested variants) are refused by `encode`
    // by design; nothing to round-trip then.
    let Ok(bytes) = encode(&first) else {
        return;
    };
    let second = decode(&bytes).expect("an encoded envelope decodes again");
    if first != second {
        // NaN (e.g. a temperature) is never equal to itself, so compare the
        // printed values, which differ for any other change.
        assert_eq!(
            format!("{first:?}"),
            format!("{second:?}"),
            "round trip changed the envelope"
        );
    }
});
