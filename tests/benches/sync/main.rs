//! The hub's sync path, measured: `cargo bench -p picket-tests --bench sync`.
//!
//! Starts a real hub in this process (`picket_hub::run::start`: its own MQTT
//! front with mutual TLS, SQLite with `synchronous=FULL`, ingest, publisher) in a
//! temporary directory on loopback, drives it with `picket_sim::fleet`
//! (units speaking the agent's protocol), and prints one line per figure:
//!
//! - **a.** event → hub commit → `event_ack` round trip, 1 unit connected
//!   as the agent connects (TCP_NODELAY on both sides since the broker and
//!   agent fixes; before them, Nagle/delayed-ACK stalls cost ~40-88 ms per
//!   event), events one at a time (up to 2,000, within a time budget):
//!   p50/p90/p99/max.
//! - **b.** the same with 1,000 units connected and heartbeating every 5 s,
//!   events from one unit at a time, round-robin (each unit's connection is
//!   mostly quiet, so many round trips escape the stalls).
//! - Then a probe: can a new unit still connect after the 1,000 left? (With
//!   the embedded rumqttd this needed a patch: its router stalled on the ids
//!   of gone connections.)
//! - **c.** durable ingest rate, on a fresh hub: 100 units each keeping its
//!   window of 64 unacknowledged events full for 10 s; events committed
//!   *and* acknowledged per second.
//! - **d.** Debian's Mosquitto (minimal config: plain TCP listener,
//!   anonymous, no persistence) relaying same-size payloads at QoS 1 from
//!   100 rumqttc publishers (64 in flight each) to one subscriber of
//!   `bench/+` for 10 s; messages received per second by the subscriber,
//!   and hub/mosquitto. Under this load mosquitto PUBACKs far more than it
//!   forwards to the one QoS 1 subscriber (it drops the rest at its queue
//!   limit; a larger `max_inflight_messages` did not change that), so the
//!   line also gives the ratio against what mosquitto accepted. Parts c and
//!   d set TCP_NODELAY on their clients, so both face the same client load.
//! - **e.** memory per connected unit: the hub alone (`picket-hub serve` as a
//!   child process, `picket-sim fleet` in another, RSS from
//!   `/proc/<pid>/status`), the fleet's clients alone, and both in this
//!   process (the in-process figure includes the fleet's clients).
//!
//! Part e needs the `picket-hub` and `picket-sim` binaries: the bench runs
//! `cargo build --release -p picket-hub -p picket-sim --bins` first (a
//! no-op when they are fresh; set `PICKET_BENCH_NO_BUILD=1` to skip it and
//! use whatever is in the target directory). Every wait is bounded; the
//! whole run takes about three minutes. `PICKET_BENCH_LOG` sets the log
//! filter (default `warn`).
//!
//! Run by `cargo test` (no `--bench` argument) it prints how to run it and
//! exits: it is not a test.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use picket_deploy::ExistingFiles;
use picket_deploy::ca::Ca;
use picket_deploy::provision::{Hardware, ProvisionRequest, new_unit_id, provision_unit};
use picket_hub::clock::SystemClock;
use picket_hub::config::HubConfig;
use picket_hub::ingest::IngestStats;
use picket_proto::ids::SiteId;
use picket_proto::message::{Body, Envelope, Event};
use picket_sim::fleet::{Fleet, FleetConfig, FleetUnit, LatencySummary, alarm};
use picket_tests::harness::free_port;

/// Events in parts a and b.
mod mosquitto;
mod processes;

use mosquitto::{mosquitto_rate, mosquitto_version};
use processes::{binaries, separate_processes};

const ONE_AT_A_TIME: usize = 2000;
/// Warm-up events before a and b (not counted).
const WARM_UP: usize = 50;
/// Units connected in part b and measured in part e.
const MANY: usize = 1000;
/// Units (and publishers) in parts c and d.
const LOAD_UNITS: usize = 100;
/// Events in flight per unit in part c, and QoS 1 publishes in flight per
/// publisher in part d.
const WINDOW: usize = 64;
/// How long parts c and d load the broker.
const LOAD_FOR: Duration = Duration::from_secs(10);
/// Resend unacknowledged events after this (shorter than the agent's 10 s
/// so a lost ack costs the bench less time; it shows in max and resends).
const RESEND_AFTER: Duration = Duration::from_secs(5);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("sync: a benchmark, not a test; run `cargo bench -p picket-tests --bench sync`");
        return;
    }
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

