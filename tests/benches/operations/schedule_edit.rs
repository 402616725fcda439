//! Part B: a schedule edit reaching 1,000 connected units, on a real hub
//! in this process (MQTT front with mutual TLS, ingest, publisher, API)
//! and a `picket_sim::fleet` of units.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Weekday;
use picket_deploy::ExistingFiles;
use picket_deploy::ca::Ca;
use picket_deploy::provision::new_unit_id;
use picket_hub::clock::SystemClock;
use picket_hub::config::HubConfig;
use picket_proto::ids::SiteId;
use picket_proto::schedule::{ArmedWindow, ScheduleSpec};
use picket_sim::fleet::{Fleet, FleetConfig, FleetUnit};
use picket_tests::harness::free_port;

use super::Ids;
use super::http::{Response, ms_figures, percentile, request};

/// Units connected and placed on the one site.
const UNITS: usize = 1_000;
/// Schedule edits timed.
const EDITS: usize = 5;
/// How often the bench looks at what the units received.
const POLL: Duration = Duration::from_millis(20);
/// The longest the bench waits for one edit to reach every unit.
const EDIT_LIMIT: Duration = Duration::from_secs(20);

pub(crate) fn run() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca = Ca::generate("Picket bench CA").expect("CA");
    let hub_cert = ca
        .issue_hub_cert(&["localhost".to_owned()], &[Ipv4Addr::LOCALHOST.into()])
        .expect("hub certificate");
    ca.write_cert(dir.path()).expect("ca.pem");
    hub_cert
        .write(dir.path(), "hub", ExistingFiles::Refuse)
        .expect("hub.pem, hub.key");
    let t = Instant::now();
    let units: Vec<FleetUnit> = (0..UNITS).map(|_| issue_unit(&ca)).collect();
    println!(
        "(part B: issued {UNITS} unit certificates in {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    let port = free_port();
    let config = hub_config(dir.path(), port);
    let hub = runtime
        .block_on(picket_hub::run::start(&config, Arc::new(SystemClock)))
        .expect("start the hub");
    let api = hub.api_addr;
    let token = format!(
        "Authorization: Bearer {}\r\nContent-Type: application/json\r\n",
        hub.token
    );

    let t = Instant::now();
    let fleet = {
        let _runtime = runtime.enter();
        let mut fleet_config = FleetConfig::new(format!("127.0.0.1:{port}"), units);
        fleet_config.connect_spread = Duration::from_secs(2);
        Fleet::start(fleet_config).expect("start the fleet")
    };
    let all = runtime.block_on(fleet.wait_connected(UNITS, Duration::from_secs(60)));
    println!(
        "(part B: hub in this process, {}/{UNITS} fleet units connected in {:.1} s, spread over 2 s)",
        fleet.connected(),
        t.elapsed().as_secs_f64()
    );
    if all {
        if let Err(e) = measure(api, &token, &fleet) {
            println!("b. FAILED: {e} (fleet: {:?})", fleet.stats());
        }
    } else {
        println!("b. FAILED: not every unit connected: {:?}", fleet.stats());
    }

    runtime.block_on(fleet.shutdown(Duration::from_secs(10)));
    hub.stop();
    runtime.shutdown_timeout(Duration::from_secs(5));
}

