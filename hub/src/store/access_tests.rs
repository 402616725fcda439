//! Store tests for organisations, users, sessions, tokens and links.

use super::*;
use crate::store::signin::{LinkPurpose, LinkRefusal};
use crate::store::testkit::{audit, t};
use picket_access::{OrgKind, Permission, Role, SiteScope};
use picket_proto::ids::{OrgId, UserId};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("hub.db")).unwrap();
    (dir, store)
}

fn org(n: u8) -> OrgId {
    OrgId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn user_id(n: u8) -> UserId {
    UserId::from_uuid(uuid::Uuid::from_bytes([0x40 + n; 16]))
}

fn customer_with_owner(store: &mut Store) -> (OrgId, UserId) {
    store
        .create_org(
            org(1),
            OrgKind::Customer,
            "Harbour Ltd",
            &audit("org.create"),
            t(0),
        )
        .unwrap();
    let new = NewUser {
        org: org(1),
        email: "Anna@Harbour.example".into(),
        name: "Anna Holm".into(),
        role: Role::Owner,
        scope: SiteScope::All,
        password: Some("$argon2id$fake".into()),
    };
    store
        .create_user(user_id(1), &new, &audit("user.create"), t(1))
        .unwrap();
    (org(1), user_id(1))
}

#[test]
fn organisations_and_users_round_trip_with_their_access_types() {
    let (_dir, mut store) = open();
    let (org_id, anna) = customer_with_owner(&mut store);
    let o = store.org(org_id).unwrap().unwrap();
    assert_eq!(
        (o.kind, o.name.as_str()),
        (OrgKind::Customer, "Harbour Ltd")
    );
    let u = store.user(anna).unwrap().unwrap();
    assert_eq!(u.role, Role::Owner);
    assert_eq!(u.scope, SiteScope::All);
    assert_eq!(u.status, AccountStatus::Active);
    let (by_mail, hash) = store
        .user_by_email("anna@harbour.EXAMPLE")
        .unwrap()
        .unwrap();
    assert_eq!(by_mail.id, anna, "e-mail lookup ignores case");
    assert_eq!(hash.as_deref(), Some("$argon2id$fake"));
    assert_eq!(store.users(org_id).unwrap().len(), 1);
    // Two audit entries: the organisation and the user.
    assert_eq!(store.audit_entries(None, None, 10).unwrap().len(), 2);
}

#[test]
fn a_duplicate_email_in_any_case_is_a_conflict_naming_the_field() {
    let (_dir, mut store) = open();
    customer_with_owner(&mut store);
    let again = NewUser {
        org: org(1),
        email: "ANNA@harbour.example".into(),
        name: "Someone".into(),
        role: Role::Viewer,
        scope: SiteScope::All,
        password: None,
    };
    let err = store
        .create_user(user_id(2), &again, &audit("user.create"), t(2))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.starts_with("email:")),
        "{err}"
    );
    // Nothing half-written: no user, no audit entry for the failed attempt.
    assert_eq!(store.users(org(1)).unwrap().len(), 1);
    assert_eq!(store.audit_entries(None, None, 10).unwrap().len(), 2);
}

#[test]
fn revoking_a_user_ends_their_sessions_and_tokens_in_the_same_commit() {
    let (_dir, mut store) = open();
    let (_, anna) = customer_with_owner(&mut store);
    let session = [7u8; 32];
    store
        .create_session(
            &session,
            anna,
            t(3600),
            "192.0.2.1",
            "test",
            &audit("session.start"),
            t(2),
        )
        .unwrap();
    let token = [8u8; 32];
    store
        .create_token(
            uuid::Uuid::from_bytes([1; 16]),
            anna,
            "alarm export",
            &token,
            &[Permission::ViewAlarms],
            t(86_400),
            &audit("token.create"),
            t(2),
        )
        .unwrap();
    store
        .revoke_user(anna, &audit("user.revoke"), t(3))
        .unwrap();
    assert_eq!(
        store.user(anna).unwrap().unwrap().status,
        AccountStatus::Revoked
    );
    assert_eq!(
        store.session(&session).unwrap().unwrap().ended_at,
        Some(t(3))
    );
    assert_eq!(
        store.use_token(&token, t(4)).unwrap().unwrap().revoked_at,
        Some(t(3))
    );
    assert!(store.sessions_of(anna).unwrap().is_empty());
}

#[test]
fn sessions_are_listed_by_handle_and_ended_one_at_a_time() {
    let (_dir, mut store) = open();
    let (_, anna) = customer_with_owner(&mut store);
    for (n, at) in [(1u8, 10), (2, 20)] {
        store
            .create_session(
                &[n; 32],
                anna,
                t(3600),
                "192.0.2.1",
                "phone",
                &audit("session.start"),
                t(at),
            )
            .unwrap();
    }
    let live = store.sessions_of(anna).unwrap();
    assert_eq!(live.len(), 2);
    assert_eq!(live[0].created_at, t(20), "newest first");
    assert_eq!(live[1].handle, "0101010101010101");
    assert!(
        store
            .end_session(anna, &live[1].handle, &audit("session.end"), t(30))
            .unwrap()
    );
    assert!(
        !store
            .end_session(anna, &live[1].handle, &audit("session.end"), t(31))
            .unwrap()
    );
    assert!(
        !store
            .end_session(user_id(9), &live[0].handle, &audit("session.end"), t(31))
            .unwrap(),
        "someone else's handle does not end it"
    );
    assert_eq!(store.sessions_of(anna).unwrap().len(), 1);
    // Moved forward at most once a minute.
    store.touch_session(&[2; 32], t(40)).unwrap();
    assert_eq!(store.session(&[2; 32]).unwrap().unwrap().last_seen, t(20));
    store.touch_session(&[2; 32], t(80)).unwrap();
    assert_eq!(store.session(&[2; 32]).unwrap().unwrap().last_seen, t(80));
}