fn init_logging() {
    let filter = std::env::var("PICKET_BENCH_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run() {
    // Part e's binaries first, so a rebuild (other people edit the hub)
    // neither overlaps nor counts as a measurement.
    let binaries = binaries();
    let wall = Instant::now();
    print_machine("start of the measurements");
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca = Ca::generate("Picket bench CA").expect("CA");
    let hub_cert = ca
        .issue_hub_cert(&["localhost".to_owned()], &[Ipv4Addr::LOCALHOST.into()])
        .expect("hub certificate");
    ca.write_cert(dir.path()).expect("ca.pem");
    hub_cert
        .write(dir.path(), "hub", ExistingFiles::Refuse)
        .expect("hub.pem, hub.key");

    // The units of parts a, b and c, each with its own certificate.
    let t = Instant::now();
    let units: Vec<FleetUnit> = (0..2 + MANY + LOAD_UNITS)
        .map(|_| issue_unit(&ca))
        .collect();
    println!(
        "(issued {} unit certificates in {:.1} s)",
        units.len(),
        t.elapsed().as_secs_f64()
    );
    let (unit_a, rest) = units.split_at(1);
    let (units_b, rest) = rest.split_at(MANY);
    let (probe, units_c) = rest.split_at(1);

    let port = free_port();
    let hub_addr = format!("127.0.0.1:{port}");
    let config = hub_config(dir.path(), port);
    let hub = picket_hub::run::start(&config, Arc::new(SystemClock))
        .await
        .expect("start the hub");
    println!(
        "hub in this process on {hub_addr} (data in {}, max_connections {})",
        config.data_dir.display(),
        config.mqtt.max_connections
    );

    // a. One unit, one event at a time: first as the agent connects (no
    // TCP_NODELAY), then with TCP_NODELAY on the unit, which leaves only the
    // hub's side of the Nagle/delayed-ACK stall (see the notes on `a`).
    for (label, nodelay, budget) in [("a", true, Duration::from_secs(40))] {
        let mut config = fleet_config(&hub_addr, unit_a.to_vec(), Duration::ZERO);
        config.tcp_nodelay = nodelay;
        let fleet = Fleet::start(config).expect("start the fleet");
        let how = if nodelay {
            "unit as the agent connects, TCP_NODELAY"
        } else {
            "unit with Nagle on"
        };
        if fleet.wait_connected(1, Duration::from_secs(30)).await {
            match one_at_a_time(&fleet, |_| 0, budget).await {
                Ok(run) => println!(
                    "{label}. event→commit→ack round trip, 1 unit connected ({how}), events one at a time over mTLS on loopback: {}{} (resent {})",
                    figures(&run.latency),
                    run.note(budget),
                    fleet.stats().resent
                ),
                Err(e) => println!("{label}. FAILED: {e}"),
            }
        } else {
            println!(
                "{label}. FAILED: the unit did not connect: {:?}",
                fleet.stats()
            );
        }
        fleet.shutdown(Duration::from_secs(5)).await;
    }

    // e (in process) and b: 1,000 units.
    let rss_before = rss_kib("self");
    let t = Instant::now();
    let fleet = start_fleet(&hub_addr, units_b.to_vec(), Duration::from_secs(2));
    let all = fleet.wait_connected(MANY, Duration::from_secs(60)).await;
    let connect_time = t.elapsed();
    println!(
        "(connected {}/{MANY} units in {:.1} s, spread over 2 s; failed attempts {}, lost {})",
        fleet.connected(),
        connect_time.as_secs_f64(),
        fleet.stats().connect_failures,
        fleet.stats().disconnects
    );
    // One heartbeat round, so every unit has sent its status, state and a
    // heartbeat and the hub has committed them.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let rss_after = rss_kib("self");
    let connected = fleet.connected();
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        println!(
            "e3. memory, hub AND fleet clients in this one process: RSS {:.1} → {:.1} MiB with {connected} units connected = {:.1} KiB per unit (upper bound for the hub; see e1)",
            mib(before),
            mib(after),
            per_unit(before, after, connected)
        );
    }
    if all {
        let budget = Duration::from_secs(60);
        match one_at_a_time(&fleet, |i| i % MANY, budget).await {
            Ok(run) => {
                let s = fleet.stats();
                println!(
                    "b. event→commit→ack round trip, {} units connected and heartbeating every 5 s (as the agent connects), events one at a time round-robin: {}{} (resent {}, connections lost {})",
                    s.connected,
                    figures(&run.latency),
                    run.note(budget),
                    s.resent,
                    s.disconnects
                );
            }
            Err(e) => println!("b. FAILED: {e}"),
        }
    } else {
        println!(
            "b. FAILED: only {} of {MANY} units connected within 60 s: {:?}",
            fleet.connected(),
            fleet.stats()
        );
    }
    fleet.shutdown(Duration::from_secs(10)).await;

    // Does the hub still let a unit in after 1,000 left?
    let t = Instant::now();
    let fleet = start_fleet(&hub_addr, probe.to_vec(), Duration::ZERO);
    let accepted = fleet.wait_connected(1, Duration::from_secs(10)).await;
    println!(
        "(after the {MANY} units disconnected, a new unit {} {:.1} s{})",
        if accepted {
            "connected within"
        } else {
            "could NOT connect within"
        },
        t.elapsed().as_secs_f64(),
        if accepted {
            String::new()
        } else {
            ": the hub's front is wedged; part c uses a fresh hub".to_owned()
        }
    );
    drop(fleet);
    tokio::task::spawn_blocking(move || hub.stop())
        .await
        .expect("stop hub 1");

    // c. Durable ingest rate, on a fresh hub.
    let port = free_port();
    let hub_addr = format!("127.0.0.1:{port}");
    let mut config = hub_config(dir.path(), port);
    config.data_dir = dir.path().join("data-c");
    let hub = picket_hub::run::start(&config, Arc::new(SystemClock))
        .await
        .expect("start the hub for part c");
    let stats = hub.stats.clone();
    let payload_len = event_payload_len();
    let hub_rate = ingest_rate(&hub_addr, units_c.to_vec(), &stats).await;
    tokio::task::spawn_blocking(move || hub.stop())
        .await
        .expect("stop hub 2");

    // d. Mosquitto relaying the same load (its minimal configuration).
    match mosquitto_rate(dir.path(), "mosquitto", "", payload_len).await {
        Ok((received, acked)) => {
            let ratio = |m: f64| match hub_rate {
                Some(h) if m > 0.0 => format!("{:.2}", h / m),
                _ => "n/a".to_owned(),
            };
            println!(
                "d. Mosquitto {} (minimal config: listener, allow_anonymous, persistence false), plain TCP, QoS 1: {LOAD_UNITS} rumqttc publishers ({WINDOW} in flight each, {payload_len}-byte payloads) → 1 rumqttc subscriber (QoS 1, `bench/+`), {} s: {received:.0} msg/s received by the subscriber (publishers got {acked:.0} PUBACK/s; mosquitto dropped the difference at its queue limit); hub/mosquitto = {} (against what mosquitto accepted: {}) (hub: mTLS + SQLite fsync per batch + end-to-end ack; mosquitto: plain TCP, in memory)",
                mosquitto_version(),
                LOAD_FOR.as_secs(),
                ratio(received),
                ratio(acked)
            );
        }
        Err(e) => println!("d. FAILED: {e}"),
    }

    // e. Hub-only memory, with the hub and the fleet in child processes.
    match separate_processes(dir.path(), &ca, &hub_cert, binaries).await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
        }
        Err(e) => println!("e1/e2. FAILED: {e}"),
    }

    println!(
        "(bench wall time {:.0} s, not counting the build of the binaries)",
        wall.elapsed().as_secs_f64()
    );
    print_machine("end");
}

