//! The real binaries on loopback: a `picket-hub serve` process, a
//! `picket-sim sensors` process and `picket-agent run` processes, with
//! identities made by `picket-deploy`'s library, and a small operator-API
//! client. Processes can be stopped gracefully, killed with SIGKILL and
//! restarted on the same data, to test what survives.
//!
//! The binaries come from the workspace's target directory (`cargo test
//! --workspace` builds them); a missing one fails with a message saying so.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_deploy::ca::Ca;
use picket_deploy::files::ExistingFiles;
use picket_deploy::hub_cert::{HubCertRequest, write_hub_cert};
use picket_deploy::provision::{Hardware, ProvisionRequest, provision_unit};
use picket_hub::store::Store;
use picket_proto::ids::{SiteId, UnitId};
use picket_proto::message::Event;

/// The demo site used by cluster tests.
pub const SITE: &str = "019abcde00017000800000000000b001";

/// The directory holding the workspace's built binaries.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("target dir")
}

/// A built binary of the workspace. `PICKET_AGENT_BINARY` may point the
/// agent at another build (the `unit` profile, for measurements).
pub fn binary(name: &str) -> PathBuf {
    let path = match std::env::var_os("PICKET_AGENT_BINARY") {
        Some(agent) if name == "picket-agent" => PathBuf::from(agent),
        _ => bin_dir().join(name),
    };
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace` (make test does)",
        path.display()
    );
    path
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `check` every 20 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One process we started; killed when dropped.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Option<Child>,
}

impl Proc {
    fn spawn(name: &str, mut cmd: Command, log: &Path) -> Proc {
        let file = std::fs::File::create(log).expect("log file");
        let err = file.try_clone().expect("log file");
        cmd.stdout(file).stderr(err).env("RUST_BACKTRACE", "0");
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Proc {
            name: name.to_owned(),
            child: Some(child),
        }
    }

    /// SIGKILL: no chance to clean up, as in a power cut.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait (bounded).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not stop on SIGTERM within 10 s", self.name);
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`, ...).
    pub fn signal(&self, name: &str) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args([&format!("-{name}"), &pid.to_string()])
                .status();
        }
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A hub, a simulator and provisioned units, all real processes.
#[derive(Debug)]
pub struct Cluster {
    /// Everything lives here.
    pub dir: tempfile::TempDir,
    /// MQTT port.
    pub mqtt_port: u16,
    /// API address.
    pub api: SocketAddr,
    /// The units' ids, by index.
    pub units: Vec<UnitId>,
    /// The hub process.
    pub hub: Option<Proc>,
    /// The simulator process.
    pub sim: Option<Proc>,
    /// Agent processes, by unit index.
    pub agents: Vec<Option<Proc>>,
}

impl Cluster {
    /// Provisions `units` units for the test site and starts the simulator
    /// and the hub (agents are started with [`Cluster::start_agent`]), with
    /// fast timing for tests (heartbeat 1 s, keep-alive 2 s, offline 4 s).
    pub fn start(units: usize) -> Cluster {
        Cluster::start_with(units, true)
    }