#[test]
fn a_link_works_once_and_never_after_expiry() {
    let (_dir, mut store) = open();
    let (_, anna) = customer_with_owner(&mut store);
    let detail = serde_json::json!({ "invited_by": "bo" });
    store
        .create_link(
            &[3; 32],
            LinkPurpose::Invitation,
            Some(anna),
            &detail,
            t(100),
            t(0),
        )
        .unwrap();
    store
        .create_link(
            &[4; 32],
            LinkPurpose::Invitation,
            Some(anna),
            &detail,
            t(100),
            t(0),
        )
        .unwrap();
    assert_eq!(
        store
            .take_link(&[3; 32], LinkPurpose::PasswordReset, t(1))
            .unwrap(),
        Err(LinkRefusal::Unknown),
        "a link is only good for its purpose"
    );
    let taken = store
        .take_link(&[3; 32], LinkPurpose::Invitation, t(1))
        .unwrap()
        .unwrap();
    assert_eq!((taken.user, taken.detail), (Some(anna), detail));
    assert_eq!(
        store
            .take_link(&[3; 32], LinkPurpose::Invitation, t(2))
            .unwrap(),
        Err(LinkRefusal::Used)
    );
    assert_eq!(
        store
            .take_link(&[4; 32], LinkPurpose::Invitation, t(100))
            .unwrap(),
        Err(LinkRefusal::Expired)
    );
    assert_eq!(
        store
            .take_link(&[5; 32], LinkPurpose::Invitation, t(1))
            .unwrap(),
        Err(LinkRefusal::Unknown)
    );
}

#[test]
fn setting_a_password_activates_an_invitee_and_signs_out_elsewhere() {
    let (_dir, mut store) = open();
    store
        .create_org(
            org(1),
            OrgKind::Customer,
            "Harbour Ltd",
            &audit("org.create"),
            t(0),
        )
        .unwrap();
    let invitee = NewUser {
        org: org(1),
        email: "bo@harbour.example".into(),
        name: "Bo".into(),
        role: Role::Keyholder,
        scope: SiteScope::All,
        password: None,
    };
    store
        .create_user(user_id(2), &invitee, &audit("user.invite"), t(1))
        .unwrap();
    assert_eq!(
        store.user(user_id(2)).unwrap().unwrap().status,
        AccountStatus::Invited
    );
    store
        .create_session(
            &[6; 32],
            user_id(2),
            t(3600),
            "x",
            "y",
            &audit("session.start"),
            t(2),
        )
        .unwrap();
    store
        .set_password(user_id(2), "$argon2id$new", &audit("user.password"), t(3))
        .unwrap();
    assert_eq!(
        store.user(user_id(2)).unwrap().unwrap().status,
        AccountStatus::Active
    );
    assert_eq!(
        store.session(&[6; 32]).unwrap().unwrap().ended_at,
        Some(t(3))
    );
    store
        .revoke_user(user_id(2), &audit("user.revoke"), t(4))
        .unwrap();
    assert!(
        matches!(
            store.set_password(user_id(2), "$argon2id$again", &audit("user.password"), t(5)),
            Err(StoreError::NotFound(_))
        ),
        "a revoked user cannot come back by a password reset"
    );
}

#[test]
fn the_directory_snapshot_answers_what_the_access_decisions_ask() {
    use picket_access::Directory;
    use picket_proto::ids::SiteId;
    use picket_proto::schedule::WeeklySchedule;
    let (_dir, mut store) = open();
    let (customer, _) = customer_with_owner(&mut store);
    store
        .create_org(
            org(2),
            OrgKind::Dealer,
            "Fix-It Alarms",
            &audit("org.create"),
            t(0),
        )
        .unwrap();
    store
        .set_dealer_of(customer, org(2), true, &audit("org.dealer"), t(1))
        .unwrap();
    let master = SiteId::from_uuid(uuid::Uuid::from_bytes([0x51; 16]));
    let yard = SiteId::from_uuid(uuid::Uuid::from_bytes([0x52; 16]));
    let week = WeeklySchedule::new(picket_proto::schedule::ScheduleSpec::empty(
        "Europe/Copenhagen",
    ))
    .unwrap();
    for site in [master, yard] {
        store
            .upsert_site(site, "site", &week, &audit("site.upsert"), t(1))
            .unwrap();
    }
    store
        .place_site(master, customer, None, &audit("site.place"), t(2))
        .unwrap();
    store
        .place_site(yard, customer, Some(master), &audit("site.place"), t(2))
        .unwrap();
    let d = store.directory().unwrap();
    assert_eq!(d.org_kind(customer), Some(OrgKind::Customer));
    assert_eq!(d.org_kind(org(2)), Some(OrgKind::Dealer));
    assert!(d.is_dealer_of(org(2), customer));
    assert!(!d.is_dealer_of(customer, org(2)));
    let entry = d.site(yard).unwrap();
    assert_eq!((entry.owner, entry.parent), (customer, Some(master)));
    assert_eq!(d.sharing(customer), Some(picket_access::Sharing::default()));
    assert_eq!(d.sites_of(customer).count(), 2);
    assert_eq!(d.customers_of(org(2)).collect::<Vec<_>>(), vec![customer]);
}
