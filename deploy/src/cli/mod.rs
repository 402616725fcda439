//! Argument parsing and dispatch; one file per subcommand.

use clap::{Parser, Subcommand};

mod ca_init;
mod hub_cert;
mod unit_provision;
mod unit_show;

/// Picket's operator tooling: the certificate authority, the hub's TLS
/// certificate and unit identities.
///
/// Typical order: `ca init` once, `hub cert` for each hub, then
/// `unit provision` for every unit. Keep the CA directory (it holds
/// `ca.key`) on the operator's machine only.
#[derive(Debug, Parser)]
#[command(name = "picket-deploy", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The certificate authority that signs the hub's and the units'
    /// certificates.
    #[command(subcommand)]
    Ca(CaCommand),
    /// The hub's TLS server certificate.
    #[command(subcommand)]
    Hub(HubCommand),
    /// Unit identities: certificate, key and agent.toml.
    #[command(subcommand)]
    Unit(UnitCommand),
}

#[derive(Debug, Subcommand)]
enum CaCommand {
    /// Create a new CA: DIR/ca.pem and DIR/ca.key (mode 0600).
    Init(ca_init::Args),
}

#[derive(Debug, Subcommand)]
enum HubCommand {
    /// Issue the hub's TLS server certificate: OUT/hub.pem, OUT/hub.key
    /// (mode 0600) and a copy of OUT/ca.pem.
    Cert(hub_cert::Args),
}

#[derive(Debug, Subcommand)]
enum UnitCommand {
    /// Create a unit identity and its configuration directory.
    Provision(unit_provision::Args),
    /// Show a provisioned unit's id, certificate validity and whether it
    /// chains to the CA.
    Show(unit_show::Args),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Ca(CaCommand::Init(args)) => ca_init::run(args),
            Command::Hub(HubCommand::Cert(args)) => hub_cert::run(args),
            Command::Unit(UnitCommand::Provision(args)) => unit_provision::run(args),
            Command::Unit(UnitCommand::Show(args)) => unit_show::run(args),
        }
    }
}

/// `--force` as the library's choice.
fn existing_files(force: bool) -> picket_deploy::ExistingFiles {
    if force {
        picket_deploy::ExistingFiles::Replace
    } else {
        picket_deploy::ExistingFiles::Refuse
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
