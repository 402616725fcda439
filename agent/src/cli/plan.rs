//! `picket-agent plan`: print the arming timeline a unit will enforce.

use std::path::PathBuf;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use picket_agent::arming_file;
use picket_agent::plan::timeline;
use picket_proto::arming::{ArmState, ArmingInputs};

/// Print every change of arm state a unit will make over a period, with the
/// reason, in the site's local time (the same engine the unit and the hub run).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arming file (TOML: schedule, level, disarm, relocation). Without it,
    /// the built-in demo site is used.
    #[arg(long, value_name = "FILE")]
    arming: Option<PathBuf>,
    /// Start of the period, RFC 3339 (e.g. 2026-03-26T12:00:00Z). Default: now.
    #[arg(long, value_name = "INSTANT")]
    from: Option<Timestamp>,
    /// Length of the period in days (1–366).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..=366))]
    days: u16,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (source, text) = match &args.arming {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .with_context(|| format!("reading arming file {}", path.display()))?,
        ),
        None => (
            "built-in demo site".to_owned(),
            arming_file::DEMO.to_owned(),
        ),
    };
    let settings = arming_file::parse(&text).with_context(|| format!("in {source}"))?;
    let from = args.from.unwrap_or_else(Timestamp::now);
    let to = from + SignedDuration::from_hours(24 * i64::from(args.days));
    let inputs = ArmingInputs {
        schedule: &settings.schedule,
        level: &settings.level,
        disarm: settings.disarm.as_ref(),
        relocation: settings.relocation,
    };
    let zone = settings.schedule.time_zone().clone();
    println!(
        "Arming plan for {source} ({}), {} days from {}:",
        settings.schedule.spec().time_zone,
        args.days,
        from.to_zoned(zone.clone()).strftime("%a %Y-%m-%d %H:%M %Z")
    );
    for entry in timeline(&inputs, from, to) {
        let state = match entry.state {
            ArmState::Armed => "ARMED   ",
            ArmState::Disarmed => "disarmed",
            ArmState::Paused => "paused  ",
            _ => "?       ",
        };
        println!(
            "  {}  {state}  {}",
            entry
                .from
                .to_zoned(zone.clone())
                .strftime("%a %Y-%m-%d %H:%M %Z"),
            entry.reason
        );
    }
    Ok(())
}
