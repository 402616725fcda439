use super::*;
use crate::store::testkit::{audit, t};
use picket_proto::level::LevelArming;
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};

fn site(n: u8) -> SiteId {
    SiteId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn unit(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([100 + n; 16]))
}

/// A store with two sites, one unit on each.
fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hub.db")).unwrap();
    let week = WeeklySchedule::new(ScheduleSpec::empty("Europe/Copenhagen")).unwrap();
    for n in [1, 2] {
        store
            .upsert_site(site(n), "site", &week, &audit("site.upsert"), t(0))
            .unwrap();
        store
            .assign_unit(unit(n), site(n), &audit("unit.assign"), t(0))
            .unwrap();
    }
    (dir, store)
}

fn version(store: &Store, n: u8) -> u64 {
    store.desired_config(unit(n)).unwrap().unwrap().version.0
}

#[test]
fn the_seeded_profiles_parse_and_standard_is_the_protocol_standard() {
    let (_dir, store) = open();
    let profiles = store.level_profiles().unwrap();
    let keys: Vec<&str> = profiles.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["standard", "high", "silent"]);
    assert_eq!(profiles[0].level, SecurityLevel::standard());
    assert_eq!(
        profiles[0].sites, 2,
        "new sites start on the standard level"
    );
    assert_eq!(profiles[1].level.arming, LevelArming::AlwaysArmed);
    assert_eq!(profiles[1].level.centre_priority, 1);
    assert!(!profiles[2].level.warnings.siren);
}

#[test]
fn choosing_a_profile_copies_its_level_into_the_unit_config() {
    let (_dir, mut store) = open();
    let before = version(&store, 1);
    let units = store
        .set_site_profile(site(1), "high", &audit("site.level.set"), t(1))
        .unwrap();
    assert_eq!(units, [unit(1)]);
    let config = store.desired_config(unit(1)).unwrap().unwrap();
    assert_eq!(config.level.arming, LevelArming::AlwaysArmed);
    assert!(config.version.0 > before);
    assert_eq!(
        store.site_profile(site(1)).unwrap().as_deref(),
        Some("high")
    );
    assert_eq!(
        store.desired_config(unit(2)).unwrap().unwrap().level,
        SecurityLevel::standard(),
        "the other site is untouched"
    );
}

#[test]
fn an_unknown_profile_is_refused_and_changes_nothing() {
    let (_dir, mut store) = open();
    let before = version(&store, 1);
    let err = store
        .set_site_profile(site(1), "gold", &audit("site.level.set"), t(1))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound(m) if m.contains("gold")),
        "{err}"
    );
    assert_eq!(version(&store, 1), before);
    assert_eq!(
        store.site_profile(site(1)).unwrap().as_deref(),
        Some("standard")
    );
}

#[test]
fn editing_a_profile_reaches_every_site_that_uses_it_and_no_other() {
    let (_dir, mut store) = open();
    store
        .set_site_profile(site(2), "silent", &audit("site.level.set"), t(1))
        .unwrap();
    let other = version(&store, 2);
    let mut level = SecurityLevel::standard();
    level.name = "Standard (no voice)".into();
    level.warnings.voice = false;
    let units = store
        .put_level_profile("standard", &level, &audit("level.put"), t(2))
        .unwrap();
    assert_eq!(units, [unit(1)]);
    assert_eq!(store.desired_config(unit(1)).unwrap().unwrap().level, level);
    assert_eq!(version(&store, 2), other);
}

#[test]
fn a_new_profile_goes_last_and_can_be_removed_while_unused() {
    let (_dir, mut store) = open();
    let mut level = SecurityLevel::standard();
    level.name = "Construction 24/7".into();
    level.arming = LevelArming::AlwaysArmed;
    let units = store
        .put_level_profile("construction", &level, &audit("level.put"), t(1))
        .unwrap();
    assert!(units.is_empty());
    let keys: Vec<String> = store
        .level_profiles()
        .unwrap()
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(keys.last().map(String::as_str), Some("construction"));
    store
        .remove_level_profile("construction", &audit("level.remove"), t(2))
        .unwrap();
    assert!(store.level_profile("construction").unwrap().is_none());
}

#[test]
fn a_profile_in_use_cannot_be_removed() {
    let (_dir, mut store) = open();
    let err = store
        .remove_level_profile("standard", &audit("level.remove"), t(1))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("2 site")),
        "{err}"
    );
    assert!(store.level_profile("standard").unwrap().is_some());
}

#[test]
fn the_last_profile_cannot_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hub.db")).unwrap();
    for key in ["high", "silent"] {
        store
            .remove_level_profile(key, &audit("level.remove"), t(1))
            .unwrap();
    }
    let err = store
        .remove_level_profile("standard", &audit("level.remove"), t(2))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("last")),
        "{err}"
    );
    assert!(store.level_profile("standard").unwrap().is_some());
}

#[test]
fn removing_an_unknown_profile_says_not_found() {
    let (_dir, mut store) = open();
    let err = store
        .remove_level_profile("gold", &audit("level.remove"), t(1))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}
