//! The agent's configuration file, written by `picket-deploy unit provision`.
//! Strict: unknown keys are refused. Paths are relative to the file.
//!
//! ```toml
//! unit = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b"   # this unit's id (its certificate's O=)
//! site = "019abcde00017000800000000000b001"   # the site it was provisioned for
//! data_dir = "data"                           # SQLite store; default "data"
//!
//! [hub]
//! mqtt = "hub.example.net:8883"               # MQTT over mutual TLS
//! https = "https://hub.example.net:8443"      # clip upload and live view
//!
//! [tls]
//! ca = "ca.pem"                               # the hub's CA
//! cert = "unit.pem"                           # this unit's certificate
//! key = "unit.key"                            # and key
//!
//! [hardware]
//! backend = "sim"                             # "sim" (picket-sim) or "gpio"
//! sim_socket = "sim.sock"                     # with "sim": where picket-sim listens
//! # with "gpio": one table per line (chip, line, and for inputs the sensor id
//! # and kind: motion | door | tamper | panic | video_analytics | power)
//! # [[hardware.inputs]]
//! # chip = "/dev/gpiochip0"
//! # line = 17
//! # sensor = "pir-1"
//! # kind = "motion"
//! # active_low = false                        # default false
//! # debounce_ms = 20                          # default 20
//! # [[hardware.outputs]]
//! # chip = "/dev/gpiochip0"
//! # line = 22
//! # role = "siren"                            # siren | strobe | armed_led
//!
//! [sync]                                      # optional; defaults shown
//! heartbeat_s = 5                             # heartbeat interval
//! keep_alive_s = 5                            # MQTT keep-alive (a dead link is noticed in 1.5x this)
//! resend_after_s = 10                         # resend an unacknowledged event after this
//! max_in_flight = 64                          # events sent but not yet acknowledged
//!
//! # [[camera]]                                # one table per camera recorded around alarms
//! # id = "019abcde00017000800000000000c001"   # the hub's id for it
//! # url = "rtsp://192.0.2.10:554/stream1"
//! # user = "unit"                             # optional RTSP credentials
//! # password = "..."
//!
//! [clips]                                     # optional; defaults shown
//! quota_mb = 2048                             # disk for clips; only uploaded ones are deleted
//! upload_kbit_s = 8000                        # upload budget, so alarms keep the uplink
//! ```

use std::path::{Path, PathBuf};

use picket_proto::ids::{SiteId, UnitId};
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// This unit's id.
    pub unit: UnitId,
    /// The site it was provisioned for.
    pub site: SiteId,
    /// Where the store lives (default `data`).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// How to reach the hub.
    pub hub: HubAddress,
    /// Certificates.
    pub tls: TlsFiles,
    /// Sensor and output hardware.
    pub hardware: HardwareConfig,
    /// Sync tuning.
    #[serde(default)]
    pub sync: SyncConfig,
    /// The cameras this unit records around alarms (their URLs, with
    /// credentials, stay on the unit).
    #[serde(default, rename = "camera")]
    pub cameras: Vec<CameraEntry>,
    /// Clip storage and delivery.
    #[serde(default)]
    pub clips: ClipsSection,
}

/// One camera.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraEntry {
    /// Its id (the hub's name for it).
    pub id: picket_proto::ids::CameraId,
    /// `rtsp://host:port/path` (or `rtsps://`), for a network camera.
    #[serde(default)]
    pub url: Option<String>,
    /// Or a camera on the unit itself: an absolute path to a V4L2 device
    /// that gives H.264, or a pipe carrying an H.264/H.265 elementary
    /// stream (a camera daemon's output).
    #[serde(default)]
    pub device: Option<PathBuf>,
    /// RTSP user, if the camera asks for one.
    #[serde(default)]
    pub user: Option<String>,
    /// And password.
    #[serde(default)]
    pub password: Option<String>,
    /// How long after capture the camera's frames arrive (its encoding and
    /// sending; 0–5000 ms, default 0), taken off each frame's arrival
    /// instant so clips line up with alarms. Measure it once per camera
    /// model (the simulator's is ~90 ms at 15 fps).
    #[serde(default)]
    pub latency_ms: u32,
}

/// The longest camera latency a camera entry may declare.
pub const MAX_CAMERA_LATENCY_MS: u32 = 5_000;

/// Clip storage and delivery.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipsSection {
    /// Disk space clips may use, in MiB (default 2048); only clips the hub
    /// has are deleted to stay within it.
    #[serde(default = "default_quota_mb")]
    pub quota_mb: u64,
    /// Upload budget in kbit/s (default 8000), so clips never fill the
    /// uplink the alarms need.
    #[serde(default = "default_upload_kbit")]
    pub upload_kbit_s: u64,
}

impl Default for ClipsSection {
    fn default() -> Self {
        ClipsSection {
            quota_mb: default_quota_mb(),
            upload_kbit_s: default_upload_kbit(),
        }
    }
}

fn default_quota_mb() -> u64 {
    2048
}

