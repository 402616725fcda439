//! Spec examples decode, encoders write the spec's bytes, partial input
//! waits.

use super::*;

// --- Spec examples decode -------------------------------------------------

#[test]
fn connect_with_will_user_name_and_password_decodes() {
    let (packet, used) = decoded(CONNECT_FULL);
    assert_eq!(used, CONNECT_FULL.len());
    assert_eq!(
        packet,
        Packet::Connect(Connect {
            client_id: "unit-1",
            keep_alive: 60,
            clean_session: true,
            will: Some(Will {
                topic: "w/t",
                payload: b"bye",
                qos: 1,
                retain: true,
            }),
            username: Some("u"),
            password: Some(&[0x00, 0xff]),
        })
    );
    assert_eq!(packet.name(), "CONNECT");
}

#[test]
fn minimal_connect_decodes() {
    assert_eq!(
        decoded(CONNECT_MINIMAL),
        (
            Packet::Connect(Connect {
                client_id: "",
                keep_alive: 0,
                clean_session: true,
                will: None,
                username: None,
                password: None,
            }),
            CONNECT_MINIMAL.len()
        )
    );
}

#[test]
fn connect_without_clean_session_and_with_user_name_only_decodes() {
    let bytes = connect(b"MQTT", 4, 0b1000_0000, b"\x00\x01c\x00\x02me");
    let (Packet::Connect(c), used) = decoded(&bytes) else {
        panic!("not a CONNECT");
    };
    assert_eq!(used, bytes.len());
    assert!(!c.clean_session);
    assert_eq!(
        (c.client_id, c.username, c.password),
        ("c", Some("me"), None)
    );
}

#[test]
fn qos1_publish_decodes() {
    let (packet, used) = decoded(PUBLISH_QOS1);
    assert_eq!(used, PUBLISH_QOS1.len());
    assert_eq!(
        packet,
        Packet::Publish(Publish {
            topic: "a/b",
            payload: b"hi",
            qos: 1,
            retain: false,
            dup: false,
            pid: Some(10),
        })
    );
    assert_eq!(packet.name(), "PUBLISH");
}

#[test]
fn qos1_publish_with_dup_and_retain_decodes() {
    let mut bytes = PUBLISH_QOS1.to_vec();
    bytes[0] = 0x3b;
    let (Packet::Publish(p), _) = decoded(&bytes) else {
        panic!("not a PUBLISH");
    };
    assert!(p.dup && p.retain);
    assert_eq!((p.qos, p.pid), (1, Some(10)));
}

#[test]
fn qos0_publish_takes_the_rest_as_payload() {
    assert_eq!(
        decoded(PUBLISH_QOS0),
        (
            Packet::Publish(Publish {
                topic: "a/b",
                payload: b"hi",
                qos: 0,
                retain: false,
                dup: false,
                pid: None,
            }),
            PUBLISH_QOS0.len()
        )
    );
    let (Packet::Publish(empty), _) = decoded(&[0x31, 5, 0, 3, b'a', b'/', b'b']) else {
        panic!("not a PUBLISH");
    };
    assert_eq!((empty.payload, empty.retain), (&b""[..], true));
}

#[test]
fn puback_decodes() {
    assert_eq!(decoded(PUBACK), (Packet::PubAck(10), 4));
}

#[test]
fn subscribe_with_two_filters_decodes() {
    let (packet, used) = decoded(SUBSCRIBE);
    assert_eq!(used, SUBSCRIBE.len());
    assert_eq!(packet, Packet::Subscribe(1, vec![("a/+", 1), ("b/#", 0)]));
    assert_eq!(packet.name(), "SUBSCRIBE");
}

#[test]
fn subscribe_may_request_qos2() {
    let bytes = packet(0x82, &[0, 1, 0, 1, b'x', 2]);
    assert_eq!(decoded(&bytes).0, Packet::Subscribe(1, vec![("x", 2)]));
}

#[test]
fn unsubscribe_decodes() {
    assert_eq!(
        decoded(UNSUBSCRIBE),
        (
            Packet::Unsubscribe(2, vec!["a/+", "b/#"]),
            UNSUBSCRIBE.len()
        )
    );
}

#[test]
fn pingreq_and_disconnect_decode() {
    assert_eq!(decoded(PINGREQ), (Packet::PingReq, 2));
    assert_eq!(decoded(DISCONNECT), (Packet::Disconnect, 2));
    assert_eq!(Packet::PingReq.name(), "PINGREQ");
    assert_eq!(Packet::Disconnect.name(), "DISCONNECT");
}

// --- Encoders write the spec's bytes ---------------------------------------

