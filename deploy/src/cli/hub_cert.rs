//! `picket-deploy hub cert`.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use picket_deploy::ca::Ca;
use picket_deploy::hub_cert::{HUB_CERT_FILE, HUB_KEY_FILE, HubCertRequest, write_hub_cert};

/// Arguments of `hub cert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory holding the CA (ca.pem and ca.key).
    #[arg(long, value_name = "DIR")]
    ca_dir: PathBuf,
    /// Directory to write hub.pem, hub.key and ca.pem into (created if
    /// missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// DNS name units use to reach the hub; repeat or list several
    /// (`--dns a.example --dns b.example`). Becomes a subject alternative
    /// name; the first is also the CN.
    #[arg(long, value_name = "NAME", num_args = 1.., default_value = "localhost")]
    dns: Vec<String>,
    /// IP address units use to reach the hub; repeat or list several.
    /// Becomes a subject alternative name.
    #[arg(long, value_name = "IP", num_args = 1.., default_value = "127.0.0.1")]
    ip: Vec<IpAddr>,
    /// Replace an existing hub.pem/hub.key in the output directory.
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let ca = Ca::load(&args.ca_dir)
        .with_context(|| format!("could not load the CA from {}", args.ca_dir.display()))?;
    let request = HubCertRequest {
        out_dir: args.out.clone(),
        dns: args.dns.clone(),
        ips: args.ip.clone(),
        existing: super::existing_files(args.force),
    };
    write_hub_cert(&ca, &request).context("could not issue the hub certificate")?;
    let ips: Vec<String> = args.ip.iter().map(IpAddr::to_string).collect();
    println!(
        "issued the hub certificate for DNS {} and IP {}: {} and {}",
        args.dns.join(", "),
        ips.join(", "),
        args.out.join(HUB_CERT_FILE).display(),
        args.out.join(HUB_KEY_FILE).display(),
    );
    Ok(())
}