/// Places every unit on one site, then edits its schedule [`EDITS`] times.
fn measure(api: SocketAddr, token: &str, fleet: &Fleet) -> Result<(), String> {
    let mut ids = Ids::new();
    let site = SiteId::v7(Timestamp::now(), ids.bytes());
    let body = serde_json::json!({ "name": "Bench site", "schedule": schedule(0) });
    expect_ok(request(
        api,
        "PUT",
        &format!("/api/v1/sites/{site}"),
        token,
        &body.to_string(),
    ))?;

    // Every unit onto the site: each assignment publishes its first
    // desired config.
    let received = || fleet.stats().configs;
    let before = received();
    let body = serde_json::json!({ "site": site }).to_string();
    let t = Instant::now();
    let mut samples = Vec::with_capacity(UNITS);
    for i in 0..UNITS {
        let unit = fleet.unit_id(i).ok_or("no such unit")?;
        let r = expect_ok(request(
            api,
            "PUT",
            &format!("/api/v1/units/{unit}/site"),
            token,
            &body,
        ))?;
        samples.push(r.took);
    }
    let assigned = t.elapsed();
    let delivered = wait_for(|| received() >= before + UNITS as u64, EDIT_LIMIT);
    println!(
        "b1. PUT /api/v1/units/{{unit}}/site (operator token), {UNITS} units one after another onto one site: {}; all {UNITS} sent in {:.1} s; {}",
        ms_figures(&samples),
        assigned.as_secs_f64(),
        match delivered {
            Some(_) => format!(
                "every unit had received its first desired config {:.2} s after the first request",
                t.elapsed().as_secs_f64()
            ),
            None => format!(
                "only {} of {UNITS} first desired configs arrived within {} s",
                received() - before,
                EDIT_LIMIT.as_secs()
            ),
        }
    );

    let path = format!("/api/v1/sites/{site}/schedule");
    let mut reach = Vec::with_capacity(EDITS);
    let mut confirmed = Vec::with_capacity(EDITS);
    let mut puts = Vec::with_capacity(EDITS);
    for edit in 1..=EDITS {
        std::thread::sleep(Duration::from_millis(500));
        let body = serde_json::to_string(&schedule(edit)).map_err(|e| e.to_string())?;
        let before = received();
        let t = Instant::now();
        let r = expect_ok(request(api, "PUT", &path, token, &body))?;
        let updated = r.json().and_then(|v| v.get("units_updated")?.as_u64());
        if updated != Some(UNITS as u64) {
            return Err(format!("edit {edit}: units_updated {updated:?}"));
        }
        match wait_for(|| received() >= before + UNITS as u64, EDIT_LIMIT) {
            Some(_) => {
                reach.push(t.elapsed());
                puts.push(r.took);
            }
            None => {
                return Err(format!(
                    "edit {edit}: only {} of {UNITS} units received the new desired config within {} s",
                    received() - before,
                    EDIT_LIMIT.as_secs()
                ));
            }
        }
        // Confirmed: every unit reported the new version applied, as the
        // hub's unit list shows (`pending` false).
        match wait_for(|| pending(api, token) == Some(0), EDIT_LIMIT) {
            Some(_) => confirmed.push(t.elapsed()),
            None => {
                return Err(format!(
                    "edit {edit}: {:?} units still pending after {} s",
                    pending(api, token),
                    EDIT_LIMIT.as_secs()
                ));
            }
        }
    }
    let s = |d: Duration| d.as_secs_f64();
    println!(
        "b2. PUT {path} → all {UNITS} units CONFIRMED the new version (reported it applied; `pending` false for every unit in GET /api/v1/units, polled every {} ms): p50 {:.2} s, max {:.2} s over {EDITS} edits ({})",
        POLL.as_millis(),
        s(percentile(&confirmed, 0.5)),
        s(percentile(&confirmed, 1.0)),
        confirmed
            .iter()
            .map(|d| format!("{:.2}", s(*d)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    println!(
        "b2'. the same edits → all {UNITS} units RECEIVED the new desired config (fleet counter): p50 {:.2} s, max {:.2} s ({}); the PUT alone: p50 {:.0} ms, max {:.0} ms",
        s(percentile(&reach, 0.5)),
        s(percentile(&reach, 1.0)),
        reach
            .iter()
            .map(|d| format!("{:.2}", s(*d)))
            .collect::<Vec<_>>()
            .join(", "),
        s(percentile(&puts, 0.5)) * 1000.0,
        s(percentile(&puts, 1.0)) * 1000.0
    );

    let r = expect_ok(request(api, "GET", "/api/v1/units?limit=10000", token, ""))?;
    let listed = r
        .json()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let pending = listed
        .iter()
        .filter(|u| u.get("pending").and_then(|p| p.as_bool()) == Some(true))
        .count();
    println!(
        "b3. GET /api/v1/units after the edits (took {:.1} ms): {pending} of {} units pending",
        r.took.as_secs_f64() * 1000.0,
        listed.len()
    );
    let stats = fleet.stats();
    println!(
        "(part B fleet: {} desired configs received in all, connections lost {}, last error {:?})",
        stats.configs, stats.disconnects, stats.last_error
    );
    Ok(())
}

/// How many units the hub's list shows pending, if it answers.
fn pending(api: SocketAddr, token: &str) -> Option<usize> {
    let r = request(api, "GET", "/api/v1/units?limit=10000", token, "").ok()?;
    let listed = r.json()?.as_array()?.clone();
    Some(
        listed
            .iter()
            .filter(|u| u.get("pending").and_then(|p| p.as_bool()) != Some(false))
            .count(),
    )
}

/// A schedule armed every night; edit `n` moves the start by `n` minutes.
fn schedule(n: usize) -> ScheduleSpec {
    let window: ArmedWindow = serde_json::from_value(serde_json::json!(format!("22:{n:02}-06:00")))
        .expect("a valid window");
    let mut spec = ScheduleSpec::empty("Europe/Copenhagen");
    spec.set_day(Weekday::Monday, vec![window])
        .copy_day_to_week(Weekday::Monday);
    spec
}

fn expect_ok(response: std::io::Result<Response>) -> Result<Response, String> {
    let r = response.map_err(|e| e.to_string())?;
    if r.status == 200 {
        Ok(r)
    } else {
        Err(format!("status {}: {}", r.status, r.text()))
    }
}

/// Polls `done` every [`POLL`] until it holds (the time waited) or
/// `limit` passes.
fn wait_for(done: impl Fn() -> bool, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    loop {
        if done() {
            return Some(t.elapsed());
        }
        if t.elapsed() > limit {
            return None;
        }
        std::thread::sleep(POLL);
    }
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
