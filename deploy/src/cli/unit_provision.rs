//! `picket-deploy unit provision`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use picket_deploy::agent_file::DEFAULT_SIM_SOCKET;
use picket_deploy::ca::Ca;
use picket_deploy::provision::{Hardware, ProvisionRequest, provision_unit};
use picket_proto::ids::{SiteId, UnitId};

/// Arguments of `unit provision`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory holding the CA (ca.pem and ca.key).
    #[arg(long, value_name = "DIR")]
    ca_dir: PathBuf,
    /// The site the unit is installed at (a UUID; 32 hex digits, hyphens
    /// optional).
    #[arg(long, value_name = "SITE_ID")]
    site: SiteId,
    /// Directory to write unit.pem, unit.key, ca.pem and agent.toml into
    /// (created with mode 0700 if missing). Copy it to the unit.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Reuse this unit id (e.g. to re-issue a unit's certificate) instead of
    /// making a new UUIDv7.
    #[arg(long, value_name = "UNIT_ID")]
    unit: Option<UnitId>,
    /// The hub's MQTT-over-TLS endpoint as HOST:PORT (8883 by convention).
    #[arg(long, value_name = "HOST:PORT")]
    mqtt: String,
    /// The hub's HTTPS base URL, for clip upload and live view.
    #[arg(long, value_name = "URL")]
    https: String,
    /// Hardware backend: `sim` (the picket-sim simulator over a Unix socket)
    /// or `gpio` (real sensors and sirens).
    #[arg(long, value_enum, default_value_t = HardwareArg::Sim)]
    hardware: HardwareArg,
    /// The simulator's Unix socket, relative to agent.toml; only with
    /// `--hardware sim` [default: sim.sock].
    #[arg(long, value_name = "PATH")]
    sim_socket: Option<String>,
    /// Replace an existing identity (unit.pem, unit.key, agent.toml) in the
    /// output directory.
    #[arg(long)]
    force: bool,
}

/// `--hardware`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum HardwareArg {
    Sim,
    Gpio,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let hardware = match (args.hardware, args.sim_socket) {
        (HardwareArg::Sim, socket) => Hardware::Sim {
            socket: socket.unwrap_or_else(|| DEFAULT_SIM_SOCKET.to_owned()),
        },
        (HardwareArg::Gpio, None) => Hardware::Gpio,
        (HardwareArg::Gpio, Some(_)) => bail!("--sim-socket only applies with --hardware sim"),
    };
    let ca = Ca::load(&args.ca_dir)
        .with_context(|| format!("could not load the CA from {}", args.ca_dir.display()))?;
    let request = ProvisionRequest {
        site: args.site,
        unit: args.unit,
        out_dir: args.out,
        mqtt: args.mqtt,
        https: args.https,
        hardware,
        existing: super::existing_files(args.force),
    };
    let provisioned = provision_unit(&ca, &request).context("could not provision the unit")?;
    println!("unit {}", provisioned.unit);
    println!("dir  {}", provisioned.dir.display());
    Ok(())
}
