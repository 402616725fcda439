//! Unit isolation through the hub's broker, the security property of the
//! design: a unit, whatever it sends, can never read, write or disturb
//! another unit's topics, and only certificates from the hub's CA with a
//! unit tenant get in at all.
//!
//! Every test runs a real hub (its MQTT front with client certificates
//! required, the store and ingest) on 127.0.0.1 and real MQTT clients
//! (rumqttc) over mutual TLS. Every refusal is asserted as what a client
//! can observe (the TLS/MQTT connection fails or is closed by the broker,
//! nothing is delivered, nothing is stored), and each test also shows the
//! same path working for the legitimate case, so none can pass vacuously.
//!
//! How the hub refuses: a subscription or publish outside `/tenants/<O>/`
//! closes the connection (no SUBACK, no PUBACK; MQTT 3.1.1 has no
//! DISCONNECT from the server), as rumqttd did, so units see the same
//! behaviour; a certificate from another CA fails the TLS handshake with an
//! alert; a certificate without a unit id in `O=` passes TLS and its CONNECT
//! is answered "not authorized".

use std::collections::BTreeSet;

use picket_proto::message::{Body, UnitStatus};
use picket_proto::topic::TopicKind;
use picket_tests::fixtures::{
    alarm, command, desired_config, encoded, event_payload, status_payload,
};
use picket_tests::harness::{QUIET, TestHub, TestUnit, WAIT};
use rumqttc::{LastWill, QoS};

