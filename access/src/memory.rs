//! A [`Directory`] held in memory, for tests, benches and small tools.

use std::collections::{BTreeMap, BTreeSet};

use picket_proto::ids::{OrgId, SiteId};

use crate::directory::{Directory, SiteEntry};
use crate::org::OrgKind;
use crate::sharing::Sharing;

/// Organisations, sites, dealer relationships and sharing settings in maps.
///
/// Adding never validates: tests need to build broken trees on purpose.
#[derive(Clone, Debug, Default)]
pub struct MemoryDirectory {
    orgs: BTreeMap<OrgId, OrgKind>,
    sites: BTreeMap<SiteId, SiteEntry>,
    dealers: BTreeMap<OrgId, BTreeSet<OrgId>>,
    sharing: BTreeMap<OrgId, Sharing>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or re-kinds) an organisation. Customers get default sharing.
    pub fn add_org(&mut self, org: OrgId, kind: OrgKind) {
        self.orgs.insert(org, kind);
        if kind == OrgKind::Customer {
            self.sharing.entry(org).or_default();
        } else {
            self.sharing.remove(&org);
        }
    }

    /// Adds the operator organisation.
    pub fn add_operator(&mut self, org: OrgId) {
        self.add_org(org, OrgKind::Operator);
    }

    /// Adds a customer organisation with default sharing.
    pub fn add_customer(&mut self, org: OrgId) {
        self.add_org(org, OrgKind::Customer);
    }

    /// Adds a dealer organisation.
    pub fn add_dealer(&mut self, org: OrgId) {
        self.add_org(org, OrgKind::Dealer);
    }

    /// Records that `dealer` serves `customer`.
    pub fn add_dealer_of(&mut self, dealer: OrgId, customer: OrgId) {
        self.dealers.entry(customer).or_default().insert(dealer);
    }

    /// Records that `dealer` no longer serves `customer`.
    pub fn remove_dealer_of(&mut self, dealer: OrgId, customer: OrgId) {
        if let Some(set) = self.dealers.get_mut(&customer) {
            set.remove(&dealer);
        }
    }

    /// Adds (or moves) a site.
    pub fn add_site(&mut self, site: SiteId, owner: OrgId, parent: Option<SiteId>) {
        self.sites.insert(site, SiteEntry { owner, parent });
    }

    /// Sets a customer's sharing settings. Ignored for organisations that are
    /// not known customers.
    pub fn set_sharing(&mut self, customer: OrgId, sharing: Sharing) {
        if self.orgs.get(&customer) == Some(&OrgKind::Customer) {
            self.sharing.insert(customer, sharing);
        }
    }
}

impl Directory for MemoryDirectory {
    fn org_kind(&self, org: OrgId) -> Option<OrgKind> {
        self.orgs.get(&org).copied()
    }

    fn site(&self, site: SiteId) -> Option<SiteEntry> {
        self.sites.get(&site).copied()
    }

    fn is_dealer_of(&self, dealer: OrgId, customer: OrgId) -> bool {
        self.dealers
            .get(&customer)
            .is_some_and(|set| set.contains(&dealer))
    }

    fn sharing(&self, customer: OrgId) -> Option<Sharing> {
        self.sharing.get(&customer).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{org, site};

    #[test]
    fn answers_what_was_added() {
        let mut dir = MemoryDirectory::new();
        dir.add_customer(org(1));
        dir.add_dealer(org(2));
        dir.add_dealer_of(org(2), org(1));
        dir.add_site(site(1), org(1), None);
        assert_eq!(dir.org_kind(org(1)), Some(OrgKind::Customer));
        assert_eq!(dir.org_kind(org(2)), Some(OrgKind::Dealer));
        assert_eq!(dir.org_kind(org(3)), None);
        assert_eq!(
            dir.site(site(1)),
            Some(SiteEntry {
                owner: org(1),
                parent: None
            })
        );
        assert_eq!(dir.site(site(2)), None);
        assert!(dir.is_dealer_of(org(2), org(1)));
        assert!(!dir.is_dealer_of(org(1), org(2)));
    }

    #[test]
    fn customers_start_with_default_sharing_and_others_have_none() {
        let mut dir = MemoryDirectory::new();
        dir.add_customer(org(1));
        dir.add_dealer(org(2));
        assert_eq!(dir.sharing(org(1)), Some(Sharing::default()));
        assert_eq!(dir.sharing(org(2)), None);
        dir.set_sharing(org(2), Sharing::NONE);
        assert_eq!(dir.sharing(org(2)), None);
        dir.set_sharing(org(1), Sharing::NONE);
        assert_eq!(dir.sharing(org(1)), Some(Sharing::NONE));
    }

    #[test]
    fn removing_a_dealer_relationship_ends_it() {
        let mut dir = MemoryDirectory::new();
        dir.add_dealer_of(org(2), org(1));
        dir.remove_dealer_of(org(2), org(1));
        assert!(!dir.is_dealer_of(org(2), org(1)));
    }
}
