//! `picket-sim fleet`: many simulated units against a hub, with figures.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use picket_sim::fleet::{Fleet, FleetConfig, FleetStats, alarm, load_bundles};

/// Connect many provisioned units to a hub and send alarm events.
///
/// Each unit speaks the agent's MQTT protocol (mutual TLS, persistent
/// session, `offline` last will, heartbeats, events with end-to-end acks and
/// resends) but keeps its outbox in memory. Every --report-every-s seconds
/// and at the end it prints one line: units connected, events
/// sent/acknowledged/outstanding/resent, and the round-trip latency (event
/// sent → hub's event_ack) of the interval and since the start. When every
/// unit has connected it prints `all N units connected after X s` once.
/// Exits with status 1 if events are still unacknowledged at the end.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of unit bundles as written by `picket-deploy unit
    /// provision`: DIR/<any name>/agent.toml with ca.pem, unit.pem and
    /// unit.key beside it. Only `unit`, `[hub] mqtt` and `[tls]` are read.
    #[arg(long, value_name = "DIR")]
    bundles: PathBuf,
    /// Use only the first N bundles (sorted by directory name). Default: all.
    #[arg(long, value_name = "N")]
    count: Option<usize>,
    /// Alarm events per second over the whole fleet, spread round-robin over
    /// the units (e.g. 0.5, 100). 0 sends none (connections and heartbeats
    /// only).
    #[arg(long, value_name = "EVENTS_PER_S", default_value_t = 1.0)]
    rate: f64,
    /// How long to send events, in seconds, after the first unit connects;
    /// 0 runs until Ctrl-C.
    #[arg(long, value_name = "S", default_value_t = 60)]
    duration: u64,
    /// The hub's MQTT endpoint, host:port. Default: `[hub] mqtt` of the
    /// bundles (which must then all agree).
    #[arg(long, value_name = "HOST:PORT")]
    hub: Option<String>,
    /// Heartbeat interval of every unit, in seconds (the agent's default is
    /// 5).
    #[arg(long, value_name = "S", default_value_t = 5)]
    heartbeat_s: u64,
    /// Spread the units' first connections over this many seconds (default:
    /// 1 ms per unit).
    #[arg(long, value_name = "S")]
    connect_spread_s: Option<f64>,
    /// Resend an event not acknowledged after this many seconds (the agent's
    /// default is 10).
    #[arg(long, value_name = "S", default_value_t = 10)]
    resend_after_s: u64,
    /// Events sent and not yet acknowledged, per unit (the agent's default
    /// is 64); more wait in the unit's outbox.
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_in_flight: usize,
    /// Leave Nagle's algorithm on (no TCP_NODELAY) on the units' sockets;
    /// the agent sets TCP_NODELAY, and so does the fleet by default.
    #[arg(long)]
    nagle: bool,
    /// Print a progress line this often, in seconds.
    #[arg(long, value_name = "S", default_value_t = 5)]
    report_every_s: u64,
    /// At the end, wait at most this many seconds for outstanding acks
    /// before the final line.
    #[arg(long, value_name = "S", default_value_t = 30)]
    drain_s: u64,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if !(args.rate.is_finite() && args.rate >= 0.0) {
        bail!("--rate must be a number of events per second, 0 or more");
    }
    let bundles = load_bundles(&args.bundles, args.count)
        .with_context(|| format!("reading unit bundles in {}", args.bundles.display()))?;
    if bundles.is_empty() {
        bail!(
            "no unit bundles (*/agent.toml) in {}",
            args.bundles.display()
        );
    }
    let hub = match &args.hub {
        Some(hub) => hub.clone(),
        None => {
            let first = bundles[0].hub.clone();
            if let Some(other) = bundles.iter().find(|b| b.hub != first) {
                bail!(
                    "the bundles name different hubs ({first} in {}, {} in {}); choose one with --hub",
                    bundles[0].dir.display(),
                    other.hub,
                    other.dir.display()
                );
            }
            first
        }
    };
    let n = bundles.len();
    let mut config = FleetConfig::new(hub.clone(), bundles.into_iter().map(|b| b.unit).collect());
    config.heartbeat = Duration::from_secs(args.heartbeat_s.max(1));
    if let Some(spread) = args.connect_spread_s {
        config.connect_spread = Duration::try_from_secs_f64(spread.max(0.0))
            .context("--connect-spread-s is out of range")?;
    }
    config.resend_after = Duration::from_secs(args.resend_after_s.max(1));
    config.max_in_flight = args.max_in_flight.max(1);
    config.tcp_nodelay = !args.nagle;
    println!(
        "fleet: {n} units → {hub}; {} events/s for {}; heartbeat {} s",
        args.rate,
        if args.duration == 0 {
            "until Ctrl-C".to_owned()
        } else {
            format!("{} s", args.duration)
        },
        args.heartbeat_s
    );
    let fleet = Fleet::start(config)?;
    let started = Instant::now();
    let report_every = Duration::from_secs(args.report_every_s.max(1));

    // Wait for the first connection before the clock for --duration starts.
    while !fleet.wait_connected(1, report_every).await {
        report(&fleet, started, "connecting: ");
    }
    let sending_from = Instant::now();
    let until = (args.duration > 0).then(|| sending_from + Duration::from_secs(args.duration));
    let mut all_connected_said = false;
    let mut next_report = Instant::now() + report_every;
    let mut sent = 0u64;
    let mut next_unit = 0usize;
    let tick = Duration::from_millis(10);
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let now = Instant::now();
        if until.is_some_and(|u| now >= u) {
            break;
        }
        if !all_connected_said && fleet.connected() == n {
            all_connected_said = true;
            println!(
                "all {n} units connected after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let due = (args.rate * now.duration_since(sending_from).as_secs_f64()) as u64;
        while sent < due {
            fleet.send_event(next_unit, alarm())?;
            next_unit = (next_unit + 1) % n;
            sent += 1;
        }
        if now >= next_report {
            report(&fleet, started, "");
            next_report += report_every;
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = &mut ctrl_c => {
                println!("interrupted");
                break;
            }
        }
    }
    if fleet.outstanding() > 0 {
        println!(
            "waiting up to {} s for {} outstanding acks",
            args.drain_s,
            fleet.outstanding()
        );
        fleet
            .wait_all_acked(Duration::from_secs(args.drain_s))
            .await;
    }
    let stats = fleet.stats();
    println!("final: {}", line(&stats));
    match fleet.latency() {
        Some(l) => println!("final latency (event sent → ack): {l}"),
        None => println!("final latency: no events acknowledged"),
    }
    if let Some(error) = &stats.last_error {
        println!("last error: {error}");
    }
    fleet.shutdown(Duration::from_secs(5)).await;
    if stats.outstanding > 0 {
        bail!("{} events were not acknowledged", stats.outstanding);
    }
    Ok(())
}

fn report(fleet: &Fleet, started: Instant, note: &str) {
    let interval = fleet.take_interval_latency();
    let latency = match (interval.summary(), fleet.latency()) {
        (Some(i), Some(t)) => format!(" | last interval: {i} | since start: {t}"),
        (None, Some(t)) => format!(" | since start: {t}"),
        _ => String::new(),
    };
    println!(
        "t={:.0}s {note}{}{latency}",
        started.elapsed().as_secs_f64(),
        line(&fleet.stats())
    );
}

fn line(s: &FleetStats) -> String {
    format!(
        "connected {}/{} (connections lost {}, failed attempts {}); events sent {} acked {} outstanding {} resent {}",
        s.connected,
        s.units,
        s.disconnects,
        s.connect_failures,
        s.events,
        s.acked,
        s.outstanding,
        s.resent
    )
}
