//! Ingest end to end: what a unit publishes over the real broker is decoded,
//! committed to the hub's store exactly once, and only then acknowledged
//! with an `event_ack` on the unit's `evack` topic; what cannot be decoded
//! is refused without harming anyone else; and supervision marks a silent
//! unit offline (and a unit that says so, at once).
//!
//! Each test runs a real hub (broker over mutual TLS on 127.0.0.1, SQLite
//! store, ingest) from `picket_tests::harness`, and reads the store through
//! a second connection to the hub's database.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use picket_hub::config::SupervisionConfig;
use picket_proto::codec::MAX_MESSAGE_BYTES;
use picket_proto::ids::EventId;
use picket_proto::message::{Body, Event, EventKind, Health, Heartbeat, UnitStatus};
use picket_proto::topic::TopicKind;
use picket_tests::fixtures::{alarm, encoded, event_payload, status_payload};
use picket_tests::harness::{Client, QUIET, TestHub, TestUnit, WAIT};
use rumqttc::QoS;

/// Connects `unit` and subscribes it to its event acks, as an agent does.
async fn connect_for_acks(hub: &TestHub, unit: &TestUnit) -> Client {
    let mut client = hub.connect_unit(unit).await;
    client.subscribe_ok(&unit.topic(TopicKind::EventAck)).await;
    client
}

