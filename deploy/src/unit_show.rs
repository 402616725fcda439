//! What a unit's directory says about its identity (`unit show`).

use std::path::{Path, PathBuf};

use picket_proto::ids::UnitId;

use crate::Error;
use crate::agent_file::AGENT_FILE;
use crate::ca::CA_CERT_FILE;
use crate::inspect::{self, CertSummary, Chain};
use crate::provision::{UNIT_CERT_FILE, read_agent_file};

/// A unit's identity as read back from its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitReport {
    /// The unit id, from the certificate's `O=`.
    pub unit: UnitId,
    /// The certificate's details.
    pub cert: CertSummary,
    /// Whether `unit.pem` was signed by the `ca.pem` beside it.
    pub chain: Chain,
    /// Whether `agent.toml` names the same unit.
    pub agent_file: AgentFileCheck,
}

/// How `agent.toml` relates to the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentFileCheck {
    /// It names the certificate's unit.
    SameUnit,
    /// It names another unit: the agent would be refused by the broker.
    OtherUnit(UnitId),
    /// There is no `agent.toml`.
    Missing,
    /// It exists but does not parse.
    Invalid(String),
}

/// Reads `dir/unit.pem`, checks it against `dir/ca.pem` and `dir/agent.toml`.
pub fn show_unit(dir: &Path) -> Result<UnitReport, Error> {
    let cert_path = dir.join(UNIT_CERT_FILE);
    let cert = inspect::summarize_file(&cert_path)?;
    let unit = unit_from_organization(cert.organization.as_deref(), &cert_path)?;
    let chain = inspect::check_chain(&cert_path, &dir.join(CA_CERT_FILE))?;
    let agent_file = if dir.join(AGENT_FILE).exists() {
        match read_agent_file(dir) {
            Ok(file) if file.unit == unit => AgentFileCheck::SameUnit,
            Ok(file) => AgentFileCheck::OtherUnit(file.unit),
            Err(e) => AgentFileCheck::Invalid(with_causes(&e)),
        }
    } else {
        AgentFileCheck::Missing
    };
    Ok(UnitReport {
        unit,
        cert,
        chain,
        agent_file,
    })
}

/// The unit id in a certificate's `O=`: exactly 32 lowercase hex digits, the
/// form the broker's tenant prefix and our topics use.
fn unit_from_organization(o: Option<&str>, path: &Path) -> Result<UnitId, Error> {
    let bad = |reason: String| Error::BadCertificate {
        path: PathBuf::from(path),
        reason,
    };
    let o = o.ok_or_else(|| bad("the subject has no O= (unit id)".to_owned()))?;
    let unit: UnitId = o.parse().map_err(|source| Error::BadId {
        path: path.to_path_buf(),
        source,
    })?;
    if unit.to_string() != o {
        return Err(bad(format!(
            "subject O={o:?} is not a unit id in its canonical form (32 lowercase hex digits)"
        )));
    }
    Ok(unit)
}

/// An error and its causes on one line.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
