//! `picket-sim camera-control`: drop or restore a simulated camera's stream.

use std::path::PathBuf;

use clap::ArgGroup;
use picket_sim::camera::control::{self, ControlRequest};

/// Drop or restore a camera of a running `picket-sim camera --control PATH`.
///
/// Dropping disconnects the camera's RTSP clients (their stream ends) and
/// refuses new ones (404) until it is restored; restoring serves it again
/// from a fresh pipeline (frame numbers start again at 0). Prints what was
/// done; exits with status 1 and the reason if it was refused (e.g. an
/// unknown camera).
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("action").required(true).args(["drop", "restore"])))]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The control socket, as given to `picket-sim camera --control`.
    #[arg(long, value_name = "PATH")]
    socket: PathBuf,
    /// Cut this camera's stream (a camera loss).
    #[arg(long, value_name = "NAME")]
    drop: Option<String>,
    /// Serve this camera again.
    #[arg(long, value_name = "NAME")]
    restore: Option<String>,
}

const EXAMPLES: &str = "\
Examples:
  picket-sim camera-control --socket /tmp/cams.sock --drop north
  picket-sim camera-control --socket /tmp/cams.sock --restore north";

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (request, done) = match (args.drop, args.restore) {
        (Some(name), _) => (ControlRequest::Drop(name), "dropped"),
        (None, Some(name)) => (ControlRequest::Restore(name), "restored"),
        (None, None) => anyhow::bail!("give --drop NAME or --restore NAME"),
    };
    control::request(&args.socket, &request).await?;
    let (ControlRequest::Drop(name) | ControlRequest::Restore(name)) = &request;
    println!("{done} {name}");
    Ok(())
}