/// The stored event ids of `unit`.
fn stored_ids(hub: &TestHub, unit: &TestUnit) -> Vec<EventId> {
    hub.store()
        .events(unit.id, 10_000)
        .unwrap()
        .into_iter()
        .map(|row| row.event.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_event_is_committed_then_acknowledged() {
    let hub = TestHub::start().await;
    let unit = hub.unit();
    let mut client = connect_for_acks(&hub, &unit).await;

    let event = alarm(17);
    let sent_at = jiff::Timestamp::now();
    client
        .publish_acked(
            &unit.topic(TopicKind::Event),
            event_payload(unit.id, &event),
        )
        .await
        .expect("the broker takes the event");
    let acks = client
        .await_acks(unit.id, &BTreeSet::from([event.id]), WAIT)
        .await;
    assert_eq!(acks, 1, "one event_ack names the event");

    // The ack came after the commit: the event is there, exactly as sent.
    let rows = hub.store().events(unit.id, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].event, event);
    assert_eq!(rows[0].unit, unit.id);
    assert!(rows[0].received_at >= sent_at.as_millisecond() - 1000);
    let row = hub
        .store()
        .unit(unit.id)
        .unwrap()
        .expect("the unit is known");
    assert_eq!(row.last_seq, Some(17));
    assert!(row.last_seen.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_event_is_acknowledged_every_time_and_stored_once() {
    let hub = TestHub::start().await;
    let unit = hub.unit();
    let mut client = connect_for_acks(&hub, &unit).await;
    let event = alarm(1);
    for delivery in 1..=3 {
        client
            .publish_acked(
                &unit.topic(TopicKind::Event),
                event_payload(unit.id, &event),
            )
            .await
            .unwrap();
        client
            .await_acks(unit.id, &BTreeSet::from([event.id]), WAIT)
            .await;
        assert_eq!(
            stored_ids(&hub, &unit),
            vec![event.id],
            "after delivery {delivery}"
        );
    }
    assert_eq!(hub.store().event_count(unit.id).unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_from_several_units_are_all_acknowledged_and_stored_once() {
    let hub = TestHub::start().await;
    let mut plan = vec![(hub.unit(), 500u64)];
    plan.extend((0..5).map(|_| (hub.unit(), 100u64)));
    let mut clients = Vec::new();
    for (unit, _) in &plan {
        clients.push(connect_for_acks(&hub, unit).await);
    }

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for ((unit, count), mut client) in plan.iter().cloned().zip(clients) {
        tasks.spawn(async move {
            let events: Vec<Event> = (1..=count).map(alarm).collect();
            let ids: BTreeSet<EventId> = events.iter().map(|e| e.id).collect();
            let topic = unit.topic(TopicKind::Event);
            for event in &events {
                client
                    .publish(
                        &topic,
                        QoS::AtLeastOnce,
                        false,
                        event_payload(unit.id, event),
                    )
                    .await;
            }
            let acks = client
                .await_acks(unit.id, &ids, Duration::from_secs(60))
                .await;
            (unit, ids, acks)
        });
    }
    let mut total = 0;
    while let Some(done) = tasks.join_next().await {
        let (unit, ids, acks) = done.expect("a unit's burst task");
        let stored: BTreeSet<EventId> = stored_ids(&hub, &unit).into_iter().collect();
        assert_eq!(
            stored.len(),
            ids.len(),
            "unit {} stored each event once",
            unit.id
        );
        assert_eq!(stored, ids);
        let row = hub.store().unit(unit.id).unwrap().unwrap();
        assert_eq!(row.last_seq, Some(ids.len() as i64));
        eprintln!(
            "unit {}: {} events, acked in {acks} messages",
            unit.id,
            ids.len()
        );
        total += ids.len();
    }
    assert_eq!(total, 1000);
    eprintln!(
        "1000 events from 6 units committed and acknowledged in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_refused_and_harms_no_one() {
    let hub = TestHub::start().await;
    let unit = hub.unit();
    let mut client = connect_for_acks(&hub, &unit).await;
    let (_, refused_before) = hub.counts();

    let valid = event_payload(unit.id, &alarm(1));
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("random bytes", b"\xff\x00garbage\x13\x37".to_vec()),
        ("empty CBOR map", vec![0xa0]),
        ("a truncated envelope", valid[..valid.len() / 2].to_vec()),
        ("trailing bytes", [valid.clone(), vec![0x00]].concat()),
        (
            "a status body on the evt topic",
            status_payload(unit.id, UnitStatus::Online),
        ),
    ];
    for (what, payload) in &bad {
        client
            .publish_acked(&unit.topic(TopicKind::Event), payload.clone())
            .await
            .unwrap_or_else(|e| panic!("the broker passes {what} on to the hub: {e}"));
    }
    // Control, on the same connection after them: a valid event is acked.
    let good = alarm(2);
    client
        .publish_acked(&unit.topic(TopicKind::Event), event_payload(unit.id, &good))
        .await
        .unwrap();
    client
        .await_acks(unit.id, &BTreeSet::from([good.id]), WAIT)
        .await;
    let (_, refused_after) = hub.counts();
    assert_eq!(refused_after - refused_before, bad.len() as u64);
    assert_eq!(stored_ids(&hub, &unit), vec![good.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_payload_is_refused_and_the_hub_keeps_working() {
    let hub = TestHub::start().await;
    let (big, other) = (hub.unit(), hub.unit());
    let mut big_client = connect_for_acks(&hub, &big).await;
    let mut other_client = connect_for_acks(&hub, &other).await;
    let (_, refused_before) = hub.counts();

    // 70 KiB on the evt topic: more than the broker's 65536-byte packet
    // limit and the codec's 64 KiB message limit.
    let payload = vec![0xa5; 70 * 1024];
    match big_client
        .publish_acked(&big.topic(TopicKind::Event), payload)
        .await
    {
        // What the hub's front does: it reads the fixed header, sees the
        // packet is over `max_payload_bytes` + 1 KiB and closes the
        // connection before the body arrives.
        Err(reason) => eprintln!("oversize payload: the broker closed the connection: {reason}"),
        // A broker that passed it on: ingest must refuse it unacked.
        Ok(()) => {
            hub.eventually("ingest refuses the oversize payload", WAIT, |_| {
                (hub.counts().1 > refused_before).then_some(())
            })
            .await;
            let (publishes, _) = big_client.drain(QUIET).await;
            assert!(publishes.is_empty(), "nothing acknowledged: {publishes:?}");
        }
    }
    assert_eq!(hub.store().event_count(big.id).unwrap(), 0);

    // Everyone else, and the same unit on a new connection, carry on.
    let after = alarm(1);
    other_client
        .publish_acked(
            &other.topic(TopicKind::Event),
            event_payload(other.id, &after),
        )
        .await
        .unwrap();
    other_client
        .await_acks(other.id, &BTreeSet::from([after.id]), WAIT)
        .await;
    let mut big_again = connect_for_acks(&hub, &big).await;
    let small = alarm(1);
    big_again
        .publish_acked(&big.topic(TopicKind::Event), event_payload(big.id, &small))
        .await
        .unwrap();
    big_again
        .await_acks(big.id, &BTreeSet::from([small.id]), WAIT)
        .await;
    assert_eq!(stored_ids(&hub, &big), vec![small.id]);
    assert_eq!(stored_ids(&hub, &other), vec![after.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_events_survive_a_hub_restart_and_stay_idempotent() {
    let mut hub = TestHub::start().await;
    let unit = hub.unit();
    let mut client = connect_for_acks(&hub, &unit).await;
    let first = alarm(1);
    client
        .publish_acked(
            &unit.topic(TopicKind::Event),
            event_payload(unit.id, &first),
        )
        .await
        .unwrap();
    client
        .await_acks(unit.id, &BTreeSet::from([first.id]), WAIT)
        .await;
    drop(client);

    hub.restart().await;
    // The unit reconnects to the new hub and resends its first event (its
    // ack could have been lost) along with a new one: both acked, the first
    // not stored twice.
    let mut client = connect_for_acks(&hub, &unit).await;
    let second = alarm(2);
    for event in [&first, &second] {
        client
            .publish_acked(&unit.topic(TopicKind::Event), event_payload(unit.id, event))
            .await
            .unwrap();
    }
    client
        .await_acks(unit.id, &BTreeSet::from([first.id, second.id]), WAIT)
        .await;
    let stored: BTreeSet<EventId> = stored_ids(&hub, &unit).into_iter().collect();
    assert_eq!(stored, BTreeSet::from([first.id, second.id]));
}

/// A tamper event whose encoded envelope from `unit` is exactly `len`
/// bytes long.
fn event_of_encoded_len(unit: &TestUnit, len: usize) -> (Event, Vec<u8>) {
    let mut sensor_len = len.saturating_sub(200);
    loop {
        let event = Event {
            kind: EventKind::Tamper {
                sensor: "s".repeat(sensor_len),
            },
            ..alarm(1)
        };
        let bytes = event_payload(unit.id, &event);
        match bytes.len().cmp(&len) {
            std::cmp::Ordering::Equal => return (event, bytes),
            std::cmp::Ordering::Less => sensor_len += len - bytes.len(),
            std::cmp::Ordering::Greater => sensor_len -= bytes.len() - len,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_message_the_protocol_allows_gets_through() {
    let hub = TestHub::start().await;
    let unit = hub.unit();
    let mut client = connect_for_acks(&hub, &unit).await;
    let (event, payload) = event_of_encoded_len(&unit, MAX_MESSAGE_BYTES);
    assert_eq!(payload.len(), MAX_MESSAGE_BYTES);
    client
        .publish_acked(&unit.topic(TopicKind::Event), payload)
        .await
        .expect("a 64 KiB message is within the protocol's limit");
    client
        .await_acks(unit.id, &BTreeSet::from([event.id]), WAIT)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_just_under_the_brokers_packet_limit_gets_through() {
    // The broker's limit is on the MQTT remaining length: 2 (topic length) +
    // topic + 2 (packet id) + payload must be at most 65536 bytes.
    let hub = TestHub::start().await;
    let unit = hub.unit();
    let mut client = connect_for_acks(&hub, &unit).await;
    let topic = unit.topic(TopicKind::Event);
    let (event, payload) = event_of_encoded_len(&unit, MAX_MESSAGE_BYTES - topic.len() - 4);
    client.publish_acked(&topic, payload).await.unwrap();
    client
        .await_acks(unit.id, &BTreeSet::from([event.id]), WAIT)
        .await;
    assert_eq!(stored_ids(&hub, &unit), vec![event.id]);
}

/// The hub's supervision timing for these tests: offline after 2 s silence.
fn fast_supervision() -> SupervisionConfig {
    SupervisionConfig {
        heartbeat_s: 1,
        offline_after_s: 2,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_that_goes_silent_is_marked_offline() {
    let hub = TestHub::start_with(fast_supervision()).await;
    let unit = hub.unit();
    let client = hub.connect_unit(&unit).await;
    client
        .publish(
            &unit.topic(TopicKind::Status),
            QoS::AtLeastOnce,
            true,
            status_payload(unit.id, UnitStatus::Online),
        )
        .await;
    hub.eventually("the unit is online", WAIT, |s| {
        s.unit(unit.id).unwrap().filter(|u| u.online).map(|_| ())
    })
    .await;

    // The unit stays connected but says nothing more.
    let row = hub
        .eventually("the silent unit is offline", WAIT, |s| {
            s.unit(unit.id).unwrap().filter(|u| !u.online)
        })
        .await;
    // Offline as of the moment the silence reached 2 s (last heard + 2 s,
    // where "heard" is just before the commit that set `last_seen`): the
    // timer did it, at the right time, not the unit or anything else.
    let since = row.status_since.unwrap() - row.last_seen.unwrap();
    assert!(
        (1000..=2000).contains(&since),
        "offline since last seen + {since} ms"
    );
    drop(client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_that_says_offline_is_offline_at_once() {
    let hub = TestHub::start_with(fast_supervision()).await;
    let unit = hub.unit();
    let client = hub.connect_unit(&unit).await;
    for status in [UnitStatus::Online, UnitStatus::Offline] {
        client
            .publish(
                &unit.topic(TopicKind::Status),
                QoS::AtLeastOnce,
                true,
                status_payload(unit.id, status),
            )
            .await;
    }
    let row = hub
        .eventually("the unit is offline", WAIT, |s| {
            s.unit(unit.id)
                .unwrap()
                .filter(|u| !u.online && u.status_since.is_some())
        })
        .await;
    // Marked offline by its own message (in the commit that stored it), not
    // by the silence timer (which would say last seen + 2 s).
    assert_eq!(row.status_since, row.last_seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_marked_offline_by_silence_is_online_again_when_heard_from() {
    let hub = TestHub::start_with(fast_supervision()).await;
    let unit = hub.unit();
    let client = hub.connect_unit(&unit).await;
    client
        .publish(
            &unit.topic(TopicKind::Status),
            QoS::AtLeastOnce,
            true,
            status_payload(unit.id, UnitStatus::Online),
        )
        .await;
    hub.eventually("the silent unit is offline", WAIT, |s| {
        s.unit(unit.id).unwrap().filter(|u| !u.online).map(|_| ())
    })
    .await;
    // The link was only stalled (no reconnect, so no new `online` status);
    // heartbeats resume.
    let heartbeat = encoded(
        unit.id,
        Body::Heartbeat(Heartbeat {
            seq: 1,
            uptime_s: 10,
            health: Health::default(),
        }),
    );
    client
        .publish(
            &unit.topic(TopicKind::Heartbeat),
            QoS::AtMostOnce,
            false,
            heartbeat,
        )
        .await;
    hub.eventually("the unit is online again", WAIT, |s| {
        s.unit(unit.id).unwrap().filter(|u| u.online).map(|_| ())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_online_before_a_hub_restart_that_never_returns_goes_offline() {
    let mut hub = TestHub::start_with(fast_supervision()).await;
    let unit = hub.unit();
    let client = hub.connect_unit(&unit).await;
    client
        .publish(
            &unit.topic(TopicKind::Status),
            QoS::AtLeastOnce,
            true,
            status_payload(unit.id, UnitStatus::Online),
        )
        .await;
    hub.eventually("the unit is online", WAIT, |s| {
        s.unit(unit.id).unwrap().filter(|u| u.online).map(|_| ())
    })
    .await;
    // The unit dies while the hub is down (its last will goes to a broker
    // no one reads), and never comes back.
    hub.restart().await;
    client.vanish();
    hub.eventually("the unit is offline after the restart", WAIT, |s| {
        s.unit(unit.id).unwrap().filter(|u| !u.online).map(|_| ())
    })
    .await;
}