#[test]
fn connack_bytes() {
    let mut out = Vec::new();
    encode_connack(&mut out, false, ConnectReturn::Accepted);
    encode_connack(&mut out, true, ConnectReturn::Accepted);
    assert_eq!(out, [0x20, 2, 0, 0, 0x20, 2, 1, 0]);
    for (code, byte) in [
        (ConnectReturn::BadProtocol, 1),
        (ConnectReturn::BadClientId, 2),
        (ConnectReturn::Unavailable, 3),
        (ConnectReturn::NotAuthorized, 5),
    ] {
        let mut out = Vec::new();
        // A refusal never says a session is present (§3.2.2.2).
        encode_connack(&mut out, true, code);
        assert_eq!(out, [0x20, 2, 0, byte], "{code}");
    }
}

#[test]
fn connect_return_codes_read_like_the_spec() {
    assert_eq!(ConnectReturn::Accepted.to_string(), "accepted");
    assert_eq!(
        ConnectReturn::BadProtocol.to_string(),
        "unacceptable protocol version"
    );
    assert_eq!(ConnectReturn::NotAuthorized.to_string(), "not authorized");
}

#[test]
fn puback_bytes() {
    let mut out = Vec::new();
    encode_puback(&mut out, 0x1234);
    assert_eq!(out, [0x40, 2, 0x12, 0x34]);
}

#[test]
fn suback_bytes() {
    let mut out = Vec::new();
    encode_suback(&mut out, 1, &[1, 0x80, 0]);
    assert_eq!(out, [0x90, 5, 0, 1, 1, 0x80, 0]);
}

#[test]
fn unsuback_bytes() {
    let mut out = Vec::new();
    encode_unsuback(&mut out, 0xbeef);
    assert_eq!(out, [0xb0, 2, 0xbe, 0xef]);
}

#[test]
fn pingresp_bytes() {
    let mut out = Vec::new();
    encode_pingresp(&mut out);
    assert_eq!(out, [0xd0, 0]);
}

#[test]
fn publish_qos0_bytes() {
    let mut out = Vec::new();
    encode_publish(&mut out, "a/b", b"hi", None, false, false);
    assert_eq!(out, PUBLISH_QOS0);
    // Retain sets bit 0; DUP has no meaning at QoS 0 and is never sent.
    out.clear();
    encode_publish(&mut out, "a/b", b"hi", None, true, true);
    assert_eq!(out, [0x31, 7, 0, 3, b'a', b'/', b'b', b'h', b'i']);
}

#[test]
fn publish_qos1_bytes() {
    let mut out = Vec::new();
    encode_publish(&mut out, "a/b", b"hi", Some(10), false, false);
    assert_eq!(out, PUBLISH_QOS1);
    out.clear();
    encode_publish(&mut out, "a/b", b"x", Some(0x0102), true, true);
    assert_eq!(out, [0x3b, 8, 0, 3, b'a', b'/', b'b', 1, 2, b'x']);
}

#[test]
fn remaining_length_127_128_16383_16384_takes_1_2_2_3_bytes() {
    for (remaining, length_bytes) in [
        (127, &[0x7f][..]),
        (128, &[0x80, 0x01]),
        (16_383, &[0xff, 0x7f]),
        (16_384, &[0x80, 0x80, 0x01]),
    ] {
        // QoS 0 on "t": 3 bytes of topic, the rest payload.
        let payload = vec![0xa5; remaining - 3];
        let mut out = Vec::new();
        encode_publish(&mut out, "t", &payload, None, false, false);
        assert_eq!(out[0], 0x30);
        assert_eq!(&out[1..1 + length_bytes.len()], length_bytes, "{remaining}");
        assert_eq!(out.len(), 1 + length_bytes.len() + remaining);
        let (Packet::Publish(p), used) = decoded(&out) else {
            panic!("not a PUBLISH");
        };
        assert_eq!((p.payload, used), (&payload[..], out.len()));
    }
}

