//! The Picket certificate authority: create it, load it, issue certificates.
//!
//! One self-signed CA (ECDSA P-256, 10 years) signs the hub's TLS server
//! certificate and every unit's client certificate. The broker trusts exactly
//! this CA for client certificates, and takes a unit's tenant from its
//! certificate's subject `O=`; so issuing a certificate is granting access to
//! that tenant's topics.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use picket_proto::ids::UnitId;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};

use crate::files::{self, ExistingFiles, KEY_MODE, PUBLIC_MODE};
use crate::validity::set_validity;
use crate::{Error, IssuedCert};

/// The CA certificate's file name, in the CA directory and in every bundle.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA key's file name (mode 0600), only in the CA directory.
pub const CA_KEY_FILE: &str = "ca.key";
/// The CA certificate's validity: 10 years.
pub const CA_VALIDITY_DAYS: i64 = 3653;
/// The hub certificate's validity: 5 years (re-issue with `hub cert --force`).
pub const HUB_VALIDITY_DAYS: i64 = 1826;
/// A unit certificate's validity: 5 years.
pub const UNIT_VALIDITY_DAYS: i64 = 1826;

/// A loaded or freshly generated CA: its certificate and signing key.
#[derive(Debug)]
pub struct Ca {
    cert_pem: String,
    cert_der: Vec<u8>,
    /// Subject, key identifier method and key; its `Debug` elides the key.
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// Generates a new CA in memory (nothing is written): subject
    /// `CN=<name>`, `basicConstraints` CA with path length 0, key usage
    /// certificate and CRL signing, valid for 10 years.
    pub fn generate(name: &str) -> Result<Ca, Error> {
        if name.trim().is_empty() {
            return Err(Error::InvalidValue {
                what: "CA name",
                value: name.to_owned(),
                reason: "must not be empty".to_owned(),
            });
        }
        let key = new_key("the CA key")?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, name.to_owned());
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        set_validity(&mut params, CA_VALIDITY_DAYS);
        let cert = params.self_signed(&key).map_err(|source| Error::Generate {
            what: "the CA certificate",
            source,
        })?;
        Ok(Ca {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Generates a CA and writes `dir/ca.pem` (0644) and `dir/ca.key`
    /// (0600), creating `dir` (0700) if needed. With
    /// [`ExistingFiles::Refuse`], fails if either file exists.
    pub fn init(dir: &Path, name: &str, existing: ExistingFiles) -> Result<Ca, Error> {
        let (cert_path, key_path) = paths(dir);
        files::check_absent(&[&cert_path, &key_path], existing)?;
        let ca = Ca::generate(name)?;
        files::create_dir(dir)?;
        files::write_file(&key_path, &ca.issuer.key().serialize_pem(), KEY_MODE)?;
        files::write_file(&cert_path, &ca.cert_pem, PUBLIC_MODE)?;
        Ok(ca)
    }

    /// Loads the CA from `dir/ca.pem` and `dir/ca.key`, checking that the
    /// certificate is a CA and that the key is its key.
    pub fn load(dir: &Path) -> Result<Ca, Error> {
        let (cert_path, key_path) = paths(dir);
        let cert_pem = files::read_file(&cert_path)?;
        let key_pem = files::read_file(&key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|source| Error::BadKey {
            path: key_path.clone(),
            source,
        })?;
        let bad_cert = |reason: String| Error::BadCertificate {
            path: cert_path.clone(),
            reason,
        };
        let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
            .map_err(|e| bad_cert(format!("not a PEM certificate: {e}")))?;
        let cert = pem
            .parse_x509()
            .map_err(|e| bad_cert(format!("not an X.509 certificate: {e}")))?;
        if !cert.is_ca() {
            return Err(bad_cert(
                "not a CA certificate (basicConstraints CA is not set)".into(),
            ));
        }
        if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(Error::KeyMismatch {
                cert: cert_path,
                key: key_path,
            });
        }
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)
            .map_err(|e| bad_cert(format!("cannot sign with this CA: {e}")))?;
        Ok(Ca {
            cert_der: pem.contents.clone(),
            cert_pem,
            issuer,
        })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Writes a copy of the CA certificate to `dir/ca.pem` (0644), as every
    /// bundle needs it to verify its peer.
    pub fn write_cert(&self, dir: &Path) -> Result<PathBuf, Error> {
        let path = dir.join(CA_CERT_FILE);
        files::write_file(&path, &self.cert_pem, PUBLIC_MODE)?;
        Ok(path)
    }

    /// Issues the hub's TLS server certificate: `serverAuth`, subject
    /// `CN=<first name>`, with every DNS name and IP address as a SAN. At
    /// least one name or address is required.
    pub fn issue_hub_cert(&self, dns: &[String], ips: &[IpAddr]) -> Result<IssuedCert, Error> {
        let mut sans = Vec::with_capacity(dns.len() + ips.len());
        for name in dns {
            sans.push(SanType::DnsName(dns_name(name)?));
        }
        sans.extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
        let common_name = dns
            .first()
            .cloned()
            .or_else(|| ips.first().map(IpAddr::to_string))
            .ok_or_else(|| Error::InvalidValue {
                what: "hub certificate names",
                value: String::new(),
                reason: "give at least one DNS name or IP address".to_owned(),
            })?;
        let mut params = leaf_params(&common_name, None, ExtendedKeyUsagePurpose::ServerAuth);
        params.subject_alt_names = sans;
        set_validity(&mut params, HUB_VALIDITY_DAYS);
        self.issue(&params, "the hub certificate")
    }

    /// Issues a unit's MQTT client certificate: `clientAuth`, subject
    /// `CN=<unit>, O=<unit>` with the unit id as 32 lowercase hex digits. The
    /// broker takes `O=` as the unit's tenant.
    pub fn issue_unit_cert(&self, unit: UnitId) -> Result<IssuedCert, Error> {
        let id = unit.to_string();
        let mut params = leaf_params(&id, Some(&id), ExtendedKeyUsagePurpose::ClientAuth);
        set_validity(&mut params, UNIT_VALIDITY_DAYS);
        self.issue(&params, "the unit certificate")
    }

    /// **For tests.** Issues a `clientAuth` certificate with an arbitrary
    /// subject `CN=<cn>` and, if `o` is given, `O=<o>` (5 years), so tests can
    /// show that the broker refuses a tenant that is not a unit id, another
    /// unit's topics, or a certificate without `O=`. Never hand one to a unit.
    pub fn issue_client_cert_with_subject(
        &self,
        cn: &str,
        o: Option<&str>,
    ) -> Result<IssuedCert, Error> {
        let mut params = leaf_params(cn, o, ExtendedKeyUsagePurpose::ClientAuth);
        set_validity(&mut params, UNIT_VALIDITY_DAYS);
        self.issue(&params, "the test client certificate")
    }

    fn issue(&self, params: &CertificateParams, what: &'static str) -> Result<IssuedCert, Error> {
        let key = new_key(what)?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|source| Error::Generate { what, source })?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        })
    }
}