fn default_upload_kbit() -> u64 {
    8000
}

/// How to reach the hub.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubAddress {
    /// `host:port` of the hub's MQTT-over-TLS listener.
    pub mqtt: String,
    /// Base URL of the hub's HTTPS listener.
    pub https: String,
}

/// Certificate files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The hub's CA certificate (PEM).
    pub ca: PathBuf,
    /// This unit's certificate (PEM).
    pub cert: PathBuf,
    /// This unit's private key (PEM).
    pub key: PathBuf,
}

/// Which hardware backend to use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardwareConfig {
    /// `sim` or `gpio`.
    pub backend: Backend,
    /// With `sim`: the simulator's socket (default `sim.sock`).
    #[serde(default = "default_sim_socket")]
    pub sim_socket: PathBuf,
    /// With `gpio`: the input lines (`[[hardware.inputs]]`).
    #[serde(default)]
    pub inputs: Vec<crate::hardware::gpio::GpioInput>,
    /// With `gpio`: the output lines (`[[hardware.outputs]]`).
    #[serde(default)]
    pub outputs: Vec<crate::hardware::gpio::GpioOutput>,
}

/// Hardware backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// `picket-sim`.
    Sim,
    /// Linux GPIO character devices.
    Gpio,
}

/// Sync tuning.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Heartbeat interval in seconds (default 5).
    #[serde(default = "default_heartbeat")]
    pub heartbeat_s: u32,
    /// MQTT keep-alive in seconds (default 5).
    #[serde(default = "default_keep_alive")]
    pub keep_alive_s: u32,
    /// Resend an unacknowledged event after this many seconds (default 10).
    #[serde(default = "default_resend")]
    pub resend_after_s: u32,
    /// Most events sent and not yet acknowledged (default 64).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            heartbeat_s: default_heartbeat(),
            keep_alive_s: default_keep_alive(),
            resend_after_s: default_resend(),
            max_in_flight: default_in_flight(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_sim_socket() -> PathBuf {
    PathBuf::from("sim.sock")
}
fn default_heartbeat() -> u32 {
    5
}
fn default_keep_alive() -> u32 {
    5
}
fn default_resend() -> u32 {
    10
}
fn default_in_flight() -> usize {
    64
}

/// A configuration that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable.
    #[error("cannot read agent config {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Invalid.
    #[error("invalid agent config {path}: {source}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// Out of range.
    #[error("invalid agent config: {0}")]
    Invalid(String),
}

impl AgentConfig {
    /// Reads, resolves relative paths against the file's directory, validates.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = AgentConfig::parse(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut config.data_dir,
            &mut config.tls.ca,
            &mut config.tls.cert,
            &mut config.tls.key,
            &mut config.hardware.sim_socket,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Parses the TOML text (no path resolution).
    pub fn parse(text: &str) -> Result<AgentConfig, toml::de::Error> {
        toml::from_str(text)
    }

