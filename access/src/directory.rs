//! The facts decisions consult: which organisation is what, which customer
//! owns a site, where a site hangs in its tree, who serves a customer and
//! what it shares.
//!
//! A read-only trait, so the hub can answer from its store or a cache; the
//! decision functions never write. [`MemoryDirectory`](crate::MemoryDirectory)
//! is a plain implementation for tests and benches.
//!
//! The directory is trusted to be what the hub believes *now*. Where its
//! answers contradict each other (a sub-site whose parent is unknown, belongs
//! to another customer, or is its own ancestor) decisions deny rather than
//! guess.

use picket_proto::ids::{OrgId, SiteId};
use serde::{Deserialize, Serialize};

use crate::org::OrgKind;
use crate::sharing::Sharing;

/// Where a site sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SiteEntry {
    /// The customer organisation that owns the site.
    pub owner: OrgId,
    /// The site this one is a sub-site of; `None` for a top-level site.
    pub parent: Option<SiteId>,
}

/// Read-only facts about organisations and sites.
pub trait Directory {
    /// The kind of `org`, or `None` if there is no such organisation.
    fn org_kind(&self, org: OrgId) -> Option<OrgKind>;

    /// The site's owner and parent, or `None` if there is no such site.
    fn site(&self, site: SiteId) -> Option<SiteEntry>;

    /// Whether the customer `customer` lists the dealer `dealer` as serving
    /// it. False for unknown organisations.
    fn is_dealer_of(&self, dealer: OrgId, customer: OrgId) -> bool;

    /// The customer's sharing settings, or `None` if `customer` is not a
    /// known customer. A customer that never changed them has
    /// [`Sharing::default`].
    fn sharing(&self, customer: OrgId) -> Option<Sharing>;
}

impl<D: Directory + ?Sized> Directory for &D {
    fn org_kind(&self, org: OrgId) -> Option<OrgKind> {
        (**self).org_kind(org)
    }

    fn site(&self, site: SiteId) -> Option<SiteEntry> {
        (**self).site(site)
    }

    fn is_dealer_of(&self, dealer: OrgId, customer: OrgId) -> bool {
        (**self).is_dealer_of(dealer, customer)
    }

    fn sharing(&self, customer: OrgId) -> Option<Sharing> {
        (**self).sharing(customer)
    }
}
