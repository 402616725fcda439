//! Everything outside the subset is refused with a reason.

use super::*;

// --- Refusals ----------------------------------------------------------------

#[test]
fn five_byte_remaining_length_is_refused() {
    refused(
        &[0x30, 0xff, 0xff, 0xff, 0xff],
        CodecError::BadLength,
        "more than four bytes",
    );
    refused(
        &[0x30, 0x80, 0x80, 0x80, 0x80, 0x00],
        CodecError::BadLength,
        "remaining length",
    );
}

#[test]
fn too_large_is_refused_from_the_header_alone() {
    // PUBLISH announcing 81,920 bytes; none of the body has arrived.
    refused(
        &[0x30, 0x80, 0x80, 0x05],
        CodecError::TooLarge {
            size: 4 + 81_920,
            limit: LIMIT,
        },
        "packet of 81924 bytes is larger than the limit of 70000 bytes",
    );
    // The spec's largest packet, against the same limit.
    refused_at(
        &[0x30, 0xff, 0xff, 0xff, 0x7f],
        LIMIT,
        CodecError::TooLarge {
            size: 5 + MAX_REMAINING_LENGTH,
            limit: LIMIT,
        },
    );
}

#[test]
fn server_only_and_reserved_packet_types_are_refused() {
    // 0 and 15 are reserved; CONNACK, SUBACK, UNSUBACK, PINGRESP come from
    // the server only.
    for kind in [0u8, 2, 9, 11, 13, 15] {
        let body: &[u8] = if kind == 0 || kind == 13 || kind == 15 {
            &[]
        } else {
            &[0, 1]
        };
        refused(
            &packet(kind << 4, body),
            CodecError::UnexpectedType(kind),
            &format!("packet type {kind} is not accepted from a client"),
        );
    }
}

#[test]
fn qos2_publish_is_refused() {
    refused(
        &packet(0x34, &[0, 1, b't', 0, 1]),
        CodecError::QoS2,
        "QoS 2 is not supported",
    );
}

#[test]
fn pubrec_pubrel_pubcomp_are_refused_as_qos2() {
    for first in [0x50, 0x62, 0x70] {
        refused(&packet(first, &[0, 1]), CodecError::QoS2, "QoS 2");
    }
}

#[test]
fn qos3_publish_is_refused() {
    refused(
        &packet(0x36, &[0, 1, b't', 0, 1]),
        CodecError::BadQoS("PUBLISH"),
        "malformed PUBLISH packet: QoS 3",
    );
}

#[test]
fn subscribe_with_bad_flags_is_refused() {
    let mut bytes = SUBSCRIBE.to_vec();
    bytes[0] = 0x80;
    refused(
        &bytes,
        CodecError::BadFlags { kind: 8, flags: 0 },
        "packet type 8 with invalid flags 0b0000",
    );
}

#[test]
fn puback_with_bad_flags_is_refused() {
    refused(
        &[0x42, 2, 0, 1],
        CodecError::BadFlags { kind: 4, flags: 2 },
        "invalid flags 0b0010",
    );
}

#[test]
fn other_fixed_flags_are_checked() {
    for (first, bytes) in [
        (0x11, CONNECT_MINIMAL),
        (0xa0, UNSUBSCRIBE),
        (0xc1, PINGREQ),
        (0xe8, DISCONNECT),
    ] {
        let mut bytes = bytes.to_vec();
        bytes[0] = first;
        refused(
            &bytes,
            CodecError::BadFlags {
                kind: first >> 4,
                flags: first & 0x0f,
            },
            "invalid flags",
        );
    }
}

#[test]
fn packet_id_zero_is_refused() {
    for (bytes, name) in [
        (packet(0x32, &[0, 1, b't', 0, 0]), "PUBLISH"),
        (packet(0x40, &[0, 0]), "PUBACK"),
        (packet(0x82, &[0, 0, 0, 1, b't', 0]), "SUBSCRIBE"),
        (packet(0xa2, &[0, 0, 0, 1, b't']), "UNSUBSCRIBE"),
    ] {
        refused(
            &bytes,
            CodecError::ZeroPacketId(name),
            &format!("malformed {name} packet: packet identifier 0"),
        );
    }
}

#[test]
fn invalid_utf8_is_refused() {
    for (bytes, name) in [
        (packet(0x30, &[0, 2, b'a', 0xff]), "PUBLISH"),
        // An encoded surrogate (U+D800) is not UTF-8 either.
        (packet(0x30, &[0, 3, 0xed, 0xa0, 0x80]), "PUBLISH"),
        (connect(b"MQTT", 4, 0b10, &[0, 1, 0xc3]), "CONNECT"),
        (packet(0x82, &[0, 1, 0, 1, 0x80, 0]), "SUBSCRIBE"),
        (packet(0xa2, &[0, 1, 0, 2, 0xc0, 0xaf]), "UNSUBSCRIBE"),
    ] {
        refused(
            &bytes,
            CodecError::BadString(name),
            &format!("malformed {name} packet: a string is not valid UTF-8"),
        );
    }
}

