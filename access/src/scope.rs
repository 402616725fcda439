//! Site scopes: which sites a user may act on.
//!
//! A user has access to all of their organisation's sites, or only to listed
//! ones. Listing a site includes its sub-sites, at any depth, so a scope
//! never needs updating when a sub-site is added.

use std::collections::BTreeSet;

use picket_proto::ids::SiteId;
use serde::{Deserialize, Serialize};

use crate::directory::Directory;
use crate::site_tree::{SiteTreeError, lineage};

/// The sites a user may act on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteScope {
    /// Every site of the organisation (or, for operator and dealer users,
    /// every site they can reach), present and future.
    All,
    /// Only these sites and their sub-sites.
    Only(BTreeSet<SiteId>),
}

impl SiteScope {
    /// Whether this scope is [`SiteScope::All`].
    pub const fn is_all(&self) -> bool {
        matches!(self, SiteScope::All)
    }

    /// Whether `site` is in this scope: listed itself, or a sub-site (at any
    /// depth) of a listed site.
    ///
    /// [`SiteScope::All`] covers every site without consulting the
    /// directory. A restricted scope walks the site's lineage, so a broken
    /// tree is an error.
    pub fn covers(
        &self,
        site: SiteId,
        directory: &(impl Directory + ?Sized),
    ) -> Result<bool, SiteTreeError> {
        match self {
            SiteScope::All => Ok(true),
            SiteScope::Only(listed) => Ok(lineage(directory, site)?.meets(listed)),
        }
    }

    /// Whether every site this scope gives is also in `outer`.
    ///
    /// `All` is within `All` only; a restriction is within `All`; `Only(a)`
    /// is within `Only(b)` when every site of `a` is covered by `b`. A site
    /// whose tree is broken is not within anything restricted.
    pub fn is_within(&self, outer: &SiteScope, directory: &(impl Directory + ?Sized)) -> bool {
        match (self, outer) {
            (_, SiteScope::All) => true,
            (SiteScope::All, SiteScope::Only(_)) => false,
            (SiteScope::Only(inner), SiteScope::Only(_)) => inner
                .iter()
                .all(|&site| outer.covers(site, directory) == Ok(true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryDirectory;
    use crate::testkit::{org, site};

    fn only(sites: &[u128]) -> SiteScope {
        SiteScope::Only(sites.iter().map(|&n| site(n)).collect())
    }

    /// 1 ─ 2 ─ 3 (three levels), and 4 on its own.
    fn tree() -> MemoryDirectory {
        let mut dir = MemoryDirectory::new();
        dir.add_customer(org(1));
        dir.add_site(site(1), org(1), None);
        dir.add_site(site(2), org(1), Some(site(1)));
        dir.add_site(site(3), org(1), Some(site(2)));
        dir.add_site(site(4), org(1), None);
        dir
    }

    #[test]
    fn all_covers_every_site_even_unknown_ones() {
        let dir = tree();
        for n in 1..=5 {
            assert_eq!(SiteScope::All.covers(site(n), &dir), Ok(true));
        }
    }

    #[test]
    fn listing_the_top_site_covers_its_sub_sites_at_every_level() {
        let dir = tree();
        let scope = only(&[1]);
        assert_eq!(scope.covers(site(1), &dir), Ok(true));
        assert_eq!(scope.covers(site(2), &dir), Ok(true));
        assert_eq!(scope.covers(site(3), &dir), Ok(true));
        assert_eq!(scope.covers(site(4), &dir), Ok(false));
    }

    #[test]
    fn listing_a_middle_site_covers_below_it_but_not_above() {
        let dir = tree();
        let scope = only(&[2]);
        assert_eq!(scope.covers(site(1), &dir), Ok(false));
        assert_eq!(scope.covers(site(2), &dir), Ok(true));
        assert_eq!(scope.covers(site(3), &dir), Ok(true));
    }

    #[test]
    fn an_empty_restriction_covers_nothing() {
        let dir = tree();
        assert_eq!(only(&[]).covers(site(1), &dir), Ok(false));
    }

    #[test]
    fn a_restriction_over_a_cyclic_tree_is_an_error_not_a_hang() {
        let mut dir = tree();
        dir.add_site(site(1), org(1), Some(site(3)));
        assert!(matches!(
            only(&[4]).covers(site(3), &dir),
            Err(SiteTreeError::Cycle { .. })
        ));
    }

    #[test]
    fn all_is_within_all_only() {
        let dir = tree();
        assert!(SiteScope::All.is_within(&SiteScope::All, &dir));
        assert!(!SiteScope::All.is_within(&only(&[1, 4]), &dir));
    }

    #[test]
    fn any_restriction_is_within_all() {
        let dir = tree();
        assert!(only(&[3]).is_within(&SiteScope::All, &dir));
        assert!(only(&[]).is_within(&SiteScope::All, &dir));
    }

    #[test]
    fn a_sub_site_is_within_a_scope_listing_its_ancestor() {
        let dir = tree();
        assert!(only(&[3]).is_within(&only(&[1]), &dir));
        assert!(only(&[2, 3]).is_within(&only(&[1]), &dir));
        assert!(only(&[1]).is_within(&only(&[1]), &dir));
    }

    #[test]
    fn a_parent_is_not_within_a_scope_listing_its_sub_site() {
        let dir = tree();
        assert!(!only(&[1]).is_within(&only(&[2]), &dir));
        assert!(!only(&[2, 4]).is_within(&only(&[1]), &dir));
    }

    #[test]
    fn unknown_or_broken_sites_are_not_within_a_restriction() {
        let mut dir = tree();
        assert!(!only(&[9]).is_within(&only(&[1]), &dir));
        dir.add_site(site(1), org(1), Some(site(3)));
        assert!(!only(&[3]).is_within(&only(&[1]), &dir));
    }

    #[test]
    fn scope_serialises_as_all_or_only_list() {
        assert_eq!(serde_json::to_string(&SiteScope::All).unwrap(), "\"all\"");
        let scope = only(&[1]);
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(json, format!("{{\"only\":[\"{}\"]}}", site(1)));
        assert_eq!(serde_json::from_str::<SiteScope>(&json).unwrap(), scope);
    }
}
