//! Customer sharing switches.

use super::*;

fn sharing_without(feature: SharedFeature) -> Sharing {
    let mut sharing = Sharing::ALL;
    match feature {
        SharedFeature::IncidentReports => sharing.incident_reports = false,
        SharedFeature::ResponseTimes => sharing.response_times = false,
        SharedFeature::Clips => sharing.clips = false,
        SharedFeature::LiveView => sharing.live_view = false,
    }
    sharing
}

#[test]
fn each_sharing_switch_off_denies_its_view_to_every_customer_role_and_nothing_else() {
    let gated = [
        (
            SharedFeature::IncidentReports,
            Permission::ViewIncidentReports,
        ),
        (SharedFeature::ResponseTimes, Permission::ViewResponseTimes),
        (SharedFeature::Clips, Permission::ViewClips),
        (SharedFeature::LiveView, Permission::ViewLiveVideo),
    ];
    for (feature, gated_permission) in gated {
        let mut dir = world();
        dir.set_sharing(org(CUSTOMER_A), sharing_without(feature));
        for role in roles_of(OrgKind::Customer) {
            let user = customer(role, SiteScope::All);
            for target in [on_site(3), on_org(CUSTOMER_A)] {
                for &p in role.permissions() {
                    if !p.applies_to(target.kind()) {
                        continue;
                    }
                    let decision = decide(&user, p, &target, &dir, t(0));
                    if p == gated_permission {
                        assert_eq!(
                            decision,
                            denied(DenyReason::SharingOff { feature }),
                            "{role:?} {p}"
                        );
                    } else {
                        assert_eq!(decision, Decision::Allow, "{role:?} {p} with {feature} off");
                    }
                }
            }
        }
    }
}

#[test]
fn sharing_of_one_customer_does_not_affect_another() {
    let mut dir = world();
    dir.set_sharing(org(CUSTOMER_B), Sharing::NONE);
    let owner = customer(Role::Owner, SiteScope::All);
    assert_eq!(
        decide(&owner, Permission::ViewLiveVideo, &on_site(1), &dir, t(0)),
        Decision::Allow
    );
}

#[test]
fn dealer_users_are_limited_by_the_customers_sharing_too() {
    let mut dir = world();
    dir.set_sharing(
        org(CUSTOMER_A),
        sharing_without(SharedFeature::IncidentReports),
    );
    let tech = dealer(Role::DealerTechnician);
    assert_eq!(
        decide(
            &tech,
            Permission::ViewIncidentReports,
            &on_site(1),
            &dir,
            t(0)
        ),
        denied(DenyReason::SharingOff {
            feature: SharedFeature::IncidentReports
        })
    );
    assert_eq!(
        decide(
            &tech,
            Permission::ViewResponseTimes,
            &on_site(1),
            &dir,
            t(0)
        ),
        Decision::Allow
    );
}

#[test]
fn a_customer_without_recorded_sharing_is_denied_gated_views_rather_than_guessed() {
    struct NoSharing(MemoryDirectory);
    impl Directory for NoSharing {
        fn org_kind(&self, org: OrgId) -> Option<OrgKind> {
            self.0.org_kind(org)
        }
        fn site(&self, site: SiteId) -> Option<crate::SiteEntry> {
            self.0.site(site)
        }
        fn is_dealer_of(&self, dealer: OrgId, customer: OrgId) -> bool {
            self.0.is_dealer_of(dealer, customer)
        }
        fn sharing(&self, _: OrgId) -> Option<Sharing> {
            None
        }
    }
    let dir = NoSharing(world());
    let owner = customer(Role::Owner, SiteScope::All);
    assert_eq!(
        decide(&owner, Permission::ViewClips, &on_site(1), &dir, t(0)),
        denied(DenyReason::UnknownOrganisation {
            org: org(CUSTOMER_A)
        })
    );
    assert_eq!(
        decide(&owner, Permission::Disarm, &on_site(1), &dir, t(0)),
        Decision::Allow
    );
}
