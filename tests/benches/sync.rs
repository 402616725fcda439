//! The hub's sync path, measured: `cargo bench -p picket-tests --bench sync`.
//!
//! Starts a real hub in this process (`picket_hub::run::start`: rumqttd with
//! mutual TLS, SQLite with `synchronous=FULL`, ingest, publisher) in a
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
//! - Then a probe: can a new unit still connect after the 1,000 left? (Before
//!   vendor/rumqttd patch 3 it usually could not: the router stalled on the
//!   ids of gone connections.)
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
//! filter (default `warn,rumqttd=off`: rumqttd logs an ERROR line for every
//! unit that disconnects).
//!
//! Run by `cargo test` (no `--bench` argument) it prints how to run it and
//! exits: it is not a test.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use picket_deploy::ExistingFiles;
use picket_deploy::ca::Ca;
use picket_deploy::provision::{Hardware, ProvisionRequest, new_unit_id, provision_unit};
use picket_hub::clock::SystemClock;
use picket_hub::config::{ApiConfig, HubConfig, MqttConfig, SupervisionConfig};
use picket_hub::ingest::IngestStats;
use picket_proto::ids::SiteId;
use picket_proto::message::{Body, Envelope, Event};
use picket_sim::fleet::{Fleet, FleetConfig, FleetUnit, LatencySummary, alarm};

/// Events in parts a and b.
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
    let filter = std::env::var("PICKET_BENCH_LOG").unwrap_or_else(|_| "warn,rumqttd=off".into());
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

    // Does the hub still let a unit in after 1,000 left? (rumqttd can stall
    // its router with the ids of gone connections; see the bench's notes.)
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
            ": rumqttd's router is wedged; part c uses a fresh hub".to_owned()
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