#[test]
fn remaining_length_up_to_the_spec_maximum() {
    for (remaining, expected) in [
        (0, &[0x00][..]),
        (2_097_151, &[0xff, 0xff, 0x7f]),
        (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
        (MAX_REMAINING_LENGTH, &[0xff, 0xff, 0xff, 0x7f]),
    ] {
        let mut out = Vec::new();
        header(&mut out, 0x30, remaining);
        assert_eq!(&out[1..], expected, "{remaining}");
        assert_eq!(
            fixed_header(&out),
            Ok(Some((0x30, remaining, out.len()))),
            "{remaining}"
        );
    }
}

#[test]
fn client_encoders_write_the_spec_examples() {
    let mut out = Vec::new();
    let Packet::Connect(full) = decoded(CONNECT_FULL).0 else {
        panic!("not a CONNECT");
    };
    encode_connect(&mut out, &full);
    assert_eq!(out, CONNECT_FULL);
    out.clear();
    encode_subscribe(&mut out, 1, &[("a/+", 1), ("b/#", 0)]);
    assert_eq!(out, SUBSCRIBE);
    out.clear();
    encode_unsubscribe(&mut out, 2, &["a/+", "b/#"]);
    assert_eq!(out, UNSUBSCRIBE);
    out.clear();
    encode_pingreq(&mut out);
    encode_disconnect(&mut out);
    assert_eq!(out, [0xc0, 0, 0xe0, 0]);
}

#[test]
fn decode_server_reads_what_the_hub_encodes() {
    let mut out = Vec::new();
    encode_connack(&mut out, true, ConnectReturn::Accepted);
    encode_publish(&mut out, "a/b", b"hi", Some(10), true, true);
    encode_puback(&mut out, 7);
    encode_suback(&mut out, 3, &[1, 0x80]);
    encode_unsuback(&mut out, 4);
    encode_pingresp(&mut out);
    let mut rest = &out[..];
    let mut packets = Vec::new();
    while !rest.is_empty() {
        let (packet, used) = decode_server(rest).unwrap().expect("complete");
        packets.push(packet);
        rest = &rest[used..];
    }
    assert_eq!(
        packets,
        [
            ServerPacket::ConnAck(true, 0),
            ServerPacket::Publish(Publish {
                topic: "a/b",
                payload: b"hi",
                qos: 1,
                retain: true,
                dup: true,
                pid: Some(10),
            }),
            ServerPacket::PubAck(7),
            ServerPacket::SubAck(3, &[1, 0x80]),
            ServerPacket::UnsubAck(4),
            ServerPacket::PingResp,
        ]
    );
}

#[test]
fn decode_server_refuses_client_packets() {
    assert_eq!(
        decode_server(CONNECT_MINIMAL),
        Err(CodecError::UnexpectedType(1))
    );
    assert_eq!(
        decode_server(&[0x20, 1, 0]),
        Err(CodecError::Malformed("CONNACK", "expected two bytes"))
    );
}

#[test]
fn fuzz_seeds_are_the_spec_examples() {
    // `fuzz/corpus/packet/seed-*.bin`: one of each packet a client sends.
    macro_rules! seed {
        ($name:literal) => {
            &include_bytes!(concat!("../../../fuzz/corpus/packet/seed-", $name, ".bin"))[..]
        };
    }
    let seeds = [
        seed!("connect"),
        seed!("connect_minimal"),
        seed!("publish_qos1"),
        seed!("publish_qos0"),
        seed!("puback"),
        seed!("subscribe"),
        seed!("unsubscribe"),
        seed!("pingreq"),
        seed!("disconnect"),
    ];
    assert_eq!(seeds, CLIENT_PACKETS);
}

// --- Incomplete input ------------------------------------------------------

#[test]
fn every_strict_prefix_is_incomplete() {
    for bytes in CLIENT_PACKETS {
        for len in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..len], LIMIT),
                Ok(None),
                "{bytes:02x?}[..{len}]"
            );
        }
        assert!(decode(bytes, LIMIT).unwrap().is_some(), "{bytes:02x?}");
    }
}

#[test]
fn every_strict_prefix_of_a_server_packet_is_incomplete() {
    let mut out = Vec::new();
    encode_publish(&mut out, "a/b", &[7; 200], Some(1), false, false);
    for len in 0..out.len() {
        assert_eq!(decode_server(&out[..len]), Ok(None), "[..{len}]");
    }
    assert!(decode_server(&out).unwrap().is_some());
}

#[test]
fn packets_back_to_back_decode_one_after_another() {
    let stream: Vec<u8> = CLIENT_PACKETS.concat();
    let mut rest = &stream[..];
    for bytes in CLIENT_PACKETS {
        let (packet, used) = decoded(rest);
        assert_eq!(used, bytes.len());
        assert_eq!(packet, decoded(bytes).0);
        rest = &rest[used..];
    }
    assert_eq!(decode(rest, LIMIT), Ok(None));
}

#[test]
fn four_continuation_bytes_without_a_fifth_are_incomplete() {
    // Not yet known to be malformed: the fifth byte decides.
    assert_eq!(decode(&[0x30, 0x80, 0x80, 0x80], LIMIT), Ok(None));
}

#[test]
fn packet_exactly_at_the_limit_is_accepted() {
    assert_eq!(
        decode(PUBLISH_QOS0, PUBLISH_QOS0.len()).unwrap().unwrap().1,
        9
    );
    refused_at(
        PUBLISH_QOS0,
        PUBLISH_QOS0.len() - 1,
        CodecError::TooLarge { size: 9, limit: 8 },
    );
}