#[test]
fn nul_in_a_string_is_refused() {
    for (bytes, name) in [
        (packet(0x30, &[0, 3, b'a', 0, b'b']), "PUBLISH"),
        (connect(b"MQTT", 4, 0b10, &[0, 1, 0]), "CONNECT"),
        (packet(0x82, &[0, 1, 0, 2, b'a', 0, 0]), "SUBSCRIBE"),
        (packet(0xa2, &[0, 1, 0, 1, 0]), "UNSUBSCRIBE"),
    ] {
        refused(&bytes, CodecError::BadString(name), "without NUL");
    }
}

#[test]
fn mqtt_3_1_is_refused() {
    refused(
        &connect(b"MQIsdp", 3, 0b10, &[0, 1, b'c']),
        CodecError::Protocol {
            name: "MQIsdp".into(),
            level: 3,
        },
        "unsupported protocol \"MQIsdp\" level 3",
    );
}

#[test]
fn mqtt_5_is_refused() {
    refused(
        &connect(b"MQTT", 5, 0b10, &[0, 0, 0]),
        CodecError::Protocol {
            name: "MQTT".into(),
            level: 5,
        },
        "\"MQTT\" level 5; units speak MQTT 3.1.1 (level 4)",
    );
}

#[test]
fn long_protocol_name_is_cut_in_the_error() {
    let name = [b'x'; 40];
    refused(
        &connect(&name, 4, 0b10, &[0, 0]),
        CodecError::Protocol {
            name: "x".repeat(16),
            level: 4,
        },
        "unsupported protocol",
    );
}

#[test]
fn connect_reserved_flag_is_refused() {
    refused(
        &connect(b"MQTT", 4, 0b11, &[0, 0]),
        CodecError::Malformed("CONNECT", "reserved flag set"),
        "malformed CONNECT packet: reserved flag set",
    );
}

#[test]
fn will_qos_or_retain_without_a_will_is_refused() {
    for flags in [0b0000_1010, 0b0001_0010, 0b0010_0010] {
        refused(
            &connect(b"MQTT", 4, flags, &[0, 0]),
            CodecError::Malformed("CONNECT", "will QoS or retain set without a will"),
            "without a will",
        );
    }
}

#[test]
fn will_qos_2_and_3_are_refused() {
    let will = [0, 0, 0, 1, b't', 0, 0];
    refused(
        &connect(b"MQTT", 4, 0b0001_0110, &will),
        CodecError::QoS2,
        "QoS 2",
    );
    refused(
        &connect(b"MQTT", 4, 0b0001_1110, &will),
        CodecError::BadQoS("CONNECT"),
        "malformed CONNECT packet: QoS 3",
    );
}

#[test]
fn a_will_topic_that_is_empty_or_has_a_wildcard_is_refused() {
    for will in [
        &[0, 0, 0, 0, 0, 0][..],
        &[0, 0, 0, 1, b'#', 0, 0],
        &[0, 0, 0, 3, b'a', b'/', b'+', 0, 0],
    ] {
        refused(
            &connect(b"MQTT", 4, 0b0000_1110, will),
            CodecError::Malformed("CONNECT", "will topic is empty or has a wildcard"),
            "will topic",
        );
    }
    // Control: the same will on a plain topic is accepted.
    let plain = connect(b"MQTT", 4, 0b0000_1110, &[0, 0, 0, 1, b't', 0, 0]);
    let (packet, _) = decoded(&plain);
    assert!(matches!(
        packet,
        Packet::Connect(Connect { will: Some(_), .. })
    ));
}