    /// As [`Cluster::start`], with the shipped default timing when `fast`
    /// is false (for measurements).
    pub fn start_with(units: usize, fast: bool) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = Ca::init(&dir.path().join("ca"), "Test CA", ExistingFiles::Refuse).expect("ca");
        write_hub_cert(
            &ca,
            &HubCertRequest {
                out_dir: dir.path().join("hub"),
                dns: vec!["localhost".into()],
                ips: vec!["127.0.0.1".parse().expect("ip")],
                existing: ExistingFiles::Refuse,
            },
        )
        .expect("hub cert");
        let mqtt_port = free_port();
        let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let site: SiteId = SITE.parse().expect("site");
        let mut ids = Vec::new();
        for n in 0..units {
            let provisioned = provision_unit(
                &ca,
                &ProvisionRequest {
                    site,
                    unit: None,
                    out_dir: dir.path().join(format!("unit{n}")),
                    mqtt: format!("127.0.0.1:{mqtt_port}"),
                    https: "https://127.0.0.1:8443".into(),
                    hardware: Hardware::Sim {
                        socket: dir.path().join("sim.sock").display().to_string(),
                    },
                    existing: ExistingFiles::Refuse,
                },
            )
            .expect("provision");
            if fast {
                let toml = dir.path().join(format!("unit{n}/agent.toml"));
                let mut text = std::fs::read_to_string(&toml).expect("agent.toml");
                text.push_str("\n[sync]\nheartbeat_s = 1\nkeep_alive_s = 2\nresend_after_s = 2\n");
                std::fs::write(&toml, text).expect("agent.toml");
            }
            ids.push(provisioned.unit);
        }
        std::fs::write(
            dir.path().join("hub/hub.toml"),
            format!(
                "data_dir = \"data\"\n[mqtt]\nlisten = \"127.0.0.1:{mqtt_port}\"\nca = \"ca.pem\"\ncert = \"hub.pem\"\nkey = \"hub.key\"\n[api]\nlisten = \"{api}\"\n{}",
                if fast { "[supervision]\nheartbeat_s = 1\noffline_after_s = 4\n" } else { "" }
            ),
        )
        .expect("hub.toml");
        let mut cluster = Cluster {
            dir,
            mqtt_port,
            api,
            units: ids,
            hub: None,
            sim: None,
            agents: (0..units).map(|_| None).collect(),
        };
        cluster.start_sim();
        cluster.start_hub();
        cluster
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Starts (or restarts) the simulator and waits for its socket.
    pub fn start_sim(&mut self) {
        let mut cmd = Command::new(binary("picket-sim"));
        cmd.args(["sensors", "--socket"]).arg(self.path("sim.sock"));
        self.sim = Some(Proc::spawn("picket-sim", cmd, &self.path("sim.log")));
        let sock = self.path("sim.sock");
        wait_for("the simulator's socket", Duration::from_secs(10), || {
            std::os::unix::net::UnixStream::connect(&sock).ok()
        });
    }

    /// Starts (or restarts) the hub on the same data and waits for its API.
    pub fn start_hub(&mut self) {
        let mut cmd = Command::new(binary("picket-hub"));
        cmd.args(["serve", "--config"])
            .arg(self.path("hub/hub.toml"));
        cmd.env("PICKET_LOG", "info");
        self.hub = Some(Proc::spawn("picket-hub", cmd, &self.path("hub.log")));
        let api = self.api;
        wait_for("the hub's API", Duration::from_secs(20), || {
            http(api, "GET", "/health", None, None)
                .ok()
                .filter(|(s, _)| *s == 200)
        });
    }

    /// Starts (or restarts) unit `n`'s agent.
    pub fn start_agent(&mut self, n: usize) {
        let mut cmd = Command::new(binary("picket-agent"));
        cmd.args(["run", "--config"])
            .arg(self.path(&format!("unit{n}/agent.toml")));
        self.agents[n] = Some(Proc::spawn(
            "picket-agent",
            cmd,
            &self.path(&format!("unit{n}.log")),
        ));
    }

