//! Walking up the site tree.
//!
//! Sites nest: a master site has sub-sites, which may have their own. A walk
//! from a site to its top-level site is bounded by [`MAX_SITE_DEPTH`] and
//! stops at a cycle, so a corrupt directory can neither hang nor panic us; it
//! yields an error, and decisions deny.

use std::collections::BTreeSet;

use picket_proto::ids::{OrgId, SiteId};

use crate::directory::Directory;

/// The most sites a lineage may hold (the site itself included). Real trees
/// are two or three levels deep.
pub const MAX_SITE_DEPTH: usize = 32;

/// Why a site's lineage could not be walked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteTreeError {
    /// The site itself is not in the directory.
    #[error("site {site} does not exist")]
    UnknownSite {
        /// The site asked about.
        site: SiteId,
    },
    /// An ancestor named as a parent is not in the directory.
    #[error("site {site} has parent {parent}, which does not exist")]
    UnknownParent {
        /// The site asked about.
        site: SiteId,
        /// The missing parent.
        parent: SiteId,
    },
    /// An ancestor belongs to another organisation than the site.
    #[error("site {site} of {owner} has ancestor {ancestor} of {ancestor_owner}")]
    ForeignAncestor {
        /// The site asked about.
        site: SiteId,
        /// Its owner.
        owner: OrgId,
        /// The ancestor owned by someone else.
        ancestor: SiteId,
        /// That ancestor's owner.
        ancestor_owner: OrgId,
    },
    /// The parent links loop.
    #[error("site {site}'s ancestors loop back to {repeated}")]
    Cycle {
        /// The site asked about.
        site: SiteId,
        /// The first site met twice.
        repeated: SiteId,
    },
    /// More than [`MAX_SITE_DEPTH`] levels.
    #[error("site {site} is nested more than {MAX_SITE_DEPTH} levels deep")]
    TooDeep {
        /// The site asked about.
        site: SiteId,
    },
}

/// A site and its ancestors, nearest first, all owned by `owner`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lineage {
    /// The owner of every site in the lineage.
    pub owner: OrgId,
    /// The site first, then its parent, up to the top-level site.
    pub sites: Vec<SiteId>,
}

impl Lineage {
    /// Whether any site of the lineage is in `set`.
    pub fn meets(&self, set: &BTreeSet<SiteId>) -> bool {
        self.sites.iter().any(|s| set.contains(s))
    }
}

/// Walks from `site` up to its top-level site.
pub fn lineage(
    directory: &(impl Directory + ?Sized),
    site: SiteId,
) -> Result<Lineage, SiteTreeError> {
    let entry = directory
        .site(site)
        .ok_or(SiteTreeError::UnknownSite { site })?;
    let mut sites = vec![site];
    let mut seen = BTreeSet::from([site]);
    let mut next = entry.parent;
    while let Some(parent) = next {
        if !seen.insert(parent) {
            return Err(SiteTreeError::Cycle {
                site,
                repeated: parent,
            });
        }
        if sites.len() >= MAX_SITE_DEPTH {
            return Err(SiteTreeError::TooDeep { site });
        }
        let up = directory
            .site(parent)
            .ok_or(SiteTreeError::UnknownParent { site, parent })?;
        if up.owner != entry.owner {
            return Err(SiteTreeError::ForeignAncestor {
                site,
                owner: entry.owner,
                ancestor: parent,
                ancestor_owner: up.owner,
            });
        }
        sites.push(parent);
        next = up.parent;
    }
    Ok(Lineage {
        owner: entry.owner,
        sites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryDirectory;
    use crate::testkit::{org, site};

    fn three_levels() -> MemoryDirectory {
        let mut dir = MemoryDirectory::new();
        dir.add_customer(org(1));
        dir.add_customer(org(2));
        dir.add_site(site(1), org(1), None);
        dir.add_site(site(2), org(1), Some(site(1)));
        dir.add_site(site(3), org(1), Some(site(2)));
        dir
    }

    #[test]
    fn lineage_of_a_third_level_site_lists_it_then_parent_then_top() {
        let dir = three_levels();
        let l = lineage(&dir, site(3)).unwrap();
        assert_eq!(l.owner, org(1));
        assert_eq!(l.sites, [site(3), site(2), site(1)]);
    }

    #[test]
    fn lineage_of_a_top_level_site_is_just_the_site() {
        let dir = three_levels();
        assert_eq!(lineage(&dir, site(1)).unwrap().sites, [site(1)]);
    }

    #[test]
    fn unknown_site_and_unknown_parent_are_errors() {
        let mut dir = three_levels();
        assert_eq!(
            lineage(&dir, site(9)),
            Err(SiteTreeError::UnknownSite { site: site(9) })
        );
        dir.add_site(site(4), org(1), Some(site(8)));
        assert_eq!(
            lineage(&dir, site(4)),
            Err(SiteTreeError::UnknownParent {
                site: site(4),
                parent: site(8)
            })
        );
    }

    #[test]
    fn a_cycle_is_detected_instead_of_looping() {
        let mut dir = MemoryDirectory::new();
        dir.add_customer(org(1));
        dir.add_site(site(1), org(1), Some(site(3)));
        dir.add_site(site(2), org(1), Some(site(1)));
        dir.add_site(site(3), org(1), Some(site(2)));
        assert_eq!(
            lineage(&dir, site(2)),
            Err(SiteTreeError::Cycle {
                site: site(2),
                repeated: site(2)
            })
        );
    }

    #[test]
    fn a_site_that_is_its_own_parent_is_a_cycle() {
        let mut dir = MemoryDirectory::new();
        dir.add_customer(org(1));
        dir.add_site(site(1), org(1), Some(site(1)));
        assert!(matches!(
            lineage(&dir, site(1)),
            Err(SiteTreeError::Cycle { .. })
        ));
    }

    #[test]
    fn an_ancestor_of_another_customer_is_an_error() {
        let mut dir = three_levels();
        dir.add_site(site(5), org(2), Some(site(3)));
        assert!(matches!(
            lineage(&dir, site(5)),
            Err(SiteTreeError::ForeignAncestor { ancestor, .. }) if ancestor == site(3)
        ));
    }

    #[test]
    fn a_chain_longer_than_the_maximum_depth_is_too_deep() {
        let mut dir = MemoryDirectory::new();
        dir.add_customer(org(1));
        let depth = u128::try_from(MAX_SITE_DEPTH).unwrap();
        dir.add_site(site(1), org(1), None);
        for n in 2..=depth + 1 {
            dir.add_site(site(n), org(1), Some(site(n - 1)));
        }
        assert_eq!(
            lineage(&dir, site(depth)).unwrap().sites.len(),
            MAX_SITE_DEPTH
        );
        assert_eq!(
            lineage(&dir, site(depth + 1)),
            Err(SiteTreeError::TooDeep {
                site: site(depth + 1)
            })
        );
    }

    #[test]
    fn meets_finds_any_site_of_the_lineage() {
        let dir = three_levels();
        let l = lineage(&dir, site(3)).unwrap();
        assert!(l.meets(&BTreeSet::from([site(1)])));
        assert!(l.meets(&BTreeSet::from([site(3)])));
        assert!(!l.meets(&BTreeSet::from([site(9)])));
        assert!(!l.meets(&BTreeSet::new()));
    }
}
