//! Round trips and robustness on arbitrary input.

use proptest::prelude::*;

use super::*;

// --- Properties ------------------------------------------------------------

/// A string the codec carries: any UTF-8 without U+0000.
fn mqtt_string() -> impl Strategy<Value = String> {
    r"[^\x00]{0,12}"
}

/// A topic name: not empty, no wildcards.
fn topic_name() -> impl Strategy<Value = String> {
    r"[^\x00+#]{1,12}"
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Asserts every strict prefix of `bytes` is incomplete.
fn assert_prefixes_incomplete(bytes: &[u8]) -> Result<(), TestCaseError> {
    for len in 0..bytes.len() {
        prop_assert_eq!(decode(&bytes[..len], LIMIT), Ok(None), "[..{}]", len);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn connect_round_trips(
        client_id in mqtt_string(),
        keep_alive in any::<u16>(),
        clean_session in any::<bool>(),
        will in proptest::option::of((topic_name(), bytes(40), 0u8..=1, any::<bool>())),
        credentials in proptest::option::of((mqtt_string(), proptest::option::of(bytes(20)))),
    ) {
        let connect = Connect {
            client_id: &client_id,
            keep_alive,
            clean_session,
            will: will.as_ref().map(|(topic, payload, qos, retain)| Will {
                topic,
                payload,
                qos: *qos,
                retain: *retain,
            }),
            username: credentials.as_ref().map(|(user, _)| user.as_str()),
            password: credentials.as_ref().and_then(|(_, password)| password.as_deref()),
        };
        let mut out = Vec::new();
        encode_connect(&mut out, &connect);
        prop_assert_eq!(decode(&out, LIMIT), Ok(Some((Packet::Connect(connect), out.len()))));
        assert_prefixes_incomplete(&out)?;
    }

    #[test]
    fn subscribe_round_trips(
        pid in 1..=u16::MAX,
        filters in proptest::collection::vec((mqtt_string(), 0u8..=2), 1..6),
    ) {
        let filters: Vec<(&str, u8)> = filters.iter().map(|(f, q)| (f.as_str(), *q)).collect();
        let mut out = Vec::new();
        encode_subscribe(&mut out, pid, &filters);
        prop_assert_eq!(
            decode(&out, LIMIT),
            Ok(Some((Packet::Subscribe(pid, filters), out.len())))
        );
        assert_prefixes_incomplete(&out)?;
    }

    #[test]
    fn unsubscribe_round_trips(
        pid in 1..=u16::MAX,
        filters in proptest::collection::vec(mqtt_string(), 1..6),
    ) {
        let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
        let mut out = Vec::new();
        encode_unsubscribe(&mut out, pid, &filters);
        prop_assert_eq!(
            decode(&out, LIMIT),
            Ok(Some((Packet::Unsubscribe(pid, filters), out.len())))
        );
        assert_prefixes_incomplete(&out)?;
    }

    #[test]
    fn publish_round_trips_through_decode_and_decode_server(
        topic in topic_name(),
        payload in bytes(300),
        pid in proptest::option::of(1..=u16::MAX),
        dup in any::<bool>(),
        retain in any::<bool>(),
    ) {
        let mut out = Vec::new();
        encode_publish(&mut out, &topic, &payload, pid, dup, retain);
        let expected = Publish {
            topic: &topic,
            payload: &payload,
            qos: u8::from(pid.is_some()),
            retain,
            // DUP is only sent with QoS 1.
            dup: dup && pid.is_some(),
            pid,
        };
        prop_assert_eq!(
            decode(&out, LIMIT),
            Ok(Some((Packet::Publish(expected.clone()), out.len())))
        );
        prop_assert_eq!(
            decode_server(&out),
            Ok(Some((ServerPacket::Publish(expected), out.len())))
        );
        assert_prefixes_incomplete(&out)?;
    }

    #[test]
    fn remaining_length_round_trips(length in 0..=MAX_REMAINING_LENGTH) {
        let mut out = Vec::new();
        header(&mut out, 0x82, length);
        let digits = match length {
            0..=127 => 1,
            128..=16_383 => 2,
            16_384..=2_097_151 => 3,
            _ => 4,
        };
        prop_assert_eq!(out.len(), 1 + digits);
        prop_assert_eq!(fixed_header(&out), Ok(Some((0x82, length, 1 + digits))));
    }

    #[test]
    fn decode_of_arbitrary_bytes_never_panics(
        input in bytes(200),
        limit in prop_oneof![Just(LIMIT), 0usize..64],
    ) {
        check_decode(&input, limit)?;
        let _ = decode_server(&input);
    }

    #[test]
    fn decode_of_mutated_packets_never_panics(
        original in proptest::sample::select(CLIENT_PACKETS),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        tail in bytes(8),
    ) {
        let mut input = original.to_vec();
        for (at, byte) in edits {
            let at = at % input.len();
            input[at] = byte;
        }
        input.extend_from_slice(&tail);
        check_decode(&input, LIMIT)?;
    }
}

/// `decode` returns, and what it says it used is within the input and
/// decodes the same on its own.
fn check_decode(input: &[u8], limit: usize) -> Result<(), TestCaseError> {
    if let Ok(Some((packet, used))) = decode(input, limit) {
        prop_assert!(
            0 < used && used <= input.len(),
            "used {} of {}",
            used,
            input.len()
        );
        prop_assert!(used <= limit);
        let (again, used_again) = decode(&input[..used], limit)
            .expect("decodes alone")
            .expect("complete alone");
        prop_assert_eq!(again, packet);
        prop_assert_eq!(used_again, used);
    }
    Ok(())
}