    /// Checks values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = self.sync;
        if s.heartbeat_s == 0
            || s.keep_alive_s == 0
            || s.resend_after_s == 0
            || s.max_in_flight == 0
        {
            return Err(ConfigError::Invalid(
                "sync: every interval and max_in_flight must be at least 1".into(),
            ));
        }
        self.mqtt_host_port()?;
        let mut ids = std::collections::HashSet::new();
        for camera in &self.cameras {
            if !ids.insert(camera.id) {
                return Err(ConfigError::Invalid(format!(
                    "camera {} is listed twice; each [[camera]] needs its own id",
                    camera.id
                )));
            }
            match (&camera.url, &camera.device) {
                (Some(url), None) if url.starts_with("rtsp://") || url.starts_with("rtsps://") => {}
                (Some(url), None) => {
                    return Err(ConfigError::Invalid(format!(
                        "camera {}: url must be rtsp:// or rtsps://, not {:?}",
                        camera.id,
                        url.split('@').next_back().unwrap_or_default()
                    )));
                }
                (None, Some(device)) if device.is_absolute() => {}
                (None, Some(device)) => {
                    return Err(ConfigError::Invalid(format!(
                        "camera {}: device must be an absolute path, not {}",
                        camera.id,
                        device.display()
                    )));
                }
                _ => {
                    return Err(ConfigError::Invalid(format!(
                        "camera {}: give either url (a network camera) or device (one on the unit)",
                        camera.id
                    )));
                }
            }
            if camera.latency_ms > MAX_CAMERA_LATENCY_MS {
                return Err(ConfigError::Invalid(format!(
                    "camera {}: latency_ms {} is over {MAX_CAMERA_LATENCY_MS}",
                    camera.id, camera.latency_ms
                )));
            }
            if camera.user.is_some() != camera.password.is_some() {
                return Err(ConfigError::Invalid(format!(
                    "camera {}: give both user and password, or neither",
                    camera.id
                )));
            }
        }
        if self.hardware.backend == Backend::Gpio {
            crate::hardware::gpio::check(&self.hardware.inputs, &self.hardware.outputs)
                .map_err(ConfigError::Invalid)?;
        }
        Ok(())
    }

    /// The MQTT host and port.
    pub fn mqtt_host_port(&self) -> Result<(String, u16), ConfigError> {
        let bad = || ConfigError::Invalid(format!("hub.mqtt {:?} is not host:port", self.hub.mqtt));
        let (host, port) = self.hub.mqtt.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        Ok((host.to_owned(), port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
unit = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b"
site = "019abcde00017000800000000000b001"
data_dir = "data"
[hub]
mqtt = "127.0.0.1:8883"
https = "https://127.0.0.1:8443"
[tls]
ca = "ca.pem"
cert = "unit.pem"
key = "unit.key"
[hardware]
backend = "sim"
sim_socket = "sim.sock"
"#;

    #[test]
    fn the_provisioned_shape_parses_with_defaults() {
        let c = AgentConfig::parse(SAMPLE).unwrap();
        assert_eq!(c.hardware.backend, Backend::Sim);
        assert_eq!(c.sync.heartbeat_s, 5);
        assert_eq!(c.mqtt_host_port().unwrap(), ("127.0.0.1".into(), 8883));
    }

    #[test]
    fn a_gpio_unit_lists_its_lines_and_needs_at_least_one_input() {
        let gpio = SAMPLE.replace(
            "backend = \"sim\"\nsim_socket = \"sim.sock\"\n",
            "backend = \"gpio\"\n[[hardware.inputs]]\nchip = \"/dev/gpiochip0\"\nline = 17\nsensor = \"pir-1\"\nkind = \"motion\"\nactive_low = true\n[[hardware.outputs]]\nchip = \"/dev/gpiochip0\"\nline = 22\nrole = \"siren\"\n",
        );
        let c = AgentConfig::parse(&gpio).unwrap();
        assert_eq!(c.hardware.backend, Backend::Gpio);
        assert_eq!(c.hardware.inputs[0].line, 17);
        assert!(c.hardware.inputs[0].active_low);
        assert_eq!(c.hardware.inputs[0].debounce_ms, 20);
        c.validate().unwrap();
        let bare = SAMPLE.replace("backend = \"sim\"", "backend = \"gpio\"");
        let err = AgentConfig::parse(&bare).unwrap().validate().unwrap_err();
        assert!(
            err.to_string().contains("at least one [[hardware.inputs]]"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_addresses_are_refused() {
        let err = AgentConfig::parse(&format!("{SAMPLE}\nextra = 1\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let mut c = AgentConfig::parse(SAMPLE).unwrap();
        c.hub.mqtt = "nohost".into();
        assert!(c.validate().unwrap_err().to_string().contains("host:port"));
    }

    #[test]
    fn cameras_are_checked_without_showing_their_passwords() {
        let camera = |id: &str, url: &str, extra: &str| {
            format!("\n[[camera]]\nid = \"{id}\"\nurl = \"{url}\"\n{extra}")
        };
        let a = "019abcde00017000800000000000c001";
        let b = "019abcde00017000800000000000c002";
        let ok = format!(
            "{SAMPLE}{}{}",
            camera(
                a,
                "rtsp://10.0.0.5/s1",
                "user = \"u\"\npassword = \"p\"\nlatency_ms = 90"
            ),
            camera(b, "rtsps://10.0.0.6/s1", "")
        );
        let device =
            |id: &str, path: &str| format!("\n[[camera]]\nid = \"{id}\"\ndevice = \"{path}\"\n");
        let c = AgentConfig::parse(&ok).unwrap();
        c.validate().unwrap();
        assert_eq!((c.cameras[0].latency_ms, c.cameras[1].latency_ms), (90, 0));
        let local = AgentConfig::parse(&format!("{SAMPLE}{}", device(a, "/dev/video0"))).unwrap();
        local.validate().unwrap();
        assert_eq!(
            local.cameras[0].device.as_deref(),
            Some(Path::new("/dev/video0"))
        );
        for (text, says) in [
            (
                format!(
                    "{SAMPLE}{}{}",
                    camera(a, "rtsp://x/1", ""),
                    camera(a, "rtsp://x/2", "")
                ),
                "listed twice",
            ),
            (
                format!(
                    "{SAMPLE}{}",
                    camera(a, "http://admin:hunter2@10.0.0.5/s1", "")
                ),
                "rtsp:// or rtsps://",
            ),
            (
                format!("{SAMPLE}{}", camera(a, "rtsp://x/1", "latency_ms = 9000")),
                "latency_ms",
            ),
            (format!("{SAMPLE}{}", device(a, "video0")), "absolute path"),
            (
                format!(
                    "{SAMPLE}{}",
                    camera(a, "rtsp://x/1", "device = \"/dev/video0\"")
                ),
                "either url",
            ),
            (
                format!("{SAMPLE}{}", camera(a, "rtsp://x/1", "user = \"u\"")),
                "both user and password",
            ),
        ] {
            let err = AgentConfig::parse(&text)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
