use super::*;
use crate::codec::{Connect, Publish, ServerPacket, Will, decode_server};

fn unit(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn topic(u: UnitId, kind: TopicKind) -> String {
    Topic::new(u, kind).to_string()
}

/// What the hub wrote, decoded, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    ConnAck(bool, u8),
    Publish {
        topic: String,
        payload: Vec<u8>,
        pid: u16,
        dup: bool,
        retain: bool,
    },
    PubAck(u16),
    SubAck(u16, Vec<u8>),
    UnsubAck(u16),
    PingResp,
}

fn sent(out: &mut Vec<u8>) -> Vec<Sent> {
    let mut packets = Vec::new();
    let mut rest = &out[..];
    while !rest.is_empty() {
        let (packet, used) = decode_server(rest).unwrap().expect("whole packets only");
        packets.push(match packet {
            ServerPacket::ConnAck(p, c) => Sent::ConnAck(p, c),
            ServerPacket::Publish(p) => Sent::Publish {
                topic: p.topic.to_owned(),
                payload: p.payload.to_vec(),
                pid: p.pid.expect("down messages are QoS 1"),
                dup: p.dup,
                retain: p.retain,
            },
            ServerPacket::PubAck(pid) => Sent::PubAck(pid),
            ServerPacket::SubAck(pid, codes) => Sent::SubAck(pid, codes.to_vec()),
            ServerPacket::UnsubAck(pid) => Sent::UnsubAck(pid),
            ServerPacket::PingResp => Sent::PingResp,
        });
        rest = &rest[used..];
    }
    out.clear();
    packets
}

fn connect_packet<'a>(id: &'a str, clean: bool, will: Option<Will<'a>>) -> Connect<'a> {
    Connect {
        client_id: id,
        keep_alive: 30,
        clean_session: clean,
        will,
        username: None,
        password: None,
    }
}

