//! Garbage on the MQTT socket, before and inside TLS, is refused and
//! disturbs nothing: the connection is closed and the next unit is served.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use picket_proto::topic::TopicKind;
use picket_tests::fixtures::{alarm, event_payload};
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
