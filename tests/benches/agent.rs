//! What a unit costs and how fast a silent unit is noticed, measured on the
//! real binaries with the shipped default timing:
//! `cargo bench -p picket-tests --bench agent`.
//!
//! Prints: the agent's resident memory (now and peak) after it synced and
//! after a burst of 200 sensor events; its CPU use while idle for 20 s; and
//! the time from freezing a unit (SIGSTOP: the link stays up, nothing more
//! is sent) until the hub shows it offline (defaults: keep-alive 5 s,
//! heartbeat 5 s, offline after 12 s).
//!
//! Units run the `unit` profile (`cargo build --profile unit -p
//! picket-agent`); set `PICKET_AGENT_BINARY=target/unit/picket-agent` to
//! measure that build rather than the release one.

use std::time::{Duration, Instant};

use picket_tests::cluster::{Cluster, wait_for};

fn proc_status(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// utime + stime in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some(after.get(11)?.parse::<u64>().ok()? + after.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "agent binary: {}",
        picket_tests::cluster::binary("picket-agent").display()
    );
    let mut c = Cluster::start_with(1, false);
    c.site_with_schedule(&["00:00-24:00"]);
    c.start_agent(0);
    wait_for("the unit to sync", Duration::from_secs(60), || {
        let u = c.unit_view(0)?;
        (u["online"] == true && u["pending"] == false).then_some(())
    });
    let pid = c.agents[0]
        .as_ref()
        .and_then(|p| p.pid())
        .expect("agent pid");
    println!(
        "agent resident memory after sync: {} KiB (peak {} KiB; anonymous {} KiB, file-backed {} KiB)",
        proc_status(pid, "VmRSS:"),
        proc_status(pid, "VmHWM:"),
        proc_status(pid, "RssAnon:"),
        proc_status(pid, "RssFile:")
    );

    for _ in 0..200 {
        c.trigger(0, "pir");
    }
    wait_for("the outbox to drain", Duration::from_secs(60), || {
        (c.agent_outbox(0) == 0).then_some(())
    });
    println!(
        "agent resident memory after 200 events: {} KiB (peak {} KiB)",
        proc_status(pid, "VmRSS:"),
        proc_status(pid, "VmHWM:")
    );

    let ticks_per_s = 100.0; // USER_HZ on Linux
    let before = cpu_ticks(pid);
    let idle = Duration::from_secs(20);
    std::thread::sleep(idle);
    let used = (cpu_ticks(pid) - before) as f64 / ticks_per_s;
    println!(
        "agent CPU while idle for {}s: {:.2}s ({:.2}% of one core)",
        idle.as_secs(),
        used,
        100.0 * used / idle.as_secs_f64()
    );

    c.agents[0].as_ref().expect("agent").signal("STOP");
    let start = Instant::now();
    wait_for(
        "the hub to see the unit offline",
        Duration::from_secs(60),
        || (c.unit_view(0)?["online"] == false).then_some(()),
    );
    println!(
        "a frozen unit is seen offline after {:.1}s (target <= 15 s)",
        start.elapsed().as_secs_f64()
    );
    c.agents[0].as_ref().expect("agent").signal("CONT");
}
