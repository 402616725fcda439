//! Decodes arbitrary bytes as a packet from a client. Decoding must never
//! panic, and whatever decodes must survive encode → decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket_mqtt::codec::{Packet, client, decode, decode_server, encode_puback, encode_publish};

/// Above a 64 KiB payload with its headers, so the largest topics and
/// filters (65,535 bytes) fit.
const LIMIT: usize = 70_000;

fuzz_target!(|data: &[u8]| {
    let _ = decode_server(data);

    let Ok(Some((first, used))) = decode(data, LIMIT) else {
        return;
    };
    assert!(used <= data.len(), "used {used} of {} bytes", data.len());
    let mut bytes = Vec::new();
    match &first {
        Packet::Connect(connect) => client::encode_connect(&mut bytes, connect),
        Packet::Publish(p) => {
            encode_publish(&mut bytes, p.topic, p.payload, p.pid, p.dup, p.retain)
        }
        // The hub's PUBACK encoder writes the same wire as a client's.
        Packet::PubAck(pid) => encode_puback(&mut bytes, *pid),
        Packet::Subscribe(pid, filters) => client::encode_subscribe(&mut bytes, *pid, filters),
        Packet::Unsubscribe(pid, filters) => client::encode_unsubscribe(&mut bytes, *pid, filters),
        Packet::PingReq => client::encode_pingreq(&mut bytes),
        Packet::Disconnect => client::encode_disconnect(&mut bytes),
    }
    // The input may spell the remaining length with more bytes than needed;
    // the encoder never does, so the copy is never longer.
    assert!(
        bytes.len() <= used,
        "re-encoded {} bytes, read {used}",
        bytes.len()
    );
    let (second, used_again) = decode(&bytes, LIMIT)
        .expect("a re-encoded packet decodes again")
        .expect("a re-encoded packet is whole");
    assert_eq!(first, second, "round trip changed the packet");
    assert_eq!(used_again, bytes.len());
});