/// `dir/ca.pem` and `dir/ca.key`.
fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE))
}

fn new_key(what: &'static str) -> Result<KeyPair, Error> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|source| Error::Generate { what, source })
}

/// Parameters shared by every end-entity certificate: not a CA, digital
/// signature only (ECDSA), one extended key usage, the issuer's key id.
fn leaf_params(cn: &str, o: Option<&str>, usage: ExtendedKeyUsagePurpose) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, cn.to_owned());
    if let Some(o) = o {
        params
            .distinguished_name
            .push(DnType::OrganizationName, o.to_owned());
    }
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    params
}

/// A DNS name for a SAN: letters, digits, hyphens and dots in non-empty
/// labels, optionally one leading `*.` wildcard label.
fn dns_name(name: &str) -> Result<rcgen::string::Ia5String, Error> {
    let invalid = |reason: &str| Error::InvalidValue {
        what: "DNS name",
        value: name.to_owned(),
        reason: reason.to_owned(),
    };
    let host = name.strip_prefix("*.").unwrap_or(name);
    if host.is_empty() || name.len() > 253 {
        return Err(invalid("must be 1 to 253 characters"));
    }
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !labels_ok {
        return Err(invalid(
            "labels must be 1 to 63 letters, digits or hyphens, separated by dots",
        ));
    }
    rcgen::string::Ia5String::try_from(name).map_err(|e| invalid(&e.to_string()))
}
