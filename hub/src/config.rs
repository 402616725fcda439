//! The hub's configuration: a strict TOML file, every field documented with
//! its default. Paths are relative to the file's directory.
//!
//! ```toml
//! data_dir = "data"                 # SQLite store (hub.db) and clips
//!
//! [mqtt]
//! listen = "0.0.0.0:8883"           # MQTT over TLS; units must present a client certificate
//! ca = "ca.pem"                     # the CA that issued the unit certificates
//! cert = "hub.pem"                  # the hub's server certificate
//! key = "hub.key"
//! max_payload_bytes = 65536         # larger MQTT payloads are refused (the connection is closed)
//! max_connections = 20000
//!
//! [api]
//! listen = "127.0.0.1:8480"         # operator API (JSON); keep on loopback until TLS fronts it
//! token_file = "operator.token"     # bearer token; created (0600) with a random token if missing
//!
//! [supervision]
//! heartbeat_s = 5                   # units send a heartbeat this often
//! offline_after_s = 12              # no message for this long: offline
//!
//! [centre]
//! escalate_after_s = 120            # an alarm unacknowledged this long is escalated
//! offline_debounce_s = 60           # a unit offline this long raises a queue item
//! tamper_debounce_s = 10            # a tamper not restored within this raises one
//!
//! [clips]
//! listen = "0.0.0.0:8443"           # units upload clips here over HTTPS (client certificates, as MQTT);
//!                                   # clips live in data_dir/clips
//!
//! [reports]
//! daily_at = "07:00"                # daily summaries go out at this time in each site's time zone
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// Where the hub keeps its database and clips (default `data`).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The units' MQTT listener.
    pub mqtt: MqttConfig,
    /// The operator API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Online/offline supervision.
    #[serde(default)]
    pub supervision: SupervisionConfig,
    /// The monitoring centre's queue.
    #[serde(default)]
    pub centre: CentreConfig,
    /// Report e-mails.
    #[serde(default)]
    pub reports: ReportsConfig,
    /// The units' HTTPS for clip uploads. Without it units cannot upload
    /// clips (and the log says so).
    #[serde(default)]
    pub clips: Option<ClipsConfig>,
    /// Outgoing e-mail (invitations, password resets, dealer access). Without
    /// it nothing is e-mailed (and the log says so).
    #[serde(default)]
    pub mail: Option<crate::mail::MailConfig>,
}

/// The operator API listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Address (default `127.0.0.1:8480`).
    #[serde(default = "default_api_listen")]
    pub listen: SocketAddr,
    /// File holding the operator's bearer token (default `operator.token`;
    /// created with a random token, mode 0600, if missing).
    #[serde(default = "default_token_file")]
    pub token_file: PathBuf,
    /// How people reach the hub, for links in e-mails (default
    /// `https://localhost:8480`).
    #[serde(default = "default_public_url")]
    pub public_url: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: default_api_listen(),
            token_file: default_token_file(),
            public_url: default_public_url(),
        }
    }
}

fn default_api_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8480))
}
fn default_public_url() -> String {
    "https://localhost:8480".into()
}
fn default_token_file() -> PathBuf {
    PathBuf::from("operator.token")
}

/// The units' MQTT listener (mutual TLS).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Address of the mTLS listener (default `0.0.0.0:8883`).
    #[serde(default = "default_mqtt_listen")]
    pub listen: SocketAddr,
    /// CA certificate (PEM) that unit certificates must chain to.
    pub ca: PathBuf,
    /// The hub's server certificate (PEM).
    pub cert: PathBuf,
    /// The hub's private key (PEM).
    pub key: PathBuf,
    /// Largest MQTT payload accepted (default 65536, the protocol's limit).
    #[serde(default = "default_max_payload")]
    pub max_payload_bytes: usize,
    /// Most simultaneous connections (default 20000).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

/// The units' HTTPS: clip uploads, with the MQTT listener's TLS (client
/// certificates required).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipsConfig {
    /// Address (units' `https` setting points here), e.g. `0.0.0.0:8443`.
    pub listen: SocketAddr,
}

/// Report e-mails to sites' report recipients.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    /// Local time (in each site's time zone) the daily summary goes out
    /// (default 07:00).
    #[serde(default = "default_daily_at")]
    pub daily_at: jiff::civil::Time,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            daily_at: default_daily_at(),
        }
    }
}

fn default_daily_at() -> jiff::civil::Time {
    jiff::civil::Time::constant(7, 0, 0, 0)
}

