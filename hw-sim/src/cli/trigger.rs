//! `picket-sim trigger`: fire one sensor on a unit.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use picket_proto::ids::UnitId;
use picket_sim::control;
use picket_sim::sensor_name::{SensorName, describe};

/// Fire one sensor (or a mains power change) on a unit.
///
/// Sends it through a running `picket-sim sensors`. Prints what was delivered; exits with status 1 and
/// the reason if it was not (e.g. the unit's agent is not connected).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The simulator's socket, as given to `picket-sim sensors --socket`.
    #[arg(long, value_name = "PATH", env = "PICKET_SIM_SOCKET")]
    socket: PathBuf,
    /// The unit whose sensor fires: its id, 32 hex digits.
    #[arg(long, value_name = "UNIT_ID")]
    unit: UnitId,
    /// Which input: pir (motion), door, tamper, panic, video (video
    /// analytics) send a trigger; power sends "mains lost" (see --restore).
    #[arg(long, value_name = "SENSOR", value_parser = sensor_names())]
    sensor: SensorName,
    /// The sensor's id on the unit. Default: the name with "-1" (pir-1,
    /// door-1, tamper-1, panic-1, video-1). Not for power.
    #[arg(long, value_name = "SENSOR_ID")]
    id: Option<String>,
    /// Only with --sensor power: send "mains restored" instead of "mains
    /// lost".
    #[arg(long)]
    restore: bool,
}

/// Accepts exactly the names in [`SensorName::ALL`], listed in `--help`.
fn sensor_names() -> impl TypedValueParser<Value = SensorName> {
    PossibleValuesParser::new(SensorName::ALL.map(SensorName::as_str))
        .try_map(|name| name.parse::<SensorName>())
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let message = args
        .sensor
        .message(args.unit, args.id.as_deref(), args.restore)?;
    let what = describe(&message);
    control::trigger(&args.socket, message).await?;
    println!("delivered: {what}");
    Ok(())
}
