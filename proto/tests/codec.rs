//! The codec refuses bad input with a clear error and never panics.

mod support;

use ciborium::Value;
use picket_proto::codec::{CodecError, MAX_MESSAGE_BYTES, decode, decode_on, encode};
use picket_proto::message::*;
use picket_proto::topic::{Topic, TopicKind};
use proptest::prelude::*;
use support::{other_unit, samples, ts, unit};

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// An envelope as a CBOR value, to bend in ways our encoder never would.
fn envelope_value(v: i64, body: Value) -> Value {
    Value::Map(vec![
        (text("v"), Value::Integer(v.into())),
        (text("unit"), Value::Bytes(unit().as_bytes().to_vec())),
        (text("sent_at"), Value::Integer(1_790_000_000_000i64.into())),
        (text("body"), body),
    ])
}

fn event_body() -> Value {
    let bytes = encode(&Envelope::new(
        unit(),
        ts("2026-11-22T22:00Z"),
        Body::Event(support::sample_event()),
    ))
    .unwrap();
    let Value::Map(entries) = ciborium::from_reader::<Value, _>(&bytes[..]).unwrap() else {
        panic!("not a map")
    };
    entries
        .into_iter()
        .find(|(k, _)| k == &text("body"))
        .unwrap()
        .1
}

#[test]
fn every_sample_round_trips() {
    for (name, envelope) in samples() {
        let bytes = encode(&envelope).unwrap();
        assert_eq!(decode(&bytes).unwrap(), envelope, "{name}");
        let topic = Topic::new(unit(), envelope.body.topic_kind().unwrap());
        assert_eq!(decode_on(&topic, &bytes).unwrap(), envelope, "{name}");
    }
}

#[test]
fn garbage_is_malformed() {
    for bytes in [
        &b""[..],
        b"\xff",
        b"hello world",
        b"\xa4\x61v\x01",
        b"\x9f\x9f\x9f",
    ] {
        let err = decode(bytes).unwrap_err();
        assert!(matches!(err, CodecError::Malformed(_)), "{bytes:?}: {err}");
        assert!(err.to_string().starts_with("malformed message"), "{err}");
    }
}

#[test]
fn every_truncation_of_a_valid_message_is_refused() {
    for (name, envelope) in samples() {
        let bytes = encode(&envelope).unwrap();
        for len in 0..bytes.len() {
            let err = decode(&bytes[..len]).unwrap_err();
            assert!(
                matches!(err, CodecError::Malformed(_)),
                "{name}[..{len}]: {err}"
            );
        }
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = encode(&samples()[0].1).unwrap();
    bytes.push(0);
    let err = decode(&bytes).unwrap_err();
    assert!(err.to_string().contains("1 bytes after the end"), "{err}");
}

#[test]
fn oversize_payloads_are_refused_before_parsing() {
    let err = decode(&vec![0u8; MAX_MESSAGE_BYTES + 1]).unwrap_err();
    assert_eq!(
        err,
        CodecError::TooLarge {
            len: MAX_MESSAGE_BYTES + 1
        }
    );
    assert!(
        err.to_string().contains("exceeds the limit of 65536 bytes"),
        "{err}"
    );
}

#[test]
fn oversize_messages_are_not_encoded() {
    let huge = Body::EventAck(EventAck {
        events: (0..4000u128)
            .map(|i| picket_proto::ids::EventId::from_uuid(uuid::Uuid::from_u128(i)))
            .collect(),
    });
    let err = encode(&Envelope::new(unit(), ts("2026-11-22T22:00Z"), huge)).unwrap_err();
    assert!(matches!(err, CodecError::TooLarge { .. }), "{err}");
}

#[test]
fn another_protocol_version_is_refused_before_its_body_is_read() {
    // A version-2 message whose body this build could not parse anyway.
    let bytes = cbor(&envelope_value(2, text("a body shape from the future")));
    let err = decode(&bytes).unwrap_err();
    assert_eq!(err, CodecError::UnsupportedVersion(2));
    assert!(
        err.to_string().contains("version 2 is not supported"),
        "{err}"
    );

    // The same when `v` is not the first key (the slow path).
    let Value::Map(mut entries) = envelope_value(7, event_body()) else {
        unreachable!()
    };
    entries.rotate_left(1);
    let err = decode(&cbor(&Value::Map(entries))).unwrap_err();
    assert_eq!(err, CodecError::UnsupportedVersion(7));
}

#[test]
fn a_missing_version_is_malformed() {
    let Value::Map(mut entries) = envelope_value(1, event_body()) else {
        unreachable!()
    };
    entries.remove(0);
    let err = decode(&cbor(&Value::Map(entries))).unwrap_err();
    assert!(err.to_string().contains("missing field `v`"), "{err}");
}

#[test]
fn a_message_from_another_unit_is_refused_on_this_units_topic() {
    let bytes = encode(&samples()[0].1).unwrap();
    let theirs = Topic::new(other_unit(), TopicKind::Event);
    let err = decode_on(&theirs, &bytes).unwrap_err();
    assert!(matches!(err, CodecError::WrongUnit { .. }), "{err}");
    assert!(err.to_string().contains("claims to be for unit"), "{err}");
}

#[test]
fn a_body_on_the_wrong_topic_is_refused() {
    // A unit publishing a "command" on its own event topic, say.
    let (_, command) = samples()
        .into_iter()
        .find(|(n, _)| *n == "command_report_state")
        .unwrap();
    let err = decode_on(
        &Topic::new(unit(), TopicKind::Event),
        &encode(&command).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, CodecError::WrongTopic { .. }), "{err}");
}