/// What [`one_at_a_time`] measured.
struct OneAtATime {
    latency: LatencySummary,
    /// Whether the time budget ran out before [`ONE_AT_A_TIME`] events.
    cut_short: bool,
}

impl OneAtATime {
    fn note(&self, budget: Duration) -> String {
        if self.cut_short {
            format!(
                " — only {} of {ONE_AT_A_TIME} events fit in the {} s budget",
                self.latency.count,
                budget.as_secs()
            )
        } else {
            String::new()
        }
    }
}

/// Sends up to [`ONE_AT_A_TIME`] events (after [`WARM_UP`]), each from
/// unit `pick(i)`, waiting for each ack before the next; stops early when
/// `budget` is spent.
async fn one_at_a_time(
    fleet: &Fleet,
    pick: impl Fn(usize) -> usize,
    budget: Duration,
) -> Result<OneAtATime, String> {
    let mut deadline = Instant::now() + budget;
    let mut cut_short = false;
    for i in 0..WARM_UP + ONE_AT_A_TIME {
        if i == WARM_UP {
            fleet.reset_latency();
            deadline = Instant::now() + budget;
        }
        fleet
            .send_event(pick(i), alarm())
            .map_err(|e| e.to_string())?;
        if !fleet.wait_all_acked(RESEND_AFTER * 3).await {
            return Err(format!(
                "event {i} not acknowledged within {:?}: {:?}",
                RESEND_AFTER * 3,
                fleet.stats()
            ));
        }
        if i >= WARM_UP && Instant::now() > deadline {
            cut_short = i + 1 < WARM_UP + ONE_AT_A_TIME;
            break;
        }
    }
    let latency = fleet
        .latency()
        .ok_or_else(|| "no latency recorded".to_owned())?;
    Ok(OneAtATime { latency, cut_short })
}

