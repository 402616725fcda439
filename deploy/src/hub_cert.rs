//! The hub's TLS server certificate bundle.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::ca::Ca;
use crate::files::{self, ExistingFiles};
use crate::{Error, IssuedCert};

/// The hub certificate's file name (the leaf only, no chain).
pub const HUB_CERT_FILE: &str = "hub.pem";
/// The hub key's file name (mode 0600).
pub const HUB_KEY_FILE: &str = "hub.key";

/// Where and for which names to issue the hub's certificate.
#[derive(Debug, Clone)]
pub struct HubCertRequest {
    /// The directory to write (created if missing).
    pub out_dir: PathBuf,
    /// DNS names units use to reach the hub.
    pub dns: Vec<String>,
    /// IP addresses units use to reach the hub.
    pub ips: Vec<IpAddr>,
    /// Whether to replace an existing `hub.pem`/`hub.key`.
    pub existing: ExistingFiles,
}

/// Issues the hub's certificate and writes `hub.pem`, `hub.key` (0600) and
/// a copy of `ca.pem` (the hub verifies unit certificates with it) into
/// `out_dir`.
pub fn write_hub_cert(ca: &Ca, request: &HubCertRequest) -> Result<IssuedCert, Error> {
    let dir = &request.out_dir;
    files::check_absent(
        &[&dir.join(HUB_CERT_FILE), &dir.join(HUB_KEY_FILE)],
        request.existing,
    )?;
    let issued = ca.issue_hub_cert(&request.dns, &request.ips)?;
    files::create_dir(dir)?;
    issued.write(dir, "hub", ExistingFiles::Replace)?;
    ca.write_cert(dir)?;
    Ok(issued)
}
