//! The embedded MQTT broker (rumqttd) and the hub's in-process link to it.
//!
//! Units reach the broker only through one listener with mutual TLS: a
//! client must present a certificate issued by the hub's CA, and the
//! broker's tenant-prefix rule (rumqttd `validate-tenant-prefix`) confines a
//! client whose certificate says `O=<unit>` to topics under
//! `/tenants/<unit>/`. The broker also prefixes the client id with the
//! tenant (`<unit>.<client id>`), so a unit can never take over another
//! unit's session whatever client id it sends. There is no listener without
//! client certificates.
//!
//! The hub itself talks to the broker through an in-process link (no TCP, no
//! tenant), subscribed to every unit's up topics.

use std::collections::HashMap;
use std::thread;

use picket_proto::topic::{Direction, Topic, TopicKind};
use rumqttd::local::{LinkRx, LinkTx};
use rumqttd::{
    Broker, Config, ConnectionSettings, RouterConfig, SegmentConfig, ServerSettings, TlsConfig,
};

use crate::config::MqttConfig;

/// The broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A TLS file is missing.
    #[error(
        "broker TLS file {0} does not exist (run `picket-deploy ca init` and `picket-deploy hub cert`)"
    )]
    MissingFile(String),
    /// The in-process link could not be made.
    #[error("cannot link the hub to its broker: {0}")]
    Link(String),
    /// The broker thread could not start.
    #[error("cannot start the broker thread: {0}")]
    Thread(std::io::Error),
}

/// How much each topic's log in the broker may hold.
///
/// rumqttd keeps every message in a per-filter log until the log is full
/// and its oldest segment is dropped, whether or not it was delivered; with
/// its defaults every unit's down topics and the hub's up filters would grow
/// by every message until 64 MiB each (measured: 1.5 KiB of hub memory per
/// event). Nothing here needs old messages: the hub reads its up filters as
/// they come (an event dropped from a full log is resent by its unit, which
/// deletes it only on the hub's ack), desired config is full state (the
/// newest is always kept, and retained separately), acks are repeated when
/// a unit resends, and commands expire. So each log keeps little: a unit's
/// down logs at most two segments of 1 KiB (the minimum rumqttd allows) plus
/// the message being added; commands 8 KiB so a few can wait for an offline
/// unit; the hub's up logs enough to absorb an ingest stall and a burst of
/// every unit's in-flight window (events: two segments of 2 MiB, some
/// 20,000 events; with two of 512 KiB the ingest bench's 6,400 in-flight
/// events overflowed it and 10,000 events had to be resent).
pub(crate) fn segment_limits() -> HashMap<String, SegmentConfig> {
    TopicKind::ALL
        .into_iter()
        .map(|kind| {
            let (max_segment_size, max_segment_count) = match kind {
                TopicKind::Event => (2 * 1024 * 1024, 2),
                TopicKind::Command => (8 * 1024, 2),
                kind if kind.direction() == Direction::Down => (1024, 2),
                _ => (64 * 1024, 2),
            };
            (
                Topic::filter_all_units(kind),
                SegmentConfig {
                    max_segment_size,
                    max_segment_count,
                },
            )
        })
        .collect()
}

/// The hub's two ends of its in-process link.
pub struct HubLink {
    /// To publish (config, commands, event acks).
    pub tx: LinkTx,
    /// To receive (everything units publish).
    pub rx: LinkRx,
}

impl std::fmt::Debug for HubLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HubLink")
    }
}

/// Starts the broker on its own thread and links the hub to it, subscribed
/// to every unit's up topics.
pub fn start(config: &MqttConfig) -> Result<HubLink, BrokerError> {
    let path = |p: &std::path::Path| -> Result<String, BrokerError> {
        if p.exists() {
            Ok(p.display().to_string())
        } else {
            Err(BrokerError::MissingFile(p.display().to_string()))
        }
    };
    let tls = TlsConfig::Rustls {
        capath: Some(path(&config.ca)?),
        certpath: path(&config.cert)?,
        keypath: path(&config.key)?,
    };
    let server = ServerSettings {
        name: "units-mtls".into(),
        listen: config.listen,
        tls: Some(tls),
        next_connection_delay_ms: 0,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            // rumqttd compares this with the whole packet's remaining length
            // (topic and header included); the protocol's own 64 KiB limit
            // is enforced by ingest when decoding.
            max_payload_size: config.max_payload_bytes + 1024,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let broker_config = Config {
        id: 0,
        router: RouterConfig {
            // The hub's own in-process link is one of the router's connections.
            max_connections: config.max_connections + 1,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 4,
            custom_segment: Some(segment_limits()),
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("units".to_owned(), server)])),
        ..Config::default()
    };
    let mut broker = Broker::new(broker_config);
    let (mut tx, rx) = broker
        .link("picket-hub")
        .map_err(|e| BrokerError::Link(e.to_string()))?;
    for kind in TopicKind::ALL {
        if kind.direction() == Direction::Up {
            tx.subscribe(Topic::filter_all_units(kind))
                .map_err(|e| BrokerError::Link(e.to_string()))?;
        }
    }
    thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "the embedded broker stopped");
            }
        })
        .map_err(BrokerError::Thread)?;
    Ok(HubLink { tx, rx })
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_proto::ids::UnitId;

    #[test]
    fn every_unit_topic_gets_exactly_one_small_bounded_log() {
        let limits = segment_limits();
        let unit = UnitId::from_uuid(uuid::Uuid::from_bytes([7; 16]));
        for kind in TopicKind::ALL {
            // rumqttd picks the limit whose key matches the filter a log is
            // made for: a unit's own subscription for down topics, the hub's
            // wildcard filter for up topics.
            let filter = match kind.direction() {
                Direction::Down => Topic::new(unit, kind).to_string(),
                Direction::Up => Topic::filter_all_units(kind),
            };
            let matching: Vec<&SegmentConfig> = limits
                .iter()
                .filter(|(key, _)| rumqttd::protocol::matches(&filter, key))
                .map(|(_, config)| config)
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "{filter} matches {} limits",
                matching.len()
            );
            let config = matching[0];
            // rumqttd panics below 1 KiB or with no segment.
            assert!(config.max_segment_size >= 1024, "{filter}");
            assert!(config.max_segment_count >= 1, "{filter}");
            let bound = config.max_segment_size * config.max_segment_count;
            match kind.direction() {
                Direction::Down => assert!(bound <= 16 * 1024, "{filter}: {bound} bytes per unit"),
                Direction::Up => assert!(bound <= 4 * 1024 * 1024, "{filter}: {bound} bytes"),
            }
        }
    }
}
