//! `picket-sim trigger`: fire one sensor on a unit (or restore it).

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use picket_proto::ids::UnitId;
use picket_sim::control;
use picket_sim::sensor_name::{SensorName, describe};

/// Fire one sensor (or a mains power change) on a unit, or with --restore
/// close a tamper input again.
///
/// Sends it through a running `picket-sim sensors`. Prints what was delivered; exits with status 1 and
/// the reason if it was not (e.g. the unit's agent is not connected).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The simulator's socket, as given to `picket-sim sensors --socket`.
    #[arg(long, value_name = "PATH", env = "PICKET_SIM_SOCKET")]
    socket: PathBuf,
    /// The unit whose sensor fires: its id, 32 hex digits.
    #[arg(long, value_name = "UNIT_ID")]
    unit: UnitId,
    /// Which input: pir (motion), door, tamper, panic, video (video
    /// analytics) send a trigger; power sends "mains lost". See --restore
    /// for tamper and power.
    #[arg(long, value_name = "SENSOR", value_parser = sensor_names())]
    sensor: SensorName,
    /// The sensor's id on the unit. Default: the name with "-1" (pir-1,
    /// door-1, tamper-1, panic-1, video-1). Not for power.
    #[arg(long, value_name = "SENSOR_ID")]
    id: Option<String>,
    /// Only with --sensor power or --sensor tamper: send "mains restored"
    /// instead of "mains lost", or "tamper restored" (the tamper input with
    /// this --id is closed again) instead of a tamper trigger. Refused for
    /// other sensors.
    #[arg(long)]
    restore: bool,
}

const EXAMPLES: &str = "\
Examples (with --socket PATH or PICKET_SIM_SOCKET set):
  picket-sim trigger --unit <UNIT_ID> --sensor pir                          # motion on pir-1
  picket-sim trigger --unit <UNIT_ID> --sensor tamper --id lid              # opened: tamper
  picket-sim trigger --unit <UNIT_ID> --sensor tamper --id lid --restore    # closed again: tamper_restored
  picket-sim trigger --unit <UNIT_ID> --sensor power --restore              # mains restored";

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
