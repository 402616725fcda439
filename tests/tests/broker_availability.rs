//! Broker availability: nothing one unit does at CONNECT time, and no
//! ordinary refusal, may lock the other units out of the hub's broker.
//!
//! These began as regression tests for rumqttd 0.20, which the hub embedded
//! before it terminated units' MQTT itself: a connection refused after
//! CONNECT (a client id with `+ $ # /`, or a full broker) left a handler
//! behind, and the next CONNECT with the same id panicked while holding a
//! lock, locking every unit out until a restart (bytebeamio/rumqtt #1062).
//! They stay: any front must pass them. Refusals now: a client id other
//! than the certificate's unit gets CONNACK "identifier rejected"; a full
//! hub (`mqtt.max_connections`) CONNACK "server unavailable".

use std::time::Duration;

use picket_tests::harness::{TestHub, TestUnit};

/// `unit` connects with its own client id; the connection must complete.
async fn can_connect(hub: &TestHub, unit: &TestUnit) -> Result<(), String> {
    hub.connect_with(&unit.cert, &unit.id.to_string(), Duration::from_secs(5))
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_with_mqtt_wildcards_is_refused() {
    let hub = TestHub::start().await;
    let unit = hub.unit();
    for id in ["bad/id", "bad+id", "bad#id", "$bad"] {
        let error = hub
            .connect_with(&unit.cert, id, Duration::from_secs(5))
            .await
            .expect_err("the router refuses such a client id");
        eprintln!("client id {id:?}: {error}");
        assert!(!error.starts_with("no CONNACK"), "dropped, not timed out");
    }
    // Control: the same certificate with a plain client id connects.
    can_connect(&hub, &unit).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_id_sent_twice_does_not_lock_every_unit_out() {
    let hub = TestHub::start().await;
    let (attacker, bystander) = (hub.unit(), hub.unit());
    can_connect(&hub, &bystander)
        .await
        .expect("control: units can connect before");
    for _ in 0..2 {
        hub.connect_with(&attacker.cert, "bad/id", Duration::from_secs(5))
            .await
            .expect_err("the router refuses the client id");
    }
    can_connect(&hub, &bystander)
        .await
        .expect("another unit can still connect");
    can_connect(&hub, &hub.unit())
        .await
        .expect("a new unit can still connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_retrying_while_the_broker_is_full_does_not_lock_everyone_out() {
    // The hub gives the router `max_connections + 16` slots; one is the
    // hub's own link.
    let hub = TestHub::start_configured(|c| c.mqtt.max_connections = 1).await;
    let mut held = Vec::new();
    let mut turned_away = None;
    for _ in 0..40 {
        let unit = hub.unit();
        match hub
            .connect_with(&unit.cert, &unit.id.to_string(), Duration::from_secs(5))
            .await
        {
            Ok(client) => held.push(client),
            Err(_) => {
                turned_away = Some(unit);
                break;
            }
        }
    }
    let unit = turned_away.expect("the broker fills up within 40 connections");
    eprintln!("the broker took {} unit connections", held.len());
    // The unit retries, as every agent does (same client id).
    let _ = can_connect(&hub, &unit).await;
    // Room again: everyone else leaves.
    for client in held {
        client.disconnect().await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match can_connect(&hub, &hub.unit()).await {
            Ok(()) => break,
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "no unit can connect any more: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
