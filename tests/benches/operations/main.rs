//! Day-to-day operations at scale, measured:
//! `cargo bench -p picket-tests --bench operations`.
//!
//! The budget (issue 5): overview, alarm list and queue answer with
//! p99 ≤ 50 ms with 10,000 units and 1,000,000 events in the store; a
//! schedule edit is confirmed by 1,000 connected units within 2 s. Figures
//! are printed, never asserted.
//!
//! **Part A** fills a real store (SQLite, `synchronous=FULL`, in a temporary
//! directory) through its public API — one operator and 99 customers with
//! 10 sites each (three of them sub-sites), 10,000 units spread over the
//! sites, then 1,000,000 events through `Store::commit` in transactions of
//! 5,000 (as ingest writes them): 2 % alarms, the rest activity, arm-state
//! and power events, with `at` spread over the last 30 days and
//! `received_at` 100-800 ms later (a batch shares one `received_at`, so its
//! events are a burst ~0.7 s long; the 200 bursts are 3.6 h apart), plus a
//! few online/offline changes per batch for the availability figures. The
//! alarms raise ~20,000 centre queue items; all but the newest 200 are then
//! handled (claimed 10-90 s after receipt, acknowledged 1-30 s later,
//! handled as false alarms 30-600 s later; one audited write per item). It
//! prints how long filling took, then serves the real router on loopback
//! (`picket_hub::api::serve`) and times whole requests — one HTTP/1.1
//! connection per request, sent in one write with TCP_NODELAY, timed to
//! the last byte (p50/p90/p99/max over 200 requests after 5 warm-ups,
//! within 15 s per figure):
//!
//! - **a1-a3.** `GET /api/v1/alarms?limit=100` as customer 0's owner and as
//!   the operator admin; `?site=<one of the owner's sites>&status=handled`.
//! - **a4.** `GET /api/v1/centre/queue` as a centre operator (~200 open).
//! - **a5-a6.** `GET /api/v1/response-times` over the 30 days, as the owner,
//!   overall and for one site.
//! - **a7.** `GET /api/v1/transmission` over the last 7 days as the
//!   operator admin (every unit's delivery and availability).
//! - **a8-a9.** `GET /api/v1/overview` as the owner and the operator admin,
//!   if the hub has it (otherwise one line says it answered 404).
//! - **a10-a11.** `GET /api/v1/fleet` as a centre operator: the summary over
//!   all 10,000 units with the first page of 200, and offline units only.
//! - The store's size on disk and the process's RSS.
//!
//! **Part B** starts a real hub in this process (`picket_hub::run::start`:
//! MQTT front with mutual TLS, ingest, publisher, API) and connects 1,000
//! `picket_sim::fleet` units (the agent's protocol, heartbeat 5 s), assigns
//! them all to one site with `PUT /api/v1/units/{unit}/site` (operator
//! token; prints the per-request figures), then 5 times edits the site's
//! schedule with `PUT /api/v1/sites/{site}/schedule` and prints (b2) the
//! time from sending the request until **all 1,000 units have confirmed**
//! it — reported the new version applied, so `GET /api/v1/units` (polled
//! every 20 ms) shows no unit pending — and (b2') until all had received
//! it (the fleet's `configs` counter), with the time the PUT itself took;
//! p50/max over the 5. The simulated units report a config applied as soon
//! as they receive it (an agent first stores it: a few milliseconds more);
//! a last line counts the units still pending.
//!
//! Every wait is bounded; a run takes about 1.5-2 minutes on 2 cores, about
//! a minute of it filling the store. `PICKET_BENCH_LOG` sets the log filter (default
//! `warn`).
//!
//! Run by `cargo test` (no `--bench` argument) it prints how to run it and
//! exits: it is not a test.

use std::path::Path;
use std::time::Instant;

use picket_hub::store::{AuditEntry, Store};

/// Filling the store (part A's data).
mod fill;
/// The bench's own HTTP/1.1 client and percentile lines.
mod http;
/// Part A: request latency over the filled store.
mod latency;
/// Part B: a schedule edit reaching 1,000 connected units.
mod schedule_edit;

const PASSWORD: &str = "bench password, not a secret";
const OPERATOR_TOKEN: &str = "bench-operator-token-0123456789abcdef";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "operations: a benchmark, not a test; run `cargo bench -p picket-tests --bench operations`"
        );
        return;
    }
    init_logging();
    let wall = Instant::now();
    print_machine("start");

    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("hub.db");
    let mut store = Store::open(&db).expect("open the store");
    let world = fill::fill(&mut store);
    print_size("after filling", &db);
    latency::requests(&world, store);
    print_size("after part A", &db);
    drop(dir);

    schedule_edit::run();

    println!(
        "(bench wall time {:.0} s, filling included)",
        wall.elapsed().as_secs_f64()
    );
    print_machine("end");
}

fn init_logging() {
    let filter = std::env::var("PICKET_BENCH_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Ids from a given instant with a counter for the random part (the
/// counter sits in bytes the UUIDv7 layout leaves alone), so ids made in
/// time order sort in time order.
pub(crate) struct Ids(u32);

impl Ids {
    pub(crate) fn new() -> Ids {
        Ids(0)
    }

    pub(crate) fn bytes(&mut self) -> [u8; 10] {
        self.0 += 1;
        let mut b = [0; 10];
        b[6..].copy_from_slice(&self.0.to_be_bytes());
        b
    }
}

/// SplitMix64: a fixed seed, so every run fills the same store.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`hi > lo`).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// An audit entry for the bench's own setup writes.
pub(crate) fn setup_audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: None,
        actor_label: "operations bench".into(),
        address: "127.0.0.1".into(),
        action: action.into(),
        target: String::new(),
        org: None,
        detail: serde_json::Value::Null,
    }
}

/// VmRSS of `/proc/<pid>/status`, in KiB (`pid` may be `self`).
pub(crate) fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The store's files (database, WAL, shared memory) and this process's RSS.
fn print_size(when: &str, db: &Path) {
    let size = |suffix: &str| {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        std::fs::metadata(path).map_or(0, |m| m.len())
    };
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let (main, wal, shm) = (size(""), size("-wal"), size("-shm"));
    println!(
        "(store on disk {when}: {:.1} MiB = hub.db {:.1} MiB + WAL {:.1} MiB + shm {:.2} MiB; process RSS {})",
        mib(main + wal + shm),
        mib(main),
        mib(wal),
        mib(shm),
        rss_kib("self").map_or_else(
            || "unknown".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0)
        )
    );
}

pub(crate) fn print_machine(when: &str) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "(machine at {when}: {cores} cores, load average {})",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
