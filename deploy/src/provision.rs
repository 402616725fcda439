//! Provisioning a unit: its identity and its configuration directory.
//!
//! A unit's directory holds everything the agent needs to join the hub:
//! `unit.key` (0600) and `unit.pem` (its client certificate, `O=<unit id>`),
//! `ca.pem` (to verify the hub), and `agent.toml`.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use picket_proto::ids::{SiteId, UnitId};

use crate::Error;
use crate::agent_file::{AGENT_FILE, AgentFile, Backend, HardwareSection, HubSection, TlsSection};
use crate::ca::{CA_CERT_FILE, Ca};
use crate::files::{self, ExistingFiles, PUBLIC_MODE};

/// The unit certificate's file name.
pub const UNIT_CERT_FILE: &str = "unit.pem";
/// The unit key's file name (mode 0600).
pub const UNIT_KEY_FILE: &str = "unit.key";
/// The agent's data directory, relative to `agent.toml`.
pub const DATA_DIR: &str = "data";

/// What to provision.
#[derive(Debug, Clone)]
pub struct ProvisionRequest {
    /// The site the unit is installed at.
    pub site: SiteId,
    /// The unit's id; `None` makes a new UUIDv7.
    pub unit: Option<UnitId>,
    /// The directory to write (created if missing).
    pub out_dir: PathBuf,
    /// The hub's MQTT endpoint, `host:port`.
    pub mqtt: String,
    /// The hub's HTTPS base URL.
    pub https: String,
    /// The hardware backend.
    pub hardware: Hardware,
    /// Whether to replace an existing identity in `out_dir`.
    pub existing: ExistingFiles,
}

/// The hardware the agent will drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hardware {
    /// The simulator, at this socket path (relative to `agent.toml`).
    Sim {
        /// The socket path.
        socket: String,
    },
    /// GPIO pins.
    Gpio,
}

/// A provisioned unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The unit's id (its certificate's `O=`).
    pub unit: UnitId,
    /// The directory holding its files.
    pub dir: PathBuf,
}

/// Issues a unit certificate and writes the unit's directory: `unit.pem`,
/// `unit.key` (0600), `ca.pem` and `agent.toml`. Refuses (with
/// [`ExistingFiles::Refuse`]) if the directory already holds a unit
/// identity or `agent.toml`.
pub fn provision_unit(ca: &Ca, request: &ProvisionRequest) -> Result<Provisioned, Error> {
    validate_mqtt(&request.mqtt)?;
    validate_https(&request.https)?;
    let dir = &request.out_dir;
    let agent_path = dir.join(AGENT_FILE);
    files::check_absent(
        &[
            &dir.join(UNIT_CERT_FILE),
            &dir.join(UNIT_KEY_FILE),
            &agent_path,
        ],
        request.existing,
    )?;
    let unit = match request.unit {
        Some(unit) => unit,
        None => new_unit_id()?,
    };
    let agent = AgentFile {
        unit,
        site: request.site,
        data_dir: DATA_DIR.to_owned(),
        hub: HubSection {
            mqtt: request.mqtt.clone(),
            https: request.https.clone(),
        },
        tls: TlsSection {
            ca: CA_CERT_FILE.to_owned(),
            cert: UNIT_CERT_FILE.to_owned(),
            key: UNIT_KEY_FILE.to_owned(),
        },
        hardware: match &request.hardware {
            Hardware::Sim { socket } => HardwareSection {
                backend: Backend::Sim,
                sim_socket: Some(socket.clone()),
                inputs: Vec::new(),
                outputs: Vec::new(),
            },
            Hardware::Gpio => HardwareSection {
                backend: Backend::Gpio,
                sim_socket: None,
                inputs: Vec::new(),
                outputs: Vec::new(),
            },
        },
    };
    let agent_text = agent.render(&agent_path)?;
    let issued = ca.issue_unit_cert(unit)?;

    files::create_dir(dir)?;
    issued.write(dir, "unit", ExistingFiles::Replace)?;
    ca.write_cert(dir)?;
    files::write_file(&agent_path, &agent_text, PUBLIC_MODE)?;
    Ok(Provisioned {
        unit,
        dir: dir.clone(),
    })
}

/// A new unit id: UUIDv7 from the clock and the system's entropy.
pub fn new_unit_id() -> Result<UnitId, Error> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(Error::Entropy)?;
    Ok(UnitId::v7(Timestamp::now(), random))
}

/// `host:port` with a non-empty host and a port from 1 to 65535.
fn validate_mqtt(value: &str) -> Result<(), Error> {
    let invalid = |reason: &str| Error::InvalidValue {
        what: "MQTT endpoint",
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| invalid("expected host:port, e.g. hub.example.com:8883"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(invalid("the host is empty or contains spaces"));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(()),
        _ => Err(invalid("the port must be a number from 1 to 65535")),
    }
}

/// An `https://` URL with a host.
fn validate_https(value: &str) -> Result<(), Error> {
    let rest = value
        .strip_prefix("https://")
        .ok_or_else(|| Error::InvalidValue {
            what: "HTTPS URL",
            value: value.to_owned(),
            reason: "must start with https://".to_owned(),
        })?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err(Error::InvalidValue {
            what: "HTTPS URL",
            value: value.to_owned(),
            reason: "has no host or contains spaces".to_owned(),
        });
    }
    Ok(())
}

/// Reads the `agent.toml` in `dir` (used by `unit show`).
pub fn read_agent_file(dir: &Path) -> Result<AgentFile, Error> {
    let path = dir.join(AGENT_FILE);
    let text = files::read_file(&path)?;
    AgentFile::parse(&text, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_endpoints() {
        for ok in [
            "localhost:8883",
            "hub.example.com:1",
            "[::1]:8883",
            "10.0.0.1:65535",
        ] {
            assert!(validate_mqtt(ok).is_ok(), "{ok}");
        }
        for bad in [
            "localhost",
            ":8883",
            "host:0",
            "host:70000",
            "host:port",
            "a b:1",
        ] {
            assert!(validate_mqtt(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn https_urls() {
        assert!(validate_https("https://hub.example.com").is_ok());
        assert!(validate_https("https://127.0.0.1:8443/base").is_ok());
        for bad in ["http://hub", "hub.example.com", "https://", "https:///x"] {
            assert!(validate_https(bad).is_err(), "{bad}");
        }
    }
}
