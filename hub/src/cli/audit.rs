//! `picket-hub audit verify`: check the audit log's hash chain.

use std::path::PathBuf;

use anyhow::Context;
use picket_hub::config::HubConfig;
use picket_hub::store::{AuditCheck, Store};

/// Work with the audit log.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Walk the whole audit log from its first entry and report the first
    /// entry that was edited, removed or replaced. Prints the head hash when
    /// intact: keep it somewhere else, so that a later run can also detect a
    /// rewrite of the whole chain. Exits with status 1 when broken.
    Verify {
        /// Hub configuration file (its `data_dir` holds the database).
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
        /// Expected head hash from an earlier run (hex); a different head
        /// with as many or more entries means the chain was rewritten.
        #[arg(long, value_name = "HEX")]
        expect_head: Option<String>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.action {
        Action::Verify {
            config,
            expect_head,
        } => {
            let config = HubConfig::load(&config)?;
            let path = config.data_dir.join("hub.db");
            let store =
                Store::open(&path).with_context(|| format!("opening {}", path.display()))?;
            match store.verify_audit()? {
                AuditCheck::Intact { entries, head } => {
                    if let Some(expected) = expect_head
                        && !store.audit_has_hash(&expected)?
                    {
                        println!(
                            "audit log REWRITTEN: {entries} entries verify among themselves, but none has the expected head {expected}"
                        );
                        std::process::exit(1);
                    }
                    println!("audit log intact: {entries} entries, head {head}");
                    Ok(())
                }
                AuditCheck::Broken { seq, reason } => {
                    println!("audit log BROKEN at entry {seq}: {reason}");
                    std::process::exit(1);
                }
            }
        }
    }
}
