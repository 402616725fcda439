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
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings, TlsConfig};

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
