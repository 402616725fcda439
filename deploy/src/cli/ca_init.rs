//! `picket-deploy ca init`.

use std::path::PathBuf;

use anyhow::Context;
use picket_deploy::ca::Ca;

/// Arguments of `ca init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write ca.pem and ca.key into (created with mode 0700 if
    /// missing).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The CA certificate's common name (CN=).
    #[arg(long, value_name = "NAME", default_value = "Picket CA")]
    name: String,
    /// Replace an existing CA in DIR. Every certificate it issued stops
    /// being trusted once the hub uses the new one.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    Ca::init(&args.dir, &args.name, super::existing_files(args.force))
        .with_context(|| format!("could not create a CA in {}", args.dir.display()))?;
    println!(
        "created CA {:?}: {} and {} (keep ca.key secret)",
        args.name,
        args.dir.join(picket_deploy::ca::CA_CERT_FILE).display(),
        args.dir.join(picket_deploy::ca::CA_KEY_FILE).display(),
    );
    Ok(())
}