/// Messages in `publishes` that are on one of `unit`'s topics.
fn on_topics_of<'a>(
    unit: &TestUnit,
    publishes: &'a [rumqttc::Publish],
) -> Vec<&'a rumqttc::Publish> {
    let prefix = picket_proto::topic::Topic::unit_prefix(unit.id);
    publishes
        .iter()
        .filter(|p| p.topic.starts_with(&prefix))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_cannot_subscribe_to_another_units_commands_or_config() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.unit(), hub.unit());
    let mut b_client = hub.connect_unit(&b).await;
    b_client.subscribe_ok(&b.topic(TopicKind::Command)).await;
    b_client.subscribe_ok(&b.topic(TopicKind::Config)).await;
    // B's desired config is retained: a subscription to B's cfg topic, if it
    // were granted, would deliver it at once.
    hub.publish_to_unit(&desired_config(b.id, 7)).await;
    assert!(
        b_client
            .recv_on(&b.topic(TopicKind::Config), WAIT)
            .await
            .is_some(),
        "B receives its config"
    );

    let mut refused_clients = Vec::new();
    for kind in [TopicKind::Command, TopicKind::Config] {
        let mut a_client = hub
            .connect(&a.cert, &a.id.to_string())
            .await
            .expect("A connects");
        // Control: on the same connection, A's own topic of this kind is
        // granted and delivers what the hub sends there.
        a_client.subscribe_ok(&a.topic(kind)).await;
        let own = match kind {
            TopicKind::Command => command(a.id),
            _ => desired_config(a.id, 1),
        };
        hub.publish_to_unit(&own).await;
        assert!(
            a_client.recv_on(&a.topic(kind), WAIT).await.is_some(),
            "control: A receives the hub's message on its own {} topic",
            kind.segment()
        );

        // The refusal: the broker drops A's connection instead of a SUBACK.
        let outcome = a_client.subscribe(&b.topic(kind), QoS::AtLeastOnce).await;
        let error = outcome.expect_err("subscribing to B's topic must close A's connection");
        eprintln!(
            "A subscribing to B's {}: connection closed: {error}",
            kind.segment()
        );
        refused_clients.push(a_client);
    }

    // The hub sends B a command: B gets it ...
    let cmd = command(b.id);
    hub.publish_to_unit(&cmd).await;
    let got_cmd = b_client
        .recv_on(&b.topic(TopicKind::Command), WAIT)
        .await
        .expect("B receives its command");
    assert_eq!(
        got_cmd.payload.as_ref(),
        picket_proto::codec::encode(&cmd).unwrap()
    );

    // ... and A's refused connections stay closed and saw nothing of B's.
    for mut client in refused_clients {
        let (publishes, closed) = client.drain(QUIET).await;
        assert!(closed.is_some(), "A's connection stays closed");
        assert!(
            on_topics_of(&b, &publishes).is_empty(),
            "A received {publishes:?}"
        );
    }

    // A reconnects legitimately: a wildcard over its own prefix gets its own
    // retained config (control), and nothing of B's, B's retained config
    // included.
    let mut a_again = hub.connect_unit(&a).await;
    a_again.subscribe_ok(&format!("/tenants/{}/#", a.id)).await;
    assert!(
        a_again
            .recv_on(&a.topic(TopicKind::Config), WAIT)
            .await
            .is_some(),
        "control: A gets its own retained config on resubscribing"
    );
    hub.publish_to_unit(&command(b.id)).await;
    let (publishes, closed) = a_again.drain(QUIET).await;
    assert_eq!(closed, None);
    assert!(
        on_topics_of(&b, &publishes).is_empty(),
        "A received {publishes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_cannot_publish_on_another_units_topics() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.unit(), hub.unit());
    let mut b_client = hub.connect_unit(&b).await;
    b_client.subscribe_ok(&b.topic(TopicKind::Command)).await;
    b_client.subscribe_ok(&b.topic(TopicKind::EventAck)).await;

    // Control: A's event on its own evt topic is committed and acked.
    let mut a_client = hub.connect_unit(&a).await;
    a_client.subscribe_ok(&a.topic(TopicKind::EventAck)).await;
    let own = alarm(1);
    a_client
        .publish_acked(&a.topic(TopicKind::Event), event_payload(a.id, &own))
        .await
        .expect("PUBACK for A's own event");
    a_client
        .await_acks(a.id, &BTreeSet::from([own.id]), WAIT)
        .await;
    let before = hub.counts();

    // A publishes a well-formed event *for B* on B's evt topic: the broker
    // drops A's connection before routing it.
    let forged = alarm(1);
    let error = a_client
        .publish_acked(&b.topic(TopicKind::Event), event_payload(b.id, &forged))
        .await
        .expect_err("publishing on B's evt topic must close A's connection");
    eprintln!("A publishing on B's evt: connection closed: {error}");

    // A (on a new connection) publishes a command on B's cmd topic,
    // pretending to be the hub: also dropped.
    let mut a_client = hub.connect_unit(&a).await;
    let error = a_client
        .publish_acked(
            &b.topic(TopicKind::Command),
            picket_proto::codec::encode(&command(b.id)).unwrap(),
        )
        .await
        .expect_err("publishing on B's cmd topic must close A's connection");
    eprintln!("A publishing on B's cmd: connection closed: {error}");

    // Control for B: B's own event is committed and acked, and the first
    // command B receives is the hub's real one.
    let b_event = alarm(1);
    b_client
        .publish_acked(&b.topic(TopicKind::Event), event_payload(b.id, &b_event))
        .await
        .expect("PUBACK for B's own event");
    b_client
        .await_acks(b.id, &BTreeSet::from([b_event.id]), WAIT)
        .await;
    let real = command(b.id);
    hub.publish_to_unit(&real).await;
    let first = b_client
        .recv_on(&b.topic(TopicKind::Command), WAIT)
        .await
        .expect("B receives the hub's command");
    assert_eq!(
        first.payload.as_ref(),
        picket_proto::codec::encode(&real).unwrap(),
        "the first command B sees is the hub's, not A's forgery"
    );

    // The store has B's own event only; the forged one never reached ingest
    // (neither committed nor refused: the broker stopped it).
    let store = hub.store();
    let b_events: Vec<_> = store
        .events(b.id, 100)
        .unwrap()
        .into_iter()
        .map(|row| row.event.id)
        .collect();
    assert_eq!(b_events, vec![b_event.id]);
    assert_eq!(store.event_count(a.id).unwrap(), 1);
    let after = hub.counts();
    assert_eq!(
        after.0,
        before.0 + 1,
        "only B's own event was committed since"
    );
    assert_eq!(after.1, before.1, "ingest never saw the forgery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_subscriptions_beyond_the_units_prefix_are_refused() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.unit(), hub.unit());
    let mut b_client = hub.connect_unit(&b).await;

    for filter in [
        "#",
        "+/#",
        "/tenants/+/v1/evt",
        "/tenants/#",
        "/+/+/v1/cmd",
        "$share/g/#",
    ] {
        let mut a_client = hub
            .connect(&a.cert, &a.id.to_string())
            .await
            .expect("A connects");
        // Control: a wildcard inside A's own prefix is granted and works.
        a_client
            .subscribe_ok(&format!("/tenants/{}/v1/+", a.id))
            .await;
        hub.publish_to_unit(&command(a.id)).await;
        assert!(
            a_client
                .recv_on(&a.topic(TopicKind::Command), WAIT)
                .await
                .is_some(),
            "control: A's own-prefix wildcard delivers"
        );

        let error = a_client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .expect_err("a wildcard beyond A's prefix must close A's connection");
        eprintln!("A subscribing to {filter:?}: connection closed: {error}");

        // B keeps publishing; A's closed connection gets none of it.
        b_client
            .publish_acked(&b.topic(TopicKind::Event), event_payload(b.id, &alarm(1)))
            .await
            .expect("B publishes");
        let (publishes, closed) = a_client.drain(QUIET).await;
        assert!(closed.is_some());
        assert!(
            on_topics_of(&b, &publishes).is_empty(),
            "{filter}: A received {publishes:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_unit_certificates_from_the_hubs_ca_get_in() {
    let hub = TestHub::start().await;
    let victim = hub.unit();

    // A certificate for a real unit id from another CA (an attacker's CA
    // impersonating `victim`): the TLS handshake fails.
    let rogue_ca = picket_deploy::ca::Ca::generate("Rogue CA").unwrap();
    let forged = rogue_ca.issue_unit_cert(victim.id).unwrap();
    let error = hub
        .connect(&forged, &victim.id.to_string())
        .await
        .expect_err("a certificate from another CA must be refused");
    eprintln!("certificate from another CA: {error}");
    assert!(error.contains("UnknownCA"), "a TLS alert: {error}");

    // No client certificate at all.
    let error = hub
        .connect_without_certificate("anonymous")
        .await
        .expect_err("a client without a certificate must be refused");
    eprintln!("no client certificate: {error}");
    assert!(
        error.contains("CertificateRequired"),
        "a TLS alert: {error}"
    );

    // Our CA, but a tenant that is not alphanumeric, or no tenant at all.
    for (cn, o) in [
        ("x", Some("not-a-unit")),
        ("x", Some("a/b")),
        ("no-org", None),
    ] {
        let cert = hub.ca.issue_client_cert_with_subject(cn, o).unwrap();
        let error = hub
            .connect(&cert, "odd-subject")
            .await
            .expect_err("a certificate without a valid tenant must be refused");
        eprintln!("subject CN={cn} O={o:?}: {error}");
        // The handshake succeeds (the certificate is ours); the broker then
        // reads the tenant from it and drops the connection before CONNACK.
        assert!(!error.contains("alert"), "not a TLS refusal: {error}");
        assert!(
            !error.starts_with("no CONNACK"),
            "dropped, not timed out: {error}"
        );
    }

    // Control: the victim's real certificate from the hub's CA connects,
    // and its connection works end to end.
    let mut client = hub.connect_unit(&victim).await;
    client.subscribe_ok(&victim.topic(TopicKind::Command)).await;
    hub.publish_to_unit(&command(victim.id)).await;
    assert!(
        client
            .recv_on(&victim.topic(TopicKind::Command), WAIT)
            .await
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_other_than_the_certificates_unit_is_refused() {
    // A unit's client id must be its certificate's unit id (our broker
    // patch 2): A sending B's client id — or any other — is refused with
    // CONNACK "client identifier not valid", and B is not disturbed.
    let hub = TestHub::start().await;
    let (a, b) = (hub.unit(), hub.unit());
    let b_id = b.id.to_string();
    let mut b_client = hub.connect_unit(&b).await;
    b_client.subscribe_ok(&b.topic(TopicKind::Command)).await;

    for wrong in [b_id.as_str(), "", "picket-agent", &format!("{}x", a.id)] {
        let error = hub
            .connect(&a.cert, wrong)
            .await
            .expect_err("a client id other than the certificate's unit is refused");
        assert!(
            error.contains("BadClientId") || error.contains("closed") || error.contains("reset"),
            "client id {wrong:?}: {error}"
        );
    }
    // Control: A with its own id connects.
    let _a_client = hub.connect_unit(&a).await;

    // B is still connected and still receives its commands.
    let cmd = command(b.id);
    hub.publish_to_unit(&cmd).await;
    let got = b_client
        .recv_on(&b.topic(TopicKind::Command), WAIT)
        .await
        .expect("B still receives its commands");
    assert_eq!(
        got.payload.as_ref(),
        picket_proto::codec::encode(&cmd).unwrap()
    );
    let (_, closed) = b_client.drain(QUIET).await;
    assert_eq!(closed, None, "B was not disconnected by A's client id");

    // Control: the collision path exists. B itself connecting again with the
    // same client id *does* take over the session: the broker closes B's
    // first connection. So the check above would have seen a takeover.
    let mut b_second = hub.connect_unit(&b).await;
    let error = b_client.expect_closed(WAIT).await;
    eprintln!("B's first connection after B reconnected with its client id: {error}");
    b_second.subscribe_ok(&b.topic(TopicKind::Command)).await;
    hub.publish_to_unit(&command(b.id)).await;
    assert!(
        b_second
            .recv_on(&b.topic(TopicKind::Command), WAIT)
            .await
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_cannot_speak_for_another_unit_on_its_own_topic() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.unit(), hub.unit());
    let mut b_client = hub.connect_unit(&b).await;
    b_client.subscribe_ok(&b.topic(TopicKind::EventAck)).await;
    let mut a_client = hub.connect_unit(&a).await;
    a_client.subscribe_ok(&a.topic(TopicKind::EventAck)).await;
    let (_, refused_before) = hub.counts();

    // A valid envelope whose `unit` is B, on A's own evt topic: the broker
    // lets it through (A's prefix); the hub's `decode_on` refuses it.
    let forged = alarm(1);
    a_client
        .publish_acked(&a.topic(TopicKind::Event), event_payload(b.id, &forged))
        .await
        .expect("the broker accepts A's publish on its own topic");

    // Control, on the same connection after it: A's genuine event is acked.
    // Ingest takes a connection's messages in order, so the forgery has been
    // judged by the time this ack arrives.
    let genuine = alarm(1);
    a_client
        .publish_acked(&a.topic(TopicKind::Event), event_payload(a.id, &genuine))
        .await
        .unwrap();
    a_client
        .await_acks(a.id, &BTreeSet::from([genuine.id]), WAIT)
        .await;

    let (_, refused_after) = hub.counts();
    assert_eq!(refused_after, refused_before + 1, "the forgery was refused");
    let store = hub.store();
    let a_events: Vec<_> = store
        .events(a.id, 100)
        .unwrap()
        .into_iter()
        .map(|row| row.event.id)
        .collect();
    assert_eq!(
        a_events,
        vec![genuine.id],
        "only A's genuine event is stored"
    );
    assert_eq!(store.event_count(b.id).unwrap(), 0);
    assert_eq!(store.unit(b.id).unwrap(), None, "B is unknown to the hub");
    // Neither A nor B was told the forgery was committed.
    let (a_seen, _) = a_client.drain(QUIET).await;
    let (b_seen, closed) = b_client.drain(QUIET).await;
    assert_eq!(closed, None);
    assert!(b_seen.is_empty(), "B received {b_seen:?}");
    for publish in &a_seen {
        let topic = picket_proto::topic::Topic::new(a.id, TopicKind::EventAck);
        let ids = picket_tests::harness::event_ack_ids(&topic, &publish.payload);
        assert!(!ids.contains(&forged.id), "the forgery was acknowledged");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_units_last_will_cannot_speak_on_another_units_topic() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.unit(), hub.unit());
    let b_client = hub.connect_unit(&b).await;
    b_client
        .publish(
            &b.topic(TopicKind::Status),
            QoS::AtLeastOnce,
            true,
            status_payload(b.id, UnitStatus::Online),
        )
        .await;
    hub.eventually("B is online", WAIT, |s| {
        s.unit(b.id).unwrap().filter(|u| u.online).map(|_| ())
    })
    .await;

    // A's first connection carries a last will saying "B is offline" on B's
    // status topic; it vanishes, so the broker would publish the will.
    let forged_will = LastWill::new(
        b.topic(TopicKind::Status),
        encoded(b.id, Body::Status(UnitStatus::Offline)),
        QoS::AtLeastOnce,
        true,
    );
    let spoofer = hub
        .connect_with_will(&a.cert, &a.id.to_string(), forged_will)
        .await
        .expect("A connects (the will is only judged when it fires)");
    spoofer.vanish();
    tokio::time::sleep(QUIET).await;
    let b_row = hub.store().unit(b.id).unwrap().unwrap();
    assert!(
        b_row.online,
        "A's will on B's topic must not mark B offline"
    );

    // Control: A's next connection has its own genuine will, which does
    // mark A offline when it vanishes.
    let own_will = LastWill::new(
        a.topic(TopicKind::Status),
        status_payload(a.id, UnitStatus::Offline),
        QoS::AtLeastOnce,
        true,
    );
    let genuine = hub
        .connect_with_will(&a.cert, &a.id.to_string(), own_will)
        .await
        .unwrap();
    genuine
        .publish(
            &a.topic(TopicKind::Status),
            QoS::AtLeastOnce,
            true,
            status_payload(a.id, UnitStatus::Online),
        )
        .await;
    hub.eventually("A is online", WAIT, |s| {
        s.unit(a.id).unwrap().filter(|u| u.online).map(|_| ())
    })
    .await;
    genuine.vanish();
    hub.eventually("A's own will marks A offline", WAIT, |s| {
        s.unit(a.id).unwrap().filter(|u| !u.online).map(|_| ())
    })
    .await;
    let b_row = hub.store().unit(b.id).unwrap().unwrap();
    assert!(b_row.online, "B is still online");
    drop(b_client);
}