/// A unit connected on `link` (persistent session) and subscribed to its
/// three down topics.
fn connected(u: UnitId, link: u64) -> (Session, Vec<u8>) {
    let mut s = Session::new(u, Limits::default());
    let mut out = Vec::new();
    let id = u.to_string();
    s.connect(link, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    let all_down = format!("/tenants/{u}/v1/+");
    s.handle(
        link,
        Packet::Subscribe(1, vec![(all_down.as_str(), 1)]),
        &mut out,
    )
    .unwrap();
    out.clear();
    (s, out)
}

fn payload(text: &str) -> Arc<[u8]> {
    Arc::from(text.as_bytes())
}

fn publishes(packets: &[Sent]) -> Vec<(String, Vec<u8>, bool)> {
    packets
        .iter()
        .filter_map(|p| match p {
            Sent::Publish {
                topic,
                payload,
                dup,
                ..
            } => Some((topic.clone(), payload.clone(), *dup)),
            _ => None,
        })
        .collect()
}

#[test]
fn connect_with_the_units_own_id_is_accepted_and_any_other_refused() {
    let u = unit(1);
    let mut s = Session::new(u, Limits::default());
    let mut out = Vec::new();
    for wrong in [unit(2).to_string(), String::new(), format!("{u}x")] {
        let refused = s.connect(7, &connect_packet(&wrong, false, None), &mut out);
        assert!(
            matches!(refused, Err(Refusal::ClientId { .. })),
            "{wrong:?}"
        );
        assert_eq!(sent(&mut out), vec![Sent::ConnAck(false, 2)]);
        assert_eq!(s.link(), None, "a refused CONNECT does not attach");
    }
    let id = u.to_string();
    let attached = s
        .connect(7, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    assert!(!attached.session_present);
    assert_eq!(sent(&mut out), vec![Sent::ConnAck(false, 0)]);
    assert!(s.is_current(7));
}

#[test]
fn subscribing_to_config_delivers_the_retained_config_once_with_retain_set() {
    let u = unit(1);
    let mut s = Session::new(u, Limits::default());
    assert!(!s.push(TopicKind::Config, payload("cfg v1")));
    assert!(!s.push(TopicKind::Config, payload("cfg v2")));
    let mut out = Vec::new();
    let id = u.to_string();
    s.connect(1, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    let cfg = topic(u, TopicKind::Config);
    s.handle(1, Packet::Subscribe(5, vec![(cfg.as_str(), 1)]), &mut out)
        .unwrap();
    let packets = sent(&mut out);
    assert_eq!(packets[1], Sent::SubAck(5, vec![1]));
    assert_eq!(
        packets[2..],
        [Sent::Publish {
            topic: cfg.clone(),
            payload: b"cfg v2".to_vec(),
            pid: 1,
            dup: false,
            retain: true
        }],
        "only the newest config, flagged retained"
    );
}

#[test]
fn messages_are_delivered_only_on_subscribed_topics() {
    let u = unit(1);
    let mut s = Session::new(u, Limits::default());
    let mut out = Vec::new();
    let id = u.to_string();
    s.connect(1, &connect_packet(&id, true, None), &mut out)
        .unwrap();
    let cmd = topic(u, TopicKind::Command);
    s.handle(1, Packet::Subscribe(1, vec![(cmd.as_str(), 1)]), &mut out)
        .unwrap();
    out.clear();
    assert!(
        !s.push(TopicKind::EventAck, payload("ack")),
        "not subscribed"
    );
    assert!(s.push(TopicKind::Command, payload("reboot")));
    s.flush(&mut out);
    assert_eq!(
        publishes(&sent(&mut out)),
        vec![(cmd, b"reboot".to_vec(), false)]
    );
    assert!(
        !s.push(TopicKind::Event, payload("x")),
        "up topics never go down"
    );
}

#[test]
fn granted_qos_is_at_most_one() {
    let u = unit(1);
    let (mut s, mut out) = connected(u, 1);
    let cmd = topic(u, TopicKind::Command);
    let cfg = topic(u, TopicKind::Config);
    s.handle(
        1,
        Packet::Subscribe(9, vec![(cmd.as_str(), 0), (cfg.as_str(), 2)]),
        &mut out,
    )
    .unwrap();
    assert_eq!(sent(&mut out)[0], Sent::SubAck(9, vec![0, 1]));
}

#[test]
fn a_filter_beyond_the_units_prefix_refuses_the_connection_and_grants_nothing() {
    let (a, b) = (unit(1), unit(2));
    let mut s = Session::new(a, Limits::default());
    let mut out = Vec::new();
    let id = a.to_string();
    s.connect(1, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    out.clear();
    let own = topic(a, TopicKind::Command);
    let foreign = topic(b, TopicKind::Command);
    let refused = s.handle(
        1,
        Packet::Subscribe(2, vec![(own.as_str(), 1), (foreign.as_str(), 1)]),
        &mut out,
    );
    assert!(matches!(refused, Err(Refusal::Filter(_))), "{refused:?}");
    assert!(out.is_empty(), "no SUBACK");
    assert!(
        !s.push(TopicKind::Command, payload("x")),
        "not even the own filter of the refused packet was granted"
    );
}

#[test]
fn publishing_outside_the_prefix_is_refused_and_inside_goes_to_ingest() {
    let (a, b) = (unit(1), unit(2));
    let (mut s, mut out) = connected(a, 1);
    let theirs = topic(b, TopicKind::Event);
    let publish = |topic| {
        Packet::Publish(Publish {
            topic,
            payload: b"evt",
            qos: 1,
            retain: false,
            dup: false,
            pid: Some(3),
        })
    };
    assert!(matches!(
        s.handle(1, publish(&theirs), &mut out),
        Err(Refusal::ForeignTopic { .. })
    ));
    let ours = topic(a, TopicKind::Event);
    let action = s.handle(1, publish(&ours), &mut out).unwrap();
    assert_eq!(
        action,
        Action::Up(
            UpMessage {
                topic: ours,
                payload: b"evt".to_vec()
            },
            Some(3)
        )
    );
    assert!(out.is_empty(), "PUBACK only once ingest has it");
    s.up_accepted(Some(3), &mut out);
    assert_eq!(sent(&mut out), vec![Sent::PubAck(3)]);
}

#[test]
fn the_in_flight_window_is_bounded_and_each_puback_lets_one_more_out() {
    let u = unit(1);
    let limits = Limits {
        inflight: 2,
        queue: 10,
    };
    let mut s = Session::new(u, limits);
    let mut out = Vec::new();
    let id = u.to_string();
    s.connect(1, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    let cmd = topic(u, TopicKind::Command);
    s.handle(1, Packet::Subscribe(1, vec![(cmd.as_str(), 1)]), &mut out)
        .unwrap();
    out.clear();
    for n in 0..5 {
        s.push(TopicKind::Command, payload(&format!("c{n}")));
    }
    s.flush(&mut out);
    let first = sent(&mut out);
    assert_eq!(publishes(&first).len(), 2);
    assert_eq!(s.pending(), (3, 2));
    let Sent::Publish { pid, .. } = first[0] else {
        panic!("{first:?}")
    };
    s.handle(1, Packet::PubAck(pid), &mut out).unwrap();
    assert_eq!(
        publishes(&sent(&mut out)),
        vec![(cmd, b"c2".to_vec(), false)]
    );
    // An unknown PUBACK changes nothing.
    s.handle(1, Packet::PubAck(999), &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(s.pending(), (2, 2));
}

#[test]
fn a_persistent_session_keeps_subscriptions_and_resends_unacked_messages_on_reconnect() {
    let u = unit(1);
    let (mut s, mut out) = connected(u, 1);
    s.push(TopicKind::Command, payload("sent, not acked"));
    s.flush(&mut out);
    out.clear();
    assert_eq!(s.detach(1, false), None, "no will was given");
    // While away: queued.
    assert!(!s.push(TopicKind::EventAck, payload("ack while away")));
    let id = u.to_string();
    let attached = s
        .connect(2, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    assert!(attached.session_present);
    let packets = sent(&mut out);
    assert_eq!(packets[0], Sent::ConnAck(true, 0));
    assert_eq!(
        publishes(&packets[1..]),
        vec![
            (
                topic(u, TopicKind::Command),
                b"sent, not acked".to_vec(),
                true
            ),
            (
                topic(u, TopicKind::EventAck),
                b"ack while away".to_vec(),
                false
            ),
        ],
        "the unacknowledged one again (DUP), then what waited"
    );
}

#[test]
fn a_clean_session_forgets_subscriptions_and_queue_but_not_the_retained_config() {
    let u = unit(1);
    let (mut s, mut out) = connected(u, 1);
    s.push(TopicKind::Config, payload("cfg"));
    s.push(TopicKind::Command, payload("cmd"));
    s.detach(1, false);
    let id = u.to_string();
    let attached = s
        .connect(2, &connect_packet(&id, true, None), &mut out)
        .unwrap();
    assert!(!attached.session_present);
    assert_eq!(sent(&mut out), vec![Sent::ConnAck(false, 0)]);
    assert_eq!(s.pending(), (0, 0));
    assert!(!s.push(TopicKind::Command, payload("x")), "not subscribed");
    let cfg = topic(u, TopicKind::Config);
    s.handle(2, Packet::Subscribe(1, vec![(cfg.as_str(), 1)]), &mut out)
        .unwrap();
    assert_eq!(
        publishes(&sent(&mut out)),
        vec![(cfg, b"cfg".to_vec(), false)]
    );
}

#[test]
fn a_full_queue_drops_the_oldest_event_ack_first_and_counts_it() {
    let u = unit(1);
    let mut s = Session::new(
        u,
        Limits {
            inflight: 1,
            queue: 3,
        },
    );
    let mut out = Vec::new();
    let id = u.to_string();
    s.connect(1, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    let all = format!("/tenants/{u}/#");
    s.handle(1, Packet::Subscribe(1, vec![(all.as_str(), 1)]), &mut out)
        .unwrap();
    s.detach(1, false);
    s.push(TopicKind::Command, payload("cmd 1"));
    s.push(TopicKind::EventAck, payload("ack 1"));
    s.push(TopicKind::EventAck, payload("ack 2"));
    s.push(TopicKind::Command, payload("cmd 2"));
    assert_eq!(s.dropped(), 1);
    s.push(TopicKind::Config, payload("cfg 1"));
    assert_eq!(s.dropped(), 2, "the other event ack made room");
    s.push(TopicKind::Config, payload("cfg 2"));
    assert_eq!(
        s.dropped(),
        2,
        "a newer config replaces the queued one in place"
    );
    out.clear();
    s.connect(2, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    let mut got = Vec::new();
    loop {
        let packets = sent(&mut out);
        let mut acked = false;
        for p in packets {
            if let Sent::Publish { pid, payload, .. } = p {
                got.push(String::from_utf8(payload).unwrap());
                s.handle(2, Packet::PubAck(pid), &mut out).unwrap();
                acked = true;
            }
        }
        if !acked {
            break;
        }
    }
    assert_eq!(got, ["cmd 1", "cmd 2", "cfg 2"]);
}

#[test]
fn the_will_is_handed_over_only_when_the_connection_ends_without_disconnect() {
    let u = unit(1);
    let mut s = Session::new(u, Limits::default());
    let mut out = Vec::new();
    let id = u.to_string();
    let status = topic(u, TopicKind::Status);
    let will = || {
        Some(Will {
            topic: Box::leak(status.clone().into_boxed_str()),
            payload: b"offline",
            qos: 1,
            retain: true,
        })
    };
    s.connect(1, &connect_packet(&id, false, will()), &mut out)
        .unwrap();
    assert_eq!(
        s.detach(1, false),
        Some(UpMessage {
            topic: status.clone(),
            payload: b"offline".to_vec()
        })
    );
    s.connect(2, &connect_packet(&id, false, will()), &mut out)
        .unwrap();
    assert_eq!(
        s.handle(2, Packet::Disconnect, &mut out).unwrap(),
        Action::Disconnect
    );
    assert_eq!(s.detach(2, true), None, "DISCONNECT discards the will");
}

#[test]
fn a_will_outside_the_prefix_is_refused_at_connect_and_never_handed_over() {
    let (a, b) = (unit(1), unit(2));
    let mut s = Session::new(a, Limits::default());
    let mut out = Vec::new();
    let id = a.to_string();
    let theirs = topic(b, TopicKind::Status);
    let will = Will {
        topic: &theirs,
        payload: b"offline",
        qos: 1,
        retain: true,
    };
    let connect = Connect {
        will: Some(will),
        ..connect_packet(&id, false, None)
    };
    let attached = s.connect(1, &connect, &mut out).unwrap();
    assert!(
        attached
            .will_refused
            .unwrap()
            .contains("outside the unit's prefix"),
        "the refusal says why"
    );
    assert_eq!(s.detach(1, false), None);
}

#[test]
fn a_takeover_closes_the_old_connection_without_its_will_and_keeps_the_session() {
    let u = unit(1);
    let status = topic(u, TopicKind::Status);
    let (mut s, mut out) = connected(u, 1);
    // Re-CONNECT on link 1 with a will (as if the first had one).
    s.detach(1, true);
    let id = u.to_string();
    let will = Will {
        topic: &status,
        payload: b"offline",
        qos: 1,
        retain: true,
    };
    let first = Connect {
        will: Some(will),
        ..connect_packet(&id, false, None)
    };
    s.connect(1, &first, &mut out).unwrap();
    s.push(TopicKind::Command, payload("cmd"));
    s.flush(&mut out);
    out.clear();

    let attached = s
        .connect(2, &connect_packet(&id, false, None), &mut out)
        .unwrap();
    assert_eq!(attached.replaced, Some(1));
    assert!(attached.session_present);
    assert_eq!(
        publishes(&sent(&mut out)[1..]),
        vec![(topic(u, TopicKind::Command), b"cmd".to_vec(), true)]
    );
    assert_eq!(
        s.handle(1, Packet::PingReq, &mut out),
        Err(Refusal::TakenOver)
    );
    assert_eq!(
        s.detach(1, false),
        None,
        "the old connection's will is void"
    );
    assert!(s.is_current(2));
}

#[test]
fn a_second_connect_is_a_protocol_violation() {
    let u = unit(1);
    let (mut s, mut out) = connected(u, 1);
    let id = u.to_string();
    let again = s.handle(
        1,
        Packet::Connect(connect_packet(&id, false, None)),
        &mut out,
    );
    assert_eq!(again, Err(Refusal::OutOfOrder("a second CONNECT")));
}

#[test]
fn ping_is_answered_and_unsubscribe_stops_delivery() {
    let u = unit(1);
    let (mut s, mut out) = connected(u, 1);
    s.handle(1, Packet::PingReq, &mut out).unwrap();
    assert_eq!(sent(&mut out), vec![Sent::PingResp]);
    let cmd = topic(u, TopicKind::Command);
    s.handle(1, Packet::Unsubscribe(4, vec![cmd.as_str()]), &mut out)
        .unwrap();
    assert_eq!(sent(&mut out), vec![Sent::UnsubAck(4)]);
    assert!(!s.push(TopicKind::Command, payload("x")));
    assert!(s.push(TopicKind::EventAck, payload("still subscribed")));
}

#[test]
fn packet_ids_wrap_around_and_skip_ids_still_in_flight() {
    let u = unit(1);
    let (mut s, mut out) = connected(u, 1);
    s.next_pid = u16::MAX;
    s.push(TopicKind::Command, payload("a"));
    s.push(TopicKind::Command, payload("b"));
    s.flush(&mut out);
    let pids: Vec<u16> = sent(&mut out)
        .into_iter()
        .filter_map(|p| match p {
            Sent::Publish { pid, .. } => Some(pid),
            _ => None,
        })
        .collect();
    assert_eq!(pids, vec![u16::MAX, 1]);
    s.next_pid = 1;
    s.push(TopicKind::Command, payload("c"));
    s.flush(&mut out);
    assert!(matches!(sent(&mut out)[..], [Sent::Publish { pid: 2, .. }]));
}
