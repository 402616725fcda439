//! `agent.toml`: the unit's configuration as written at provisioning.
//!
//! The agent parses this file with `deny_unknown_fields`, so these structs
//! must carry exactly its keys. Paths are relative to the file's directory.
//! We serialize with `toml` and then add the header and per-line comments,
//! so an operator opening the file sees what each key is for.

use std::path::Path;

use picket_proto::ids::{SiteId, UnitId};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The file's name inside a unit's directory.
pub const AGENT_FILE: &str = "agent.toml";
/// The default simulator socket, relative to the file.
pub const DEFAULT_SIM_SOCKET: &str = "sim.sock";

const HEADER: &str = "# Picket agent configuration, written by `picket-deploy unit provision`.\n";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentFile {
    /// This unit's id; equals its certificate's `O=`.
    pub unit: UnitId,
    /// The site the unit is installed at.
    pub site: SiteId,
    /// The SQLite store and clips, relative to this file (`"data"`).
    pub data_dir: String,
    /// How to reach the hub.
    pub hub: HubSection,
    /// The unit's TLS identity.
    pub tls: TlsSection,
    /// Which sensor/actuator backend to drive.
    pub hardware: HardwareSection,
}

/// `[hub]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    /// `host:port` of the hub's MQTT listener (TLS with client certificates).
    pub mqtt: String,
    /// Base URL for clip upload and live view (`https://…`).
    pub https: String,
}

/// `[tls]`: file names relative to `agent.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The CA certificate that signed the hub's certificate (`"ca.pem"`).
    pub ca: String,
    /// The unit's client certificate (`"unit.pem"`).
    pub cert: String,
    /// The unit's private key (`"unit.key"`).
    pub key: String,
}

/// `[hardware]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareSection {
    /// The backend.
    pub backend: Backend,
    /// The simulator's Unix socket, relative to this file; only with
    /// `backend = "sim"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_socket: Option<String>,
    /// With `backend = "gpio"`: the input lines, as the installer wrote them
    /// for the board (kept as-is; the agent checks them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<toml::Table>,
    /// With `backend = "gpio"`: the output lines, kept as-is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<toml::Table>,
}

/// Which hardware backend the agent drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The `picket-sim` simulator over a Unix socket.
    Sim,
    /// Real sensors and sirens on GPIO pins.
    Gpio,
}

impl AgentFile {
    /// Renders the file: header comment, then the body with comments.
    pub fn render(&self, path: &Path) -> Result<String, Error> {
        let body = toml::to_string(self).map_err(|e| Error::AgentFile {
            path: path.to_path_buf(),
            reason: format!("could not serialize: {e}"),
        })?;
        let mut out = String::from(HEADER);
        for line in body.lines() {
            out.push_str(&annotate(line));
            out.push('\n');
        }
        Ok(out)
    }

    /// Parses a file's contents (as the agent would: unknown keys refused).
    pub fn parse(text: &str, path: &Path) -> Result<AgentFile, Error> {
        toml::from_str(text).map_err(|e| Error::AgentFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }
}

/// Appends the explaining comment to a `key = value` line we know.
fn annotate(line: &str) -> String {
    const COMMENTS: [(&str, &str); 5] = [
        ("data_dir", "SQLite store and clips; relative to this file"),
        ("mqtt", "MQTT over TLS (mTLS)"),
        ("https", "clip upload and live view"),
        ("backend", "\"sim\" or \"gpio\""),
        (
            "sim_socket",
            "only with backend = \"sim\"; relative to this file",
        ),
    ];
    let key = line.split_once(" = ").map(|(key, _)| key);
    match COMMENTS.iter().find(|(name, _)| Some(*name) == key) {
        Some((_, comment)) => format!("{line:<29} # {comment}"),
        None => line.to_owned(),
    }
}