#[test]
fn password_without_user_name_is_refused() {
    refused(
        &connect(b"MQTT", 4, 0b0100_0010, &[0, 0, 0, 1, b'p']),
        CodecError::Malformed("CONNECT", "password without a user name"),
        "password without a user name",
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = CONNECT_MINIMAL.to_vec();
    bytes[1] += 1;
    bytes.push(0);
    refused(
        &bytes,
        CodecError::Malformed("CONNECT", "bytes after the last field"),
        "malformed CONNECT packet: bytes after the last field",
    );
    refused(
        &packet(0x40, &[0, 1, 0]),
        CodecError::Malformed("PUBACK", "bytes after the last field"),
        "bytes after the last field",
    );
}

#[test]
fn pingreq_and_disconnect_with_a_body_are_refused() {
    refused(
        &packet(0xc0, &[0]),
        CodecError::Malformed("PINGREQ", "non-empty body"),
        "malformed PINGREQ packet: non-empty body",
    );
    refused(
        &packet(0xe0, &[0]),
        CodecError::Malformed("DISCONNECT", "non-empty body"),
        "non-empty body",
    );
}

#[test]
fn body_ending_inside_a_field_is_refused() {
    for (bytes, name) in [
        (packet(0x40, &[0]), "PUBACK"),
        // Topic length 5, three bytes of topic.
        (packet(0x30, &[0, 5, b'a', b'/', b'b']), "PUBLISH"),
        // QoS 1 with the packet id cut short.
        (packet(0x32, &[0, 1, b't', 0]), "PUBLISH"),
        // A filter without its options byte.
        (packet(0x82, &[0, 1, 0, 1, b'a']), "SUBSCRIBE"),
        (packet(0xa2, &[0, 1, 0, 3, b'a']), "UNSUBSCRIBE"),
        // Level, no flags.
        (packet(0x10, &[0, 4, b'M', b'Q', b'T', b'T', 4]), "CONNECT"),
        // User name flag, no user name.
        (connect(b"MQTT", 4, 0b1000_0010, &[0, 0]), "CONNECT"),
    ] {
        refused(
            &bytes,
            CodecError::Malformed(name, "body ends inside a field"),
            &format!("malformed {name} packet: body ends inside a field"),
        );
    }
}

#[test]
fn dup_on_qos0_is_refused() {
    let mut bytes = PUBLISH_QOS0.to_vec();
    bytes[0] = 0x38;
    refused(
        &bytes,
        CodecError::Malformed("PUBLISH", "DUP set on QoS 0"),
        "DUP set on QoS 0",
    );
}

#[test]
fn empty_publish_topic_is_refused() {
    refused(
        &packet(0x30, &[0, 0, b'x']),
        CodecError::Malformed("PUBLISH", "empty topic"),
        "malformed PUBLISH packet: empty topic",
    );
}

#[test]
fn wildcard_in_publish_topic_is_refused() {
    for topic in ["a/+", "#", "a/#", "+"] {
        let mut body = vec![0, u8::try_from(topic.len()).unwrap()];
        body.extend_from_slice(topic.as_bytes());
        refused(
            &packet(0x30, &body),
            CodecError::Malformed("PUBLISH", "wildcard in topic"),
            "wildcard in topic",
        );
    }
}

#[test]
fn subscribe_without_filters_is_refused() {
    refused(
        &packet(0x82, &[0, 1]),
        CodecError::Malformed("SUBSCRIBE", "no topic filter"),
        "malformed SUBSCRIBE packet: no topic filter",
    );
}

#[test]
fn unsubscribe_without_filters_is_refused() {
    refused(
        &packet(0xa2, &[0, 1]),
        CodecError::Malformed("UNSUBSCRIBE", "no topic filter"),
        "no topic filter",
    );
}

#[test]
fn subscribe_reserved_option_bits_are_refused() {
    for options in [0x04, 0x41, 0x80, 0xfc] {
        refused(
            &packet(0x82, &[0, 1, 0, 1, b'a', options]),
            CodecError::Malformed("SUBSCRIBE", "reserved bits set in requested QoS"),
            "reserved bits",
        );
    }
}

#[test]
fn subscribe_qos3_is_refused() {
    refused(
        &packet(0x82, &[0, 1, 0, 1, b'a', 3]),
        CodecError::BadQoS("SUBSCRIBE"),
        "malformed SUBSCRIBE packet: QoS 3",
    );
}

/// Which variant, with an exhaustive match: a new variant fails to compile
/// here until it gets a case below.
fn variant(err: &CodecError) -> &'static str {
    match err {
        CodecError::BadLength => "BadLength",
        CodecError::TooLarge { .. } => "TooLarge",
        CodecError::UnexpectedType(_) => "UnexpectedType",
        CodecError::BadFlags { .. } => "BadFlags",
        CodecError::Malformed(..) => "Malformed",
        CodecError::BadString(_) => "BadString",
        CodecError::QoS2 => "QoS2",
        CodecError::BadQoS(_) => "BadQoS",
        CodecError::ZeroPacketId(_) => "ZeroPacketId",
        CodecError::Protocol { .. } => "Protocol",
    }
}

#[test]
fn every_error_variant_is_reachable_from_decode() {
    let cases = [
        (vec![0x30, 0xff, 0xff, 0xff, 0xff], "BadLength"),
        (vec![0x30, 0x80, 0x80, 0x80, 0x01], "TooLarge"),
        (packet(0xd0, &[]), "UnexpectedType"),
        (packet(0x41, &[0, 1]), "BadFlags"),
        (packet(0x40, &[0]), "Malformed"),
        (packet(0x30, &[0, 1, 0xff]), "BadString"),
        (packet(0x34, &[0, 1, b't', 0, 1]), "QoS2"),
        (packet(0x36, &[0, 1, b't', 0, 1]), "BadQoS"),
        (packet(0x40, &[0, 0]), "ZeroPacketId"),
        (connect(b"MQTT", 3, 0b10, &[0, 0]), "Protocol"),
    ];
    for (bytes, expected) in &cases {
        let err = decode(bytes, LIMIT).expect_err("refused");
        assert_eq!(variant(&err), *expected, "{bytes:02x?}: {err}");
    }
}
