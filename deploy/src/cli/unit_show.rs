//! `picket-deploy unit show`.

use std::path::PathBuf;

use anyhow::Context;
use jiff::Timestamp;
use picket_deploy::inspect::Chain;
use picket_deploy::unit_show::{AgentFileCheck, show_unit};

/// Arguments of `unit show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A provisioned unit's directory (with unit.pem, ca.pem and
    /// agent.toml).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let report = show_unit(&args.dir)
        .with_context(|| format!("could not read the unit in {}", args.dir.display()))?;
    let now = Timestamp::now();
    let validity = if report.cert.is_valid_at(now) {
        "valid now"
    } else if now < report.cert.not_before {
        "NOT YET VALID"
    } else {
        "EXPIRED"
    };
    let chain = match report.chain {
        Chain::SignedByCa => "ca.pem (signature verified)",
        Chain::OtherIssuer => "NO: issued by another CA than ca.pem",
        Chain::BadSignature => "NO: the signature does not verify with ca.pem's key",
    };
    let agent = match &report.agent_file {
        AgentFileCheck::SameUnit => "names this unit".to_owned(),
        AgentFileCheck::OtherUnit(other) => format!("names ANOTHER unit ({other})"),
        AgentFileCheck::Missing => "missing".to_owned(),
        AgentFileCheck::Invalid(reason) => format!("INVALID: {reason}"),
    };
    println!("unit        {}", report.unit);
    println!(
        "issuer      {}",
        report
            .cert
            .issuer_common_name
            .as_deref()
            .unwrap_or("(no CN)")
    );
    println!("not before  {}", report.cert.not_before);
    println!("not after   {} ({validity})", report.cert.not_after);
    println!("chains to   {chain}");
    println!("agent.toml  {agent}");
    Ok(())
}