/// The monitoring centre's queue.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentreConfig {
    /// An item waiting this long without an acknowledgement is shown as
    /// escalated, in seconds (default 120).
    #[serde(default = "default_escalate_after")]
    pub escalate_after_s: u32,
    /// A unit offline this long raises an `offline` item in the queue, in
    /// seconds (default 60; shorter blips raise nothing).
    #[serde(default = "default_offline_debounce")]
    pub offline_debounce_s: u32,
    /// A tamper not restored within this raises a `tamper` item, in
    /// seconds (default 10; an enclosure opened and closed sooner raises
    /// nothing, though the events are kept).
    #[serde(default = "default_tamper_debounce")]
    pub tamper_debounce_s: u32,
}

impl Default for CentreConfig {
    fn default() -> Self {
        CentreConfig {
            escalate_after_s: default_escalate_after(),
            offline_debounce_s: default_offline_debounce(),
            tamper_debounce_s: default_tamper_debounce(),
        }
    }
}

fn default_escalate_after() -> u32 {
    120
}

fn default_offline_debounce() -> u32 {
    60
}

fn default_tamper_debounce() -> u32 {
    10
}

/// Supervision timing.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionConfig {
    /// How often units send heartbeats, in seconds (default 5).
    #[serde(default = "default_heartbeat")]
    pub heartbeat_s: u32,
    /// A unit silent for this long is offline, in seconds (default 12, so a
    /// silently cut unit is seen offline within 15 s).
    #[serde(default = "default_offline_after")]
    pub offline_after_s: u32,
}

impl Default for SupervisionConfig {
    fn default() -> Self {
        SupervisionConfig {
            heartbeat_s: default_heartbeat(),
            offline_after_s: default_offline_after(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_mqtt_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8883))
}
fn default_max_payload() -> usize {
    picket_proto::codec::MAX_MESSAGE_BYTES
}
fn default_max_connections() -> usize {
    20_000
}
fn default_heartbeat() -> u32 {
    5
}
fn default_offline_after() -> u32 {
    12
}

/// A configuration that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read hub config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("invalid hub config {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// A value is out of range.
    #[error("invalid hub config: {0}")]
    Invalid(String),
}

impl HubConfig {
    /// Reads, resolves relative paths against the file's directory, and
    /// validates.
    pub fn load(path: &Path) -> Result<HubConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config: HubConfig = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.validate()?;
        Ok(config)
    }

    /// Makes relative paths relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in [
            &mut self.data_dir,
            &mut self.mqtt.ca,
            &mut self.mqtt.cert,
            &mut self.mqtt.key,
            &mut self.api.token_file,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = self.supervision;
        if s.heartbeat_s == 0 || s.offline_after_s <= s.heartbeat_s {
            return Err(ConfigError::Invalid(format!(
                "supervision: offline_after_s ({}) must be greater than heartbeat_s ({}), which must be at least 1",
                s.offline_after_s, s.heartbeat_s
            )));
        }
        if !(10..=86_400).contains(&self.centre.escalate_after_s) {
            return Err(ConfigError::Invalid(format!(
                "centre.escalate_after_s ({}) must be 10..=86400 seconds",
                self.centre.escalate_after_s
            )));
        }
        if self.centre.offline_debounce_s > 86_400 {
            return Err(ConfigError::Invalid(format!(
                "centre.offline_debounce_s ({}) must be at most 86400 seconds",
                self.centre.offline_debounce_s
            )));
        }
        if self.mqtt.max_payload_bytes == 0
            || self.mqtt.max_payload_bytes > picket_proto::codec::MAX_MESSAGE_BYTES
        {
            return Err(ConfigError::Invalid(format!(
                "mqtt.max_payload_bytes must be 1..={}",
                picket_proto::codec::MAX_MESSAGE_BYTES
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example at the top of this file, as a user would copy it.
    fn example() -> String {
        include_str!("config.rs")
            .lines()
            .take_while(|l| !l.starts_with("use "))
            .filter_map(|l| l.strip_prefix("//! "))
            .skip_while(|l| !l.starts_with("```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("```"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_documented_example_parses_and_is_valid() {
        let text = example();
        assert!(text.contains("[centre]"), "{text}");
        let config: HubConfig = toml::from_str(&text).unwrap();
        config.validate().unwrap();
        assert_eq!(config.centre.escalate_after_s, 120);
        assert_eq!(config.supervision.offline_after_s, 12);
    }

    #[test]
    fn an_escalation_time_out_of_range_is_refused_with_the_range() {
        for bad in [0, 9, 86_401] {
            let text = format!("{}\n", example()).replace(
                "escalate_after_s = 120",
                &format!("escalate_after_s = {bad}"),
            );
            let config: HubConfig = toml::from_str(&text).unwrap();
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("10..=86400"), "{bad}: {err}");
        }
    }
}
