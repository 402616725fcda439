//! Garbage on the MQTT socket, before and inside TLS, is refused and
//! disturbs nothing: the connection is closed and the next unit is served.
//! A unit that falls silent with its connection open is closed after 1.5 ×
//! its keep-alive, and its last will tells the hub.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use picket_hub::config::SupervisionConfig;
use picket_mqtt::codec::client::encode_connect;
use picket_mqtt::codec::{Connect, Will, encode_publish};
use picket_proto::message::UnitStatus;
use picket_proto::topic::TopicKind;
use picket_tests::fixtures::{alarm, event_payload, status_payload};
use picket_tests::harness::{TestHub, WAIT, client_tls};

/// Reads until the peer closes; true when it closed within `timeout`.
fn closed_by_peer(stream: &mut impl Read, timeout: Duration) -> bool {
    let start = std::time::Instant::now();
    let mut buf = [0u8; 256];
    while start.elapsed() < timeout {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

async fn a_unit_is_still_served(hub: &TestHub) {
    let unit = hub.unit();
    let mut client = hub.connect_unit(&unit).await;
    client.subscribe_ok(&unit.topic(TopicKind::EventAck)).await;
    let event = alarm(1);
    client
        .publish_acked(
            &unit.topic(TopicKind::Event),
            event_payload(unit.id, &event),
        )
        .await
        .expect("PUBACK");
    client
        .await_acks(unit.id, &std::collections::BTreeSet::from([event.id]), WAIT)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_a_tls_handshake_is_dropped() {
    let hub = TestHub::start().await;
    let addr = hub.addr;
    let closed = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x10\x10garbage")
            .expect("write");
        closed_by_peer(&mut stream, Duration::from_secs(10))
    })
    .await
    .expect("join");
    assert!(closed, "the broker closed the connection");
    a_unit_is_still_served(&hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_inside_a_valid_mtls_session_is_dropped() {
    let hub = TestHub::start().await;
    let unit = hub.unit();
    let tls = client_tls(hub.ca.cert_pem(), Some(&unit.cert));
    let addr = hub.addr;
    let closed = tokio::task::spawn_blocking(move || {
        let server = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let conn = rustls::ClientConnection::new(tls, server).expect("tls");
        let tcp = TcpStream::connect(addr).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        // A CONNECT packet type with a nonsense remaining length and body.
        stream
            .write_all(&[0x10, 0xff, 0xff, 0xff, 0x7f, 0xde, 0xad, 0xbe, 0xef])
            .expect("write");
        stream.flush().expect("flush");
        closed_by_peer(&mut stream, Duration::from_secs(15))
    })
    .await
    .expect("join");
    assert!(closed, "the broker closed the session");
    a_unit_is_still_served(&hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_silent_beyond_its_keep_alive_is_closed_and_its_will_marks_it_offline() {
    // Supervision alone would take a minute here: only the front's
    // keep-alive can mark the unit offline within the wait below.
    let hub = TestHub::start_with(SupervisionConfig {
        heartbeat_s: 30,
        offline_after_s: 60,
    })
    .await;
    let unit = hub.unit();
    let tls = client_tls(hub.ca.cert_pem(), Some(&unit.cert));
    let addr = hub.addr;
    let id = unit.id.to_string();
    let status = unit.topic(TopicKind::Status);
    let (online, offline) = (
        status_payload(unit.id, UnitStatus::Online),
        status_payload(unit.id, UnitStatus::Offline),
    );
    let silent = tokio::task::spawn_blocking(move || {
        let server = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let conn = rustls::ClientConnection::new(tls, server).expect("tls");
        let tcp = TcpStream::connect(addr).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        let mut out = Vec::new();
        encode_connect(
            &mut out,
            &Connect {
                client_id: &id,
                keep_alive: 1,
                clean_session: true,
                will: Some(Will {
                    topic: &status,
                    payload: &offline,
                    qos: 1,
                    retain: true,
                }),
                username: None,
                password: None,
            },
        );
        encode_publish(&mut out, &status, &online, None, false, true);
        stream.write_all(&out).expect("write CONNECT and online");
        stream.flush().expect("flush");
        // Then nothing: no PINGREQ, the socket stays open. Read until the
        // hub closes it.
        let opened = std::time::Instant::now();
        let closed = closed_by_peer(&mut stream, Duration::from_secs(20));
        (closed, opened.elapsed())
    });
    hub.eventually("the unit is online", WAIT, |s| {
        s.unit(unit.id).unwrap().filter(|u| u.online).map(|_| ())
    })
    .await;
    hub.eventually("the will marks the unit offline", WAIT, |s| {
        s.unit(unit.id).unwrap().filter(|u| !u.online).map(|_| ())
    })
    .await;
    let (closed, after) = silent.await.expect("join");
    assert!(closed, "the hub closed the connection");
    assert!(
        after >= Duration::from_millis(1400),
        "closed after {after:?}: not before 1.5 × the keep-alive"
    );
    a_unit_is_still_served(&hub).await;
}
