//! Reading certificates back: subject, validity, names, usages, and whether
//! a certificate was signed by a given CA.

use std::net::IpAddr;
use std::path::Path;

use jiff::Timestamp;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;
use x509_parser::x509::AttributeTypeAndValue;

use crate::Error;
use crate::validity::from_unix_seconds;

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// The subject's first `CN=`, if any.
    pub common_name: Option<String>,
    /// The subject's first `O=`, if any (a unit's id, for unit certificates).
    pub organization: Option<String>,
    /// The issuer's first `CN=`, if any.
    pub issuer_common_name: Option<String>,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// DNS names among the subject alternative names.
    pub dns_names: Vec<String>,
    /// IP addresses among the subject alternative names.
    pub ip_addresses: Vec<IpAddr>,
    /// Extended key usages this certificate carries.
    pub usages: Vec<Usage>,
    /// Whether `basicConstraints` marks it as a CA.
    pub is_ca: bool,
}

/// An extended key usage we issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// `serverAuth`: a TLS server (the hub).
    ServerAuth,
    /// `clientAuth`: a TLS client (a unit).
    ClientAuth,
}

/// How a certificate relates to a CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// Its issuer is the CA's subject and the CA's key verifies its signature.
    SignedByCa,
    /// Its issuer name is not the CA's subject.
    OtherIssuer,
    /// The issuer name matches but the signature does not verify with the
    /// CA's key (a different CA with the same name, or a tampered file).
    BadSignature,
}

impl CertSummary {
    /// Whether the certificate is valid at `at`.
    pub fn is_valid_at(&self, at: Timestamp) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

/// Summarizes the first certificate in the PEM file at `path`.
pub fn summarize_file(path: &Path) -> Result<CertSummary, Error> {
    let pem = read_pem(path)?;
    let cert = parse(&pem, path)?;
    summarize(&cert, path)
}

/// Checks whether the first certificate in `cert_path` was signed by the CA
/// certificate in `ca_path`.
pub fn check_chain(cert_path: &Path, ca_path: &Path) -> Result<Chain, Error> {
    let cert_pem = read_pem(cert_path)?;
    let ca_pem = read_pem(ca_path)?;
    let cert = parse(&cert_pem, cert_path)?;
    let ca = parse(&ca_pem, ca_path)?;
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Ok(Chain::OtherIssuer);
    }
    match cert.verify_signature(Some(ca.public_key())) {
        Ok(()) => Ok(Chain::SignedByCa),
        Err(_) => Ok(Chain::BadSignature),
    }
}

fn read_pem(path: &Path) -> Result<Pem, Error> {
    let text = crate::files::read_file(path)?;
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(text.as_bytes()).map_err(|e| Error::BadCertificate {
            path: path.to_path_buf(),
            reason: format!("not a PEM certificate: {e}"),
        })?;
    Ok(pem)
}

fn parse<'a>(pem: &'a Pem, path: &Path) -> Result<X509Certificate<'a>, Error> {
    pem.parse_x509().map_err(|e| Error::BadCertificate {
        path: path.to_path_buf(),
        reason: format!("not an X.509 certificate: {e}"),
    })
}

fn summarize(cert: &X509Certificate<'_>, path: &Path) -> Result<CertSummary, Error> {
    let bad = |what: &str, e: x509_parser::error::X509Error| Error::BadCertificate {
        path: path.to_path_buf(),
        reason: format!("malformed {what}: {e}"),
    };
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Some(san) = cert
        .subject_alternative_name()
        .map_err(|e| bad("subject alternative names", e))?
    {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => dns_names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ip_addresses.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    let mut usages = Vec::new();
    if let Some(eku) = cert
        .extended_key_usage()
        .map_err(|e| bad("extended key usage", e))?
    {
        if eku.value.server_auth {
            usages.push(Usage::ServerAuth);
        }
        if eku.value.client_auth {
            usages.push(Usage::ClientAuth);
        }
    }
    let validity = cert.validity();
    Ok(CertSummary {
        common_name: first(cert.subject().iter_common_name()),
        organization: first(cert.subject().iter_organization()),
        issuer_common_name: first(cert.issuer().iter_common_name()),
        not_before: from_unix_seconds(validity.not_before.timestamp()),
        not_after: from_unix_seconds(validity.not_after.timestamp()),
        dns_names,
        ip_addresses,
        usages,
        is_ca: cert.is_ca(),
    })
}

/// The first attribute's value as a string (none if absent or not a string).
fn first<'b, 'a: 'b>(
    mut attrs: impl Iterator<Item = &'b AttributeTypeAndValue<'a>>,
) -> Option<String> {
    attrs
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}