/// Part c: events committed and acknowledged per second.
async fn ingest_rate(hub_addr: &str, units: Vec<FleetUnit>, stats: &IngestStats) -> Option<f64> {
    let n = units.len();
    let mut config = fleet_config(hub_addr, units, Duration::from_millis(200));
    config.tcp_nodelay = true; // the same client TCP settings as part d
    let fleet = Fleet::start(config).expect("start the fleet");
    if !fleet.wait_connected(n, Duration::from_secs(30)).await {
        println!(
            "c. FAILED: only {} of {n} units connected: {:?}",
            fleet.connected(),
            fleet.stats()
        );
        return None;
    }
    load(&fleet, Instant::now() + Duration::from_secs(1)).await; // warm-up
    fleet.reset_latency();
    let (acked0, committed0, batches0) = (
        fleet.acked(),
        stats.committed.load(Ordering::Relaxed),
        stats.batches.load(Ordering::Relaxed),
    );
    let t0 = Instant::now();
    load(&fleet, t0 + LOAD_FOR).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let (acked1, committed1, batches1) = (
        fleet.acked(),
        stats.committed.load(Ordering::Relaxed),
        stats.batches.load(Ordering::Relaxed),
    );
    let latency = fleet.latency();
    let rate = (acked1 - acked0) as f64 / elapsed;
    let committed = committed1 - committed0;
    let batches = (batches1 - batches0).max(1);
    let drained = fleet.wait_all_acked(Duration::from_secs(30)).await;
    let s = fleet.stats();
    println!(
        "c. durable ingest, {n} units × {WINDOW} in flight (TCP_NODELAY on the units) for {elapsed:.1} s: {rate:.0} events/s committed AND acked (hub committed {:.0} messages/s in {:.0} batches/s, {:.0} per batch; event→ack under load {}; resent {}, backlog drained: {})",
        committed as f64 / elapsed,
        batches as f64 / elapsed,
        committed as f64 / batches as f64,
        latency.map_or_else(|| "n/a".to_owned(), |l| figures(&l)),
        s.resent,
        if drained {
            "yes".to_owned()
        } else {
            format!("NO, {} outstanding", s.outstanding)
        }
    );
    fleet.shutdown(Duration::from_secs(5)).await;
    Some(rate)
}

/// Keeps every unit's backlog at two windows until `until`, so no window
/// runs dry between top-ups.
async fn load(fleet: &Fleet, until: Instant) {
    while Instant::now() < until {
        for u in 0..fleet.len() {
            let missing = (2 * WINDOW).saturating_sub(fleet.outstanding_of(u));
            for _ in 0..missing {
                let _ = fleet.send_event(u, alarm());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The agent's settings (heartbeat 5 s, 64 in flight, TCP_NODELAY) with
/// a shorter resend timeout.
fn fleet_config(hub: &str, units: Vec<FleetUnit>, spread: Duration) -> FleetConfig {
    let mut config = FleetConfig::new(hub, units);
    config.connect_spread = spread;
    config.resend_after = RESEND_AFTER;
    config.max_in_flight = WINDOW;
    config.heartbeat = Duration::from_secs(5);
    config
}

fn start_fleet(hub: &str, units: Vec<FleetUnit>, spread: Duration) -> Fleet {
    Fleet::start(fleet_config(hub, units, spread)).expect("start the fleet")
}

fn issue_unit(ca: &Ca) -> FleetUnit {
    let unit = new_unit_id().expect("unit id");
    let cert = ca.issue_unit_cert(unit).expect("unit certificate");
    let tls =
        picket_sim::fleet::client_config_from_pem(ca.cert_pem(), &cert.cert_pem, &cert.key_pem)
            .expect("unit TLS config");
    FleetUnit { unit, tls }
}

/// The production MQTT limits, API on a free port.
fn hub_config(dir: &Path, port: u16) -> HubConfig {
    picket_tests::harness::hub_config(dir, port, 20_000)
}

/// The encoded size of a typical alarm event envelope (what part c sends).
fn event_payload_len() -> usize {
    let now = jiff::Timestamp::now();
    let unit = new_unit_id().expect("unit id");
    let event = Event {
        id: picket_proto::ids::EventId::v7(now, [1; 10]),
        seq: 1234,
        at: now,
        kind: alarm(),
    };
    picket_proto::codec::encode(&Envelope::new(unit, now, Body::Event(event)))
        .expect("encode")
        .len()
}

async fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// VmRSS of `/proc/<pid>/status`, in KiB (`pid` may be `self`).
fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn per_unit(before: u64, after: u64, units: usize) -> f64 {
    (after as f64 - before as f64) / units.max(1) as f64
}

fn figures(l: &LatencySummary) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.max),
        l.count
    )
}

fn print_machine(when: &str) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let nofile = std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| l.split_whitespace().nth(3).unwrap_or("?").to_owned())
        .unwrap_or_default();
    println!(
        "(machine at {when}: {cores} cores, load average {}, open-file limit {nofile})",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}

fn tail(text: &str, chars: usize) -> &str {
    let start = text.len().saturating_sub(chars);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

/// Kills (SIGKILL, by its own pid) and reaps a child process when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
