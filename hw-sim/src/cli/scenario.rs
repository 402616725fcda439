//! `picket-sim scenario`: play a scripted scenario of timed triggers.

use std::path::PathBuf;

use anyhow::{Context, bail};
use picket_sim::scenario::{Player, Scenario, TokioClock, play};
use picket_sim::sensor_name::describe;

/// Play a scenario file of timed triggers.
///
/// Sends them through a running `picket-sim sensors`, printing each step as
/// it is sent. A step that is not delivered
/// is reported and the run goes on; the exit status is 1 if any failed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The simulator's socket, as given to `picket-sim sensors --socket`.
    #[arg(long, value_name = "PATH", env = "PICKET_SIM_SOCKET")]
    socket: PathBuf,
    /// The scenario (TOML): [[step]] tables with `after_s` (seconds after the
    /// previous step), `unit`, `sensor` (pir, door, tamper, power, panic,
    /// video) and optional `id` (not for power) and `restore` (power: mains
    /// restored; tamper: tamper restored). See hw-sim/scenarios/demo.toml.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// Play the whole scenario this many times in a row.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Time factor: 2 plays twice as fast, 0.5 half as fast (0.001 to 1000).
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    speed: f64,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let file = args.file.display();
    let text =
        std::fs::read_to_string(&args.file).with_context(|| format!("reading scenario {file}"))?;
    let scenario = Scenario::parse(&text).with_context(|| format!("in scenario {file}"))?;
    let player = Player::new(scenario, args.speed, args.repeat)?;
    println!(
        "playing {file}: {} round(s) at speed {}, about {:.1} s",
        args.repeat,
        args.speed,
        player.total_duration().as_secs_f64()
    );
    let summary = play(player, &args.socket, &mut TokioClock, |step, result| {
        let what = describe(&step.message);
        let outcome = match result {
            Ok(()) => "delivered".to_owned(),
            Err(e) => format!("NOT delivered: {}", with_causes(e)),
        };
        println!(
            "round {}/{} step {}/{} (+{:.1} s): {what}: {outcome}",
            step.round,
            step.rounds,
            step.step,
            step.steps,
            step.delay.as_secs_f64()
        );
    })
    .await;
    println!(
        "done: {} delivered, {} not delivered",
        summary.delivered, summary.failed
    );
    if summary.failed > 0 {
        bail!("{} step(s) were not delivered", summary.failed);
    }
    Ok(())
}

/// `error: cause: cause`, on one line for the step's report.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
