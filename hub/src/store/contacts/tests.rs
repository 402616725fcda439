use super::*;
use crate::store::testkit::{audit, t};
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};

fn site(n: u8) -> SiteId {
    SiteId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

/// A store with two sites.
fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hub.db")).unwrap();
    let week = WeeklySchedule::new(ScheduleSpec::empty("Europe/Copenhagen")).unwrap();
    for n in [1, 2] {
        store
            .upsert_site(site(n), "site", &week, &audit("site.upsert"), t(0))
            .unwrap();
    }
    (dir, store)
}

fn contact(name: &str) -> NewContact {
    NewContact {
        name: name.into(),
        phone: "+45 11 22 33 44".into(),
        email: None,
    }
}

fn names(rows: &[ContactRow]) -> Vec<(u32, &str)> {
    rows.iter().map(|r| (r.position, r.name.as_str())).collect()
}

fn audit_actions(store: &Store) -> Vec<String> {
    store
        .audit_entries(None, None, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn contacts_are_kept_in_the_order_given_and_per_site() {
    let (_dir, mut store) = open();
    let rows = store
        .set_contacts(
            site(1),
            &[contact("Ann"), contact("Bo"), contact("Cy")],
            &audit("site.contacts.set"),
            t(1),
        )
        .unwrap();
    assert_eq!(names(&rows), [(1, "Ann"), (2, "Bo"), (3, "Cy")]);
    store
        .set_contacts(
            site(2),
            &[contact("Dan")],
            &audit("site.contacts.set"),
            t(2),
        )
        .unwrap();
    // Reordering is replacing the list.
    let rows = store
        .set_contacts(
            site(1),
            &[contact("Cy"), contact("Ann")],
            &audit("site.contacts.set"),
            t(3),
        )
        .unwrap();
    assert_eq!(names(&rows), [(1, "Cy"), (2, "Ann")]);
    assert_eq!(names(&store.contacts(site(2)).unwrap()), [(1, "Dan")]);
    assert_eq!(
        audit_actions(&store)
            .iter()
            .filter(|a| *a == "site.contacts.set")
            .count(),
        3,
        "each change has its audit entry"
    );
}

#[test]
fn the_last_contact_cannot_be_removed_nor_the_list_emptied() {
    let (_dir, mut store) = open();
    let rows = store
        .set_contacts(
            site(1),
            &[contact("Ann"), contact("Bo"), contact("Cy")],
            &audit("set"),
            t(1),
        )
        .unwrap();
    let rows = store
        .remove_contact(site(1), rows[0].id, &audit("remove"), t(2))
        .unwrap();
    assert_eq!(names(&rows), [(1, "Bo"), (2, "Cy")], "the others move up");
    let rows = store
        .remove_contact(site(1), rows[1].id, &audit("remove"), t(3))
        .unwrap();
    assert_eq!(names(&rows), [(1, "Bo")]);
    let last = store.remove_contact(site(1), rows[0].id, &audit("remove"), t(4));
    assert!(
        matches!(&last, Err(StoreError::Conflict(m)) if m.contains("last contact")),
        "{last:?}"
    );
    let empty = store.set_contacts(site(1), &[], &audit("set"), t(5));
    assert!(matches!(empty, Err(StoreError::Conflict(_))), "{empty:?}");
    assert_eq!(names(&store.contacts(site(1)).unwrap()), [(1, "Bo")]);
    // Refused changes leave no audit entry.
    assert_eq!(
        audit_actions(&store)
            .iter()
            .filter(|a| *a == "remove")
            .count(),
        2
    );
}

#[test]
fn a_contact_of_another_site_or_an_unknown_site_is_not_found() {
    let (_dir, mut store) = open();
    let ones = store
        .set_contacts(
            site(1),
            &[contact("Ann"), contact("Bo")],
            &audit("set"),
            t(1),
        )
        .unwrap();
    store
        .set_contacts(
            site(2),
            &[contact("Dan"), contact("Eve")],
            &audit("set"),
            t(1),
        )
        .unwrap();
    let wrong = store.remove_contact(site(2), ones[0].id, &audit("remove"), t(2));
    assert!(matches!(wrong, Err(StoreError::NotFound(_))), "{wrong:?}");
    assert_eq!(store.contacts(site(1)).unwrap().len(), 2);
    let unknown = store.set_contacts(site(9), &[contact("X")], &audit("set"), t(2));
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
}

#[test]
fn recipients_are_replaced_and_a_duplicate_address_is_refused_whatever_its_case() {
    let (_dir, mut store) = open();
    let r = |email: &str, instant, daily| NewRecipient {
        email: email.into(),
        instant,
        daily,
    };
    let rows = store
        .set_recipients(
            site(1),
            &[
                r("ops@example.com", true, false),
                r("boss@example.com", false, true),
            ],
            &audit("site.recipients.set"),
            t(1),
        )
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.email.as_str(), r.instant, r.daily))
            .collect::<Vec<_>>(),
        [
            ("boss@example.com", false, true),
            ("ops@example.com", true, false)
        ]
    );
    let twice = store.set_recipients(
        site(1),
        &[
            r("a@example.com", true, false),
            r("A@Example.com", false, true),
        ],
        &audit("site.recipients.set"),
        t(2),
    );
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert_eq!(store.recipients(site(1)).unwrap().len(), 2, "unchanged");
    let none = store
        .set_recipients(site(1), &[], &audit("site.recipients.set"), t(3))
        .unwrap();
    assert!(none.is_empty(), "no recipients: no reports");
}