#[test]
fn an_unknown_body_kind_decodes_as_unknown_and_is_refused_on_a_topic() {
    let body = Value::Map(vec![(
        text("teleport"),
        Value::Map(vec![(text("to"), text("mars"))]),
    )]);
    let bytes = cbor(&envelope_value(1, body));
    let envelope = decode(&bytes).unwrap();
    assert_eq!(
        envelope.body,
        Body::Unknown {
            kind: "teleport".into()
        }
    );
    let err = decode_on(&Topic::new(unit(), TopicKind::Event), &bytes).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown message kind \"teleport\""),
        "{err}"
    );
    // And it is never sent.
    assert!(matches!(encode(&envelope), Err(CodecError::Encode(_))));
}

#[test]
fn unknown_fields_from_a_newer_peer_are_ignored() {
    let Value::Map(mut entries) = envelope_value(1, event_body()) else {
        unreachable!()
    };
    entries.push((text("priority_hint"), Value::Integer(3.into())));
    let envelope = decode(&cbor(&Value::Map(entries))).unwrap();
    assert_eq!(envelope.body, Body::Event(support::sample_event()));
}

#[test]
fn an_unknown_event_kind_is_kept_as_unknown() {
    let event = Value::Map(vec![
        (text("id"), Value::Bytes(vec![1; 16])),
        (text("seq"), Value::Integer(7.into())),
        (text("at"), Value::Integer(1_790_000_000_000i64.into())),
        (
            text("kind"),
            Value::Map(vec![(
                text("smoke"),
                Value::Map(vec![(text("ppm"), Value::Integer(900.into()))]),
            )]),
        ),
    ]);
    let body = Value::Map(vec![(text("event"), event)]);
    let Body::Event(event) = decode(&cbor(&envelope_value(1, body))).unwrap().body else {
        panic!("not an event")
    };
    assert_eq!(
        event.kind,
        EventKind::Unknown {
            kind: "smoke".into()
        }
    );
}

#[test]
fn an_unknown_command_action_is_refused_as_unsupported() {
    let command = Value::Map(vec![
        (text("id"), Value::Bytes(vec![2; 16])),
        (
            text("issued_at"),
            Value::Integer(1_790_000_000_000i64.into()),
        ),
        (
            text("expires_at"),
            Value::Integer(1_790_000_060_000i64.into()),
        ),
        (
            text("action"),
            Value::Map(vec![(text("self_destruct"), Value::Null)]),
        ),
    ]);
    let body = Value::Map(vec![(text("command"), command)]);
    let Body::Command(command) = decode(&cbor(&envelope_value(1, body))).unwrap().body else {
        panic!("not a command")
    };
    let err = command.check(ts("2026-09-21T14:13:30Z")).unwrap_err();
    assert!(matches!(err, CommandError::Unsupported { .. }), "{err}");
    assert_eq!(CommandOutcome::from(&err), CommandOutcome::Unsupported);
}

