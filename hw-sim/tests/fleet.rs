//! The fleet without a hub: events queue in each unit's outbox, ids are
//! UUIDv7 and unique, failed connections are counted and retried, and waits
//! end at their timeout. (Against a real hub the fleet is exercised by
//! `cargo bench -p picket-tests --bench sync`.)

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use picket_proto::ids::UnitId;
use picket_sim::fleet::{Fleet, FleetConfig, FleetError, FleetUnit, alarm};

/// A TLS config that never gets to be used: nothing listens at the hub's
/// address.
fn tls() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    )
}

fn unit(n: u8) -> FleetUnit {
    FleetUnit {
        unit: UnitId::v7(
            jiff::Timestamp::from_second(1_800_000_000).unwrap(),
            [n; 10],
        ),
        tls: tls(),
    }
}

/// A loopback address where nothing listens (bound, then released).
fn closed_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

#[tokio::test]
async fn without_a_hub_events_wait_in_their_units_outbox() {
    let mut config = FleetConfig::new(closed_address(), vec![unit(1), unit(2)]);
    config.connect_spread = Duration::ZERO;
    let fleet = Fleet::start(config).unwrap();
    assert_eq!(fleet.len(), 2);

    let mut ids = HashSet::new();
    for _ in 0..5 {
        ids.insert(fleet.send_event(0, alarm()).unwrap());
    }
    ids.insert(fleet.send_event(1, alarm()).unwrap());
    assert_eq!(ids.len(), 6, "every event has its own id");
    assert!(ids.iter().all(|id| id.as_uuid().get_version_num() == 7));
    assert_eq!(fleet.outstanding(), 6);
    assert_eq!(fleet.outstanding_of(0), 5);
    assert_eq!(fleet.outstanding_of(1), 1);
    assert_eq!(fleet.outstanding_of(7), 0);

    assert!(matches!(
        fleet.send_event(2, alarm()),
        Err(FleetError::NoSuchUnit { index: 2, units: 2 })
    ));

    // Nothing connects, nothing is acknowledged, and the waits say so.
    assert!(!fleet.wait_all_acked(Duration::from_millis(300)).await);
    assert!(!fleet.wait_connected(1, Duration::from_millis(10)).await);
    let stats = fleet.stats();
    assert_eq!(stats.connected, 0);
    assert_eq!(stats.sent, 0, "nothing is sent while disconnected");
    assert_eq!(stats.acked, 0);
    assert!(fleet.latency().is_none());
    assert!(
        stats.connect_failures >= 2,
        "each unit tried at once and failed: {stats:?}"
    );
    assert!(stats.last_error.is_some());
    fleet.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_empty_fleet_is_trivially_done() {
    let fleet = Fleet::start(FleetConfig::new(closed_address(), Vec::new())).unwrap();
    assert!(fleet.is_empty());
    assert!(fleet.wait_all_acked(Duration::ZERO).await);
    assert!(fleet.wait_connected(0, Duration::ZERO).await);
}

#[tokio::test]
async fn a_bad_hub_address_is_refused() {
    let err = Fleet::start(FleetConfig::new("no-port", vec![unit(1)])).unwrap_err();
    assert!(err.to_string().contains("host:port"), "{err}");
}