    /// The operator token.
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.path("hub/operator.token"))
            .expect("token")
            .trim()
            .to_owned()
    }

    /// An authenticated API call; panics unless it returns 200.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let (status, json) =
            http(self.api, method, path, body, Some(&self.token())).expect("API reachable");
        assert_eq!(status, 200, "{method} {path}: {json}");
        json
    }

    /// Creates the test site with `windows` every day and assigns every unit.
    pub fn site_with_schedule(&self, windows: &[&str]) {
        let days: serde_json::Map<String, serde_json::Value> = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ]
        .into_iter()
        .map(|d| (d.to_owned(), serde_json::json!(windows)))
        .collect();
        self.api(
            "PUT",
            &format!("/api/v1/sites/{SITE}"),
            Some(serde_json::json!({"name": "Test yard", "schedule": {"time_zone": "Europe/Copenhagen", "week": days}})),
        );
        for unit in &self.units {
            self.api(
                "PUT",
                &format!("/api/v1/units/{unit}/site"),
                Some(serde_json::json!({ "site": SITE })),
            );
        }
    }

    /// Appends `extra` to hub.toml and restarts the hub on it.
    pub fn reconfigure_hub(&mut self, extra: &str) {
        let config = self.path("hub/hub.toml");
        let mut text = std::fs::read_to_string(&config).expect("hub.toml");
        text.push_str(extra);
        std::fs::write(&config, text).expect("hub.toml");
        if let Some(mut hub) = self.hub.take() {
            hub.stop();
        }
        self.start_hub();
    }

    /// Waits (up to 30 s) until unit `n` is online and has applied its
    /// desired config, in `state` ("armed", "disarmed", "paused").
    pub fn wait_synced(&self, n: usize, state: &str) {
        wait_for(
            &format!("unit {n} online, config applied, {state}"),
            Duration::from_secs(30),
            || {
                let u = self.unit_view(n)?;
                (u["online"] == true && u["pending"] == false && u["state"]["state"] == state)
                    .then_some(())
            },
        );
    }

    /// A call with the operator token: (status, body).
    pub fn operator(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        http(self.api, method, path, body, Some(&self.token())).expect("API reachable")
    }

    /// Signs `email` in; the session cookie (`name=value`).
    pub fn sign_in(&self, email: &str, password: &str) -> String {
        let (status, head, body) = http_with(
            self.api,
            "POST",
            "/api/v1/session",
            Some(serde_json::json!({ "email": email, "password": password })),
            "",
        )
        .expect("API reachable");
        assert_eq!(status, 200, "sign-in of {email}: {body}");
        head.lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .and_then(|l| l.split_once(':'))
            .and_then(|(_, v)| v.trim().split(';').next())
            .expect("Set-Cookie")
            .to_owned()
    }

    /// Accepts an invitation with `token` (from its link), setting
    /// `password`; panics unless the hub says 204.
    pub fn accept_invitation(&self, token: &str, password: &str) {
        let (status, body) = http(
            self.api,
            "POST",
            "/api/v1/invitations/accept",
            Some(serde_json::json!({ "token": token, "password": password })),
            None,
        )
        .expect("API reachable");
        assert_eq!(status, 204, "accepting an invitation: {body}");
    }

    /// A call as a signed-in person: (status, body).
    pub fn as_user(
        &self,
        cookie: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, _, json) = http_with(
            self.api,
            method,
            path,
            body,
            &format!("Cookie: {cookie}\r\n"),
        )
        .expect("API reachable");
        (status, json)
    }

    /// The unit's row from the operator API.
    pub fn unit_view(&self, n: usize) -> Option<serde_json::Value> {
        let id = self.units[n].to_string();
        let units = self.api("GET", "/api/v1/units", None);
        units
            .as_array()?
            .iter()
            .find(|u| u["id"] == id.as_str())
            .cloned()
    }

    /// Fires a sensor on unit `n` through the simulator.
    pub fn trigger(&self, n: usize, sensor: &str) -> bool {
        self.trigger_with(n, sensor, &[])
    }

    /// As [`Cluster::trigger`] with more `picket-sim trigger` flags
    /// (`--restore`).
    pub fn trigger_with(&self, n: usize, sensor: &str, flags: &[&str]) -> bool {
        Command::new(binary("picket-sim"))
            .args(["trigger", "--socket"])
            .arg(self.path("sim.sock"))
            .args(["--unit", &self.units[n].to_string(), "--sensor", sensor])
            .args(flags)
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The hub's store, opened read-side (the hub may be running).
    pub fn hub_store(&self) -> Store {
        Store::open(&self.path("hub/data/hub.db")).expect("hub store")
    }

    /// The agent's outbox length, read from its file (agent may be running).
    pub fn agent_outbox(&self, n: usize) -> u64 {
        self.agent_outbox_events(n)
            .map(|e| e.len() as u64)
            .unwrap_or(u64::MAX)
    }

    /// The events waiting in the agent's outbox, oldest first.
    pub fn agent_outbox_events(&self, n: usize) -> Option<Vec<Event>> {
        let path = self.path(&format!("unit{n}/data/unit.db"));
        let conn = rusqlite::Connection::open(path).ok()?;
        conn.busy_timeout(Duration::from_secs(5)).ok()?;
        let mut stmt = conn.prepare("SELECT body FROM outbox ORDER BY seq").ok()?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).ok()?;
        let mut out = Vec::new();
        for body in rows {
            out.push(ciborium::from_reader(body.ok()?.as_slice()).ok()?);
        }
        Some(out)
    }
}

/// A minimal HTTP/1.1 client for the operator API (loopback, no TLS).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    token: Option<&str>,
) -> std::io::Result<(u16, serde_json::Value)> {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    http_with(addr, method, path, body, &auth).map(|(status, _, json)| (status, json))
}

/// As [`http`] with any extra header lines (each ending in `\r\n`), also
/// returning the response's header block.
pub fn http_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    headers: &str,
) -> std::io::Result<(u16, String, serde_json::Value)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let json = serde_json::from_str(rest).unwrap_or(serde_json::Value::Null);
    Ok((status, head.to_owned(), json))
}