/// Part d: (messages/s received by the subscriber, PUBACKs/s to publishers).
async fn mosquitto_rate(
    dir: &Path,
    name: &str,
    extra_config: &str,
    payload_len: usize,
) -> Result<(f64, f64), String> {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

    let mosquitto = Path::new("/usr/sbin/mosquitto");
    if !mosquitto.exists() {
        return Err("/usr/sbin/mosquitto is not installed (apt-get install mosquitto)".into());
    }
    let port = free_port();
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{extra_config}"
        ),
    )
    .map_err(|e| e.to_string())?;
    let log_path = dir.join(format!("{name}.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let child = Command::new(mosquitto)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start mosquitto: {e}"))?;
    let _guard = KillOnDrop(child);
    if !wait_for_port(port, Duration::from_secs(10)).await {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        return Err(format!("mosquitto did not listen on {port}: {log}"));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let pubacks = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();

    // The subscriber.
    let mut options = MqttOptions::new(format!("{name}-sub"), "127.0.0.1", port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(64 * 1024, 64 * 1024);
    let (sub, mut events) = AsyncClient::new(options, 10);
    nodelay(&mut events);
    sub.subscribe("bench/+", QoS::AtLeastOnce)
        .await
        .map_err(|e| e.to_string())?;
    let subscribed = Arc::new(tokio::sync::Notify::new());
    {
        let (received, subscribed, stop) = (received.clone(), subscribed.clone(), stop.clone());
        tasks.spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(_))) => {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => subscribed.notify_one(),
                    Ok(_) => {}
                    Err(e) => {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        eprintln!("d: subscriber: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
    tokio::time::timeout(Duration::from_secs(10), subscribed.notified())
        .await
        .map_err(|_| "the subscriber got no SUBACK from mosquitto".to_owned())?;

    // The publishers.
    let payload = vec![0xa5u8; payload_len];
    let mut clients = Vec::new();
    for i in 0..LOAD_UNITS {
        let mut options = MqttOptions::new(format!("bench-pub-{i}"), "127.0.0.1", port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_inflight(WINDOW as u16);
        let (client, mut events) = AsyncClient::new(options, 10);
        nodelay(&mut events);
        let (pubacks, stopping) = (pubacks.clone(), stop.clone());
        tasks.spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        pubacks.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if stopping.load(Ordering::Relaxed) {
                            return;
                        }
                        eprintln!("d: publisher {i}: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        let (topic, payload, stop, publisher) = (
            format!("bench/{i}"),
            payload.clone(),
            stop.clone(),
            client.clone(),
        );
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if publisher
                    .publish(topic.as_str(), QoS::AtLeastOnce, false, payload.clone())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    let (r0, a0, t0) = (
        received.load(Ordering::Relaxed),
        pubacks.load(Ordering::Relaxed),
        Instant::now(),
    );
    tokio::time::sleep(LOAD_FOR).await;
    let (r1, a1, elapsed) = (
        received.load(Ordering::Relaxed),
        pubacks.load(Ordering::Relaxed),
        t0.elapsed().as_secs_f64(),
    );
    stop.store(true, Ordering::Relaxed);
    for c in &clients {
        let _ = c.try_disconnect();
    }
    let _ = sub.try_disconnect();
    tasks.abort_all();
    Ok(((r1 - r0) as f64 / elapsed, (a1 - a0) as f64 / elapsed))
}

/// TCP_NODELAY on a client: without it the subscriber's small PUBACKs
/// wait for delayed ACKs and cap the relay at ~600 msg/s.
fn nodelay(events: &mut rumqttc::EventLoop) {
    let mut options = events.network_options();
    options.set_tcp_nodelay(true);
    events.set_network_options(options);
}

/// e1/e2: the hub and the fleet each in its own process.
async fn separate_processes(
    dir: &Path,
    ca: &Ca,
    hub_cert: &picket_deploy::IssuedCert,
    binaries: Result<(PathBuf, PathBuf), String>,
) -> Result<Vec<String>, String> {
    let (hub_bin, sim_bin) = binaries?;
    let base = dir.join("separate");
    let hub_dir = base.join("hub");
    let bundles = base.join("bundles");
    std::fs::create_dir_all(&hub_dir).map_err(|e| e.to_string())?;
    ca.write_cert(&hub_dir).map_err(|e| e.to_string())?;
    hub_cert
        .write(&hub_dir, "hub", ExistingFiles::Refuse)
        .map_err(|e| e.to_string())?;
    let port = free_port();
    std::fs::write(
        hub_dir.join("hub.toml"),
        format!(
            "data_dir = \"data\"\n\n[mqtt]\nlisten = \"127.0.0.1:{port}\"\nca = \"ca.pem\"\ncert = \"hub.pem\"\nkey = \"hub.key\"\n\n[api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"operator.token\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;

    let t = Instant::now();
    let site = SiteId::v7(jiff::Timestamp::now(), [0x5e; 10]);
    for i in 0..MANY {
        provision_unit(
            ca,
            &ProvisionRequest {
                site,
                unit: None,
                out_dir: bundles.join(format!("unit-{i:04}")),
                mqtt: format!("127.0.0.1:{port}"),
                https: "https://127.0.0.1:8443".to_owned(),
                hardware: Hardware::Sim {
                    socket: "sim.sock".to_owned(),
                },
                existing: ExistingFiles::Refuse,
            },
        )
        .map_err(|e| format!("provisioning unit {i}: {e}"))?;
    }
    println!(
        "(provisioned {MANY} unit bundles in {:.1} s; hub {}, fleet {})",
        t.elapsed().as_secs_f64(),
        hub_bin.display(),
        sim_bin.display()
    );

    let hub_log = std::fs::File::create(base.join("hub.log")).map_err(|e| e.to_string())?;
    let hub = Command::new(&hub_bin)
        .args(["serve", "--log", "warn", "--config"])
        .arg(hub_dir.join("hub.toml"))
        .stdout(Stdio::null())
        .stderr(hub_log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", hub_bin.display()))?;
    let hub = KillOnDrop(hub);
    let hub_pid = hub.0.id().to_string();
    if !wait_for_port(port, Duration::from_secs(15)).await {
        let log = std::fs::read_to_string(base.join("hub.log")).unwrap_or_default();
        return Err(format!("picket-hub serve did not listen on {port}: {log}"));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let hub_before = rss_kib(&hub_pid).ok_or("cannot read the hub's RSS")?;

    let fleet_log = std::fs::File::create(base.join("fleet.log")).map_err(|e| e.to_string())?;
    let mut fleet = Command::new(&sim_bin)
        .args([
            "fleet",
            "--rate",
            "0",
            "--duration",
            "120",
            "--connect-spread-s",
            "2",
        ])
        .args(["--count", &MANY.to_string(), "--bundles"])
        .arg(&bundles)
        .stdout(Stdio::piped())
        .stderr(fleet_log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", sim_bin.display()))?;
    let stdout = fleet.stdout.take().ok_or("no fleet stdout")?;
    let fleet = KillOnDrop(fleet);
    let fleet_pid = fleet.0.id().to_string();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    'connecting: loop {
        while let Ok(line) = lines_rx.try_recv() {
            let done = line.starts_with("all ") && line.contains("units connected");
            last = line;
            if done {
                break 'connecting;
            }
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(base.join("fleet.log")).unwrap_or_default();
            return Err(format!(
                "the fleet process did not connect all {MANY} units within 60 s; last line: {last:?}; log tail: {}",
                tail(&log, 600)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("(fleet process: {last})");
    tokio::time::sleep(Duration::from_secs(6)).await; // one heartbeat round
    let hub_after = rss_kib(&hub_pid).ok_or("cannot read the hub's RSS")?;
    let fleet_rss = rss_kib(&fleet_pid).ok_or("cannot read the fleet's RSS")?;
    let status = last_status_line(&lines_rx);
    Ok(vec![
        format!(
            "e1. memory, HUB ONLY (picket-hub serve in its own process, {MANY} units from a separate picket-sim fleet process, after a heartbeat round): RSS {:.1} → {:.1} MiB = {:.1} KiB per connected unit",
            mib(hub_before),
            mib(hub_after),
            per_unit(hub_before, hub_after, MANY)
        ),
        format!(
            "e2. memory, fleet clients only (picket-sim fleet process, {MANY} units, rumqttc + rustls + outbox): RSS {:.1} MiB = {:.1} KiB per unit{}",
            mib(fleet_rss),
            fleet_rss as f64 / MANY as f64,
            status.map(|s| format!(" [{s}]")).unwrap_or_default()
        ),
    ])
}

/// The most recent progress line of the fleet process, if any arrived.
fn last_status_line(lines: &std::sync::mpsc::Receiver<String>) -> Option<String> {
    let mut last = None;
    while let Ok(line) = lines.try_recv() {
        if line.starts_with("t=") {
            last = Some(line.split(" | ").next().unwrap_or(&line).to_owned());
        }
    }
    last
}

/// The `picket-hub` and `picket-sim` binaries next to this bench (release),
/// or in the debug directory; builds them first unless told not to.
fn binaries() -> Result<(PathBuf, PathBuf), String> {
    let root = picket_tests::workspace_root();
    if std::env::var_os("PICKET_BENCH_NO_BUILD").is_none() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let t = Instant::now();
        let mut child = Command::new(cargo)
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "-q",
                "-p",
                "picket-hub",
                "-p",
                "picket-sim",
                "--bins",
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run cargo build: {e}"))?;
        let limit = Duration::from_secs(240);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break,
                Ok(Some(status)) => {
                    return Err(format!("cargo build of the binaries failed: {status}"));
                }
                Ok(None) if t.elapsed() > limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    println!("(building the binaries took over {limit:?}; using what is there)");
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(200)),
                Err(e) => return Err(e.to_string()),
            }
        }
        println!(
            "(cargo build --release -p picket-hub -p picket-sim for part e: {:.0} s, before the measurements)",
            t.elapsed().as_secs_f64()
        );
    }
    // This bench runs from <target>/release/deps/.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| root.join("target"));
    for profile in ["release", "debug"] {
        let hub = target.join(profile).join("picket-hub");
        let sim = target.join(profile).join("picket-sim");
        if hub.is_file() && sim.is_file() {
            return Ok((hub, sim));
        }
    }
    Err(format!(
        "no picket-hub and picket-sim binaries under {}; run `cargo build --release -p picket-hub -p picket-sim`",
        target.display()
    ))
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

fn hub_config(dir: &Path, port: u16) -> HubConfig {
    HubConfig {
        data_dir: dir.join("data"),
        mqtt: MqttConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            ca: dir.join("ca.pem"),
            cert: dir.join("hub.pem"),
            key: dir.join("hub.key"),
            max_payload_bytes: picket_proto::codec::MAX_MESSAGE_BYTES,
            // The production default.
            max_connections: 20_000,
        },
        api: ApiConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token_file: dir.join("operator.token"),
        },
        supervision: SupervisionConfig::default(),
    }
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

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
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

fn mosquitto_version() -> String {
    Command::new("/usr/sbin/mosquitto")
        .arg("-h")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("mosquitto version "))
                .map(str::to_owned)
        })
        .unwrap_or_default()
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