#[test]
fn an_expired_command_is_refused() {
    let (_, envelope) = samples()
        .into_iter()
        .find(|(n, _)| *n == "command_live_view_start")
        .unwrap();
    let Body::Command(command) = envelope.body else {
        unreachable!()
    };
    assert!(command.check(ts("2026-11-22T22:15:33.499Z")).is_ok());
    let err = command.check(ts("2026-11-22T22:15:33.500Z")).unwrap_err();
    assert!(matches!(err, CommandError::Expired { .. }));
    assert!(
        err.to_string()
            .contains("expired at 2026-11-22T22:15:33.5Z"),
        "{err}"
    );
    assert_eq!(CommandOutcome::from(&err), CommandOutcome::Expired);
}

#[test]
fn an_invalid_schedule_inside_a_config_is_refused_with_the_reason() {
    let mut config = support::sample_config();
    let mut spec = config.schedule.spec().clone();
    spec.week.monday = support::windows(&["08:00-12:00", "11:00-13:00"]);
    // Bypass validation the way a buggy or hostile peer would: edit the CBOR.
    let good = encode(&Envelope::new(
        unit(),
        ts("2026-11-22T22:00Z"),
        Body::DesiredConfig(Box::new(config.clone())),
    ))
    .unwrap();
    let mut value: Value = ciborium::from_reader(&good[..]).unwrap();
    let mut spec_value = Vec::new();
    ciborium::into_writer(&spec, &mut spec_value).unwrap();
    let spec_value: Value = ciborium::from_reader(&spec_value[..]).unwrap();
    set_path(
        &mut value,
        &["body", "desired_config", "schedule"],
        spec_value,
    );
    let err = decode(&cbor(&value)).unwrap_err();
    assert!(
        err.to_string()
            .contains("Monday 08:00–12:00 overlaps Monday 11:00–13:00"),
        "{err}"
    );
    config.clips.pre_roll_s = 61;
    assert!(
        config
            .check()
            .unwrap_err()
            .to_string()
            .contains("pre-roll 61s")
    );
}

fn set_path(value: &mut Value, path: &[&str], new: Value) {
    let Value::Map(entries) = value else {
        panic!("not a map")
    };
    let slot = &mut entries
        .iter_mut()
        .find(|(k, _)| k == &text(path[0]))
        .unwrap()
        .1;
    if path.len() == 1 {
        *slot = new;
    } else {
        set_path(slot, &path[1..], new);
    }
}

#[test]
fn deep_nesting_is_refused() {
    let mut bytes = b"\xa4\x61v\x01".to_vec();
    // An unknown field (which a decoder must skip) nested 10 000 deep.
    bytes.extend_from_slice(b"\x65extra");
    bytes.extend(std::iter::repeat_n(0x81u8, 10_000)); // [[[[...
    bytes.push(0x00);
    let err = decode(&bytes).unwrap_err();
    assert!(
        err.to_string().contains("nested deeper than 32 levels"),
        "{err}"
    );
}

#[test]
fn a_huge_declared_length_is_refused_without_allocating_it() {
    // "unit": a byte string claiming 4 GiB, with 3 bytes present.
    let mut bytes = b"\xa4\x61v\x01\x64unit\x5a\xff\xff\xff\xff".to_vec();
    bytes.extend_from_slice(b"abc");
    assert!(matches!(decode(&bytes), Err(CodecError::Malformed(_))));
}

#[test]
fn wrong_field_types_are_malformed() {
    let bytes = cbor(&Value::Map(vec![
        (text("v"), Value::Integer(1.into())),
        (text("unit"), text("not bytes")),
        (text("sent_at"), Value::Integer(0.into())),
        (text("body"), Value::Null),
    ]));
    let err = decode(&bytes).unwrap_err();
    assert!(matches!(err, CodecError::Malformed(_)), "{err}");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        let _ = decode_on(&Topic::new(unit(), TopicKind::Event), &bytes);
    }

    #[test]
    fn flipping_any_byte_of_a_valid_message_never_panics(index in any::<prop::sample::Index>(), xor in 1u8..) {
        for (_, envelope) in samples() {
            let mut bytes = encode(&envelope).unwrap();
            let i = index.index(bytes.len());
            bytes[i] ^= xor;
            if let Ok(decoded) = decode(&bytes) {
                // Whatever still decodes must encode again (or be unknown).
                let _ = encode(&decoded);
            }
        }
    }
}
