//! What the access decisions consult, read from the store in one go:
//! organisation kinds, site ownership and parents, which dealers serve which
//! customers, and each customer's sharing settings.
//!
//! A snapshot is small (a few hundred bytes per site and organisation) and
//! is rebuilt after any change to those tables, so a permission check never
//! touches SQLite.

use std::collections::{HashMap, HashSet};

use picket_access::{Directory, OrgKind, Sharing, SiteEntry};
use picket_proto::ids::{OrgId, SiteId};

use super::audit::one_row;
use super::{Store, StoreError, from_json, uuid_from};

/// An in-memory copy of the directory.
#[derive(Debug, Clone, Default)]
pub struct DirectorySnapshot {
    orgs: HashMap<OrgId, (OrgKind, Sharing)>,
    sites: HashMap<SiteId, SiteEntry>,
    dealers: HashSet<(OrgId, OrgId)>,
}

impl Directory for DirectorySnapshot {
    fn org_kind(&self, org: OrgId) -> Option<OrgKind> {
        self.orgs.get(&org).map(|(kind, _)| *kind)
    }

    fn site(&self, site: SiteId) -> Option<SiteEntry> {
        self.sites.get(&site).copied()
    }

    fn is_dealer_of(&self, dealer: OrgId, customer: OrgId) -> bool {
        self.dealers.contains(&(dealer, customer))
    }

    fn sharing(&self, customer: OrgId) -> Option<Sharing> {
        self.orgs.get(&customer).map(|(_, sharing)| *sharing)
    }
}

impl DirectorySnapshot {
    /// Whether any organisation of `kind` exists.
    pub fn has_kind(&self, kind: OrgKind) -> bool {
        self.orgs.values().any(|(k, _)| *k == kind)
    }

    /// Sites owned by `org`.
    pub fn sites_of(&self, org: OrgId) -> impl Iterator<Item = SiteId> + '_ {
        self.sites
            .iter()
            .filter(move |(_, e)| e.owner == org)
            .map(|(id, _)| *id)
    }

    /// Every placed site.
    pub fn all_sites(&self) -> impl Iterator<Item = SiteId> + '_ {
        self.sites.keys().copied()
    }

    /// Customers served by `dealer`.
    pub fn customers_of(&self, dealer: OrgId) -> impl Iterator<Item = OrgId> + '_ {
        self.dealers
            .iter()
            .filter(move |(d, _)| *d == dealer)
            .map(|(_, c)| *c)
    }
}

impl Store {
    /// Reads the whole directory.
    pub fn directory(&self) -> Result<DirectorySnapshot, StoreError> {
        let mut snapshot = DirectorySnapshot::default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, kind, sharing FROM organisations")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, kind, sharing) in rows {
            snapshot.orgs.insert(
                OrgId::from_uuid(uuid_from(&id)?),
                (from_json(&format!("\"{kind}\""))?, from_json(&sharing)?),
            );
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, org, parent FROM sites WHERE org IS NOT NULL")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, org, parent) in rows {
            snapshot.sites.insert(
                SiteId::from_uuid(uuid_from(&id)?),
                SiteEntry {
                    owner: OrgId::from_uuid(uuid_from(&org)?),
                    parent: parent
                        .as_deref()
                        .map(|p| uuid_from(p).map(SiteId::from_uuid))
                        .transpose()?,
                },
            );
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT dealer, customer FROM org_dealers")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (dealer, customer) in rows {
            snapshot.dealers.insert((
                OrgId::from_uuid(uuid_from(&dealer)?),
                OrgId::from_uuid(uuid_from(&customer)?),
            ));
        }
        Ok(snapshot)
    }

    /// Places a site in an organisation, optionally under a master site.
    pub fn place_site(
        &mut self,
        site: SiteId,
        org: OrgId,
        parent: Option<SiteId>,
        audit: &super::AuditEntry,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.audited(audit, now, |tx| {
            let n = tx.execute(
                "UPDATE sites SET org = ?2, parent = ?3 WHERE id = ?1",
                rusqlite::params![
                    site.as_bytes().as_slice(),
                    org.as_bytes().as_slice(),
                    parent.map(|p| p.as_bytes().to_vec())
                ],
            )?;
            one_row(n, || format!("site {site}"))?;
            Ok(())
        })
    }
}
