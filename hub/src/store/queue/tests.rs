use super::*;
use crate::centre::queue::Outcome;
use crate::store::Incoming;
use crate::store::testkit::{audit, t};
use jiff::SignedDuration;
use picket_proto::arming::ArmState;
use picket_proto::ids::UserId;
use picket_proto::level::{SecurityLevel, SensorKind};
use picket_proto::message::{Event, EventKind};
use picket_proto::relocation::RelocationState;
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};

fn unit(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn site() -> SiteId {
    SiteId::from_uuid(uuid::Uuid::from_bytes([0x51; 16]))
}

fn event(n: u8, kind: EventKind) -> Event {
    Event {
        id: EventId::v7(t(0), [n; 10]),
        seq: u64::from(n),
        at: t(0),
        kind,
    }
}

fn alarm(n: u8) -> Event {
    event(
        n,
        EventKind::Alarm {
            sensor: "pir-1".into(),
            sensor_kind: SensorKind::Motion,
            camera: None,
            state: ArmState::Armed,
        },
    )
}

/// A store with a site at centre priority 2 and units 1 and 2 on it.
fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hub.db")).unwrap();
    let week = WeeklySchedule::new(ScheduleSpec::empty("Europe/Copenhagen")).unwrap();
    store
        .upsert_site(site(), "Quay", &week, &audit("site"), t(0))
        .unwrap();
    let level = SecurityLevel {
        centre_priority: 2,
        ..SecurityLevel::standard()
    };
    store
        .put_level_profile("p2", &level, &audit("level"), t(0))
        .unwrap();
    store
        .set_site_profile(site(), "p2", &audit("level"), t(0))
        .unwrap();
    for n in [1, 2, 3] {
        let seen = Incoming::Status {
            unit: unit(n),
            status: picket_proto::message::UnitStatus::Online,
        };
        store.commit(&[seen], t(0)).unwrap();
    }
    for n in [1, 2] {
        store
            .assign_unit(unit(n), site(), &audit("assign"), t(0))
            .unwrap();
    }
    (dir, store)
}

fn commit(store: &mut Store, unit: UnitId, event: Event, at: Timestamp) {
    store
        .commit(&[Incoming::Event { unit, event }], at)
        .unwrap();
}

#[test]
fn an_alarm_on_a_site_is_queued_at_once_and_a_lasting_tamper_after_the_debounce() {
    let (_dir, mut store) = open();
    commit(&mut store, unit(1), alarm(1), t(10));
    commit(&mut store, unit(1), alarm(1), t(11)); // redelivered
    commit(&mut store, unit(2), tamper(2, 0), t(12));
    commit(
        &mut store,
        unit(2),
        event(
            3,
            EventKind::Activity {
                sensor: "pir-1".into(),
                sensor_kind: SensorKind::Motion,
                state: ArmState::Disarmed,
            },
        ),
        t(13),
    );
    commit(&mut store, unit(3), alarm(4), t(14)); // no site
    let summary = |store: &Store| {
        store
            .open_queue()
            .unwrap()
            .iter()
            .map(|i| (i.id, i.kind, i.unit, i.priority, i.received_at))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        summary(&store),
        [(alarm(1).id, ItemKind::Alarm, unit(1), 2, t(10))]
    );
    // Not yet: the tamper has been open 9.999 s at the hub.
    let almost = t(22) - SignedDuration::from_millis(1);
    assert_eq!(store.raise_tamper_items(almost, DEBOUNCE).unwrap(), 0);
    assert_eq!(store.raise_tamper_items(t(22), DEBOUNCE).unwrap(), 1);
    assert_eq!(
        store.raise_tamper_items(t(40), DEBOUNCE).unwrap(),
        0,
        "once per spell"
    );
    assert_eq!(
        summary(&store),
        [
            (alarm(1).id, ItemKind::Alarm, unit(1), 2, t(10)),
            (tamper(2, 0).id, ItemKind::Tamper, unit(2), 2, t(22)),
        ]
    );
    assert!(
        store
            .open_queue()
            .unwrap()
            .iter()
            .all(|i| i.status == Status::Waiting && i.site == site())
    );
}

const DEBOUNCE: SignedDuration = SignedDuration::from_secs(10);

/// A tamper event `n` at `s` seconds by the unit's clock.
fn tamper(n: u8, s: i64) -> Event {
    Event {
        at: t(s),
        ..event(
            n,
            EventKind::Tamper {
                sensor: "lid".into(),
            },
        )
    }
}

fn restored(n: u8, s: i64) -> Event {
    Event {
        at: t(s),
        ..event(
            n,
            EventKind::TamperRestored {
                sensor: "lid".into(),
            },
        )
    }
}

#[test]
fn a_tamper_restored_within_the_debounce_raises_nothing_and_closes_the_spell() {
    let (_dir, mut store) = open();
    commit(&mut store, unit(1), tamper(1, 0), t(0));
    commit(&mut store, unit(1), restored(2, 9), t(9));
    assert_eq!(store.raise_tamper_items(t(30), DEBOUNCE).unwrap(), 0);
    assert!(store.open_queue().unwrap().is_empty());
    assert_eq!(store.unit(unit(1)).unwrap().unwrap().tamper_since, None);
    // The next tamper starts a new spell, judged on its own.
    commit(&mut store, unit(1), tamper(3, 40), t(40));
    assert_eq!(store.raise_tamper_items(t(50), DEBOUNCE).unwrap(), 1);
    assert_eq!(store.open_queue().unwrap()[0].id, tamper(3, 40).id);
}

#[test]
fn a_long_tamper_delivered_late_with_its_restore_is_raised_by_the_units_clock() {
    let (_dir, mut store) = open();
    // Both reach the hub together after an outage: open 30 s on the unit.
    commit(&mut store, unit(1), tamper(1, 0), t(100));
    commit(&mut store, unit(1), restored(2, 30), t(100));
    assert_eq!(store.raise_tamper_items(t(100), DEBOUNCE).unwrap(), 1);
    assert_eq!(store.open_queue().unwrap()[0].kind, ItemKind::Tamper);
    assert_eq!(store.unit(unit(1)).unwrap().unwrap().tamper_since, None);
}

#[test]
fn repeated_tamper_while_open_is_one_spell_and_a_relocating_unit_raises_nothing() {
    let (_dir, mut store) = open();
    commit(&mut store, unit(1), tamper(1, 0), t(0));
    commit(&mut store, unit(1), tamper(2, 3), t(3));
    commit(&mut store, unit(1), tamper(3, 6), t(6));
    assert_eq!(store.raise_tamper_items(t(10), DEBOUNCE).unwrap(), 1);
    assert_eq!(
        store.open_queue().unwrap()[0].id,
        tamper(1, 0).id,
        "the first one"
    );
    store
        .set_relocation(
            unit(2),
            RelocationState::Relocating,
            None,
            &audit("r"),
            t(0),
        )
        .unwrap();
    commit(&mut store, unit(2), tamper(4, 0), t(0));
    assert_eq!(store.raise_tamper_items(t(60), DEBOUNCE).unwrap(), 0);
}

#[test]
fn a_unit_in_relocation_raises_nothing() {
    let (_dir, mut store) = open();
    store
        .set_relocation(
            unit(1),
            RelocationState::Relocating,
            None,
            &audit("relocate"),
            t(1),
        )
        .unwrap();
    commit(&mut store, unit(1), alarm(1), t(10));
    assert!(store.open_queue().unwrap().is_empty());
    assert_eq!(
        store.event_count(unit(1)).unwrap(),
        1,
        "the event itself is kept"
    );
}

#[test]
fn a_change_is_written_with_its_audit_entry_and_a_stale_one_is_a_conflict() {
    let (_dir, mut store) = open();
    commit(&mut store, unit(1), alarm(1), t(10));
    let read = store.queue_item(alarm(1).id).unwrap().unwrap();
    let (ann, bo) = (
        UserId::from_uuid(uuid::Uuid::from_bytes([0xa1; 16])),
        UserId::from_uuid(uuid::Uuid::from_bytes([0xb0; 16])),
    );
    let mut by_ann = read.clone();
    by_ann.claim(ann, t(20), None).unwrap();
    let mut by_bo = read.clone();
    by_bo.claim(bo, t(21), None).unwrap();
    store
        .update_queue_item(&read.status, &by_ann, &audit("queue.claim"), t(20))
        .unwrap();
    let late = store.update_queue_item(&read.status, &by_bo, &audit("queue.claim"), t(21));
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    assert_eq!(
        store.queue_item(read.id).unwrap().unwrap().status.holder(),
        Some(ann)
    );

    let mut done = by_ann.clone();
    done.acknowledge(ann, t(30)).unwrap();
    done.handle(ann, t(40), Outcome::FalseAlarm, "wind")
        .unwrap();
    store
        .update_queue_item(&by_ann.status, &done, &audit("queue.handle"), t(40))
        .unwrap();
    assert!(
        store.open_queue().unwrap().is_empty(),
        "handled items leave the queue"
    );
    assert_eq!(store.queue_item(read.id).unwrap().unwrap(), done);
    let actions: Vec<String> = store
        .audit_entries(None, None, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("queue"))
        .collect();
    assert_eq!(
        actions,
        ["queue.handle", "queue.claim"],
        "no entry for the refused claim"
    );
}

#[test]
fn alarms_are_listed_newest_first_with_their_handling_and_filtered() {
    use crate::store::AlarmFilter;
    let (_dir, mut store) = open();
    commit(&mut store, unit(1), alarm(1), t(10)); // at t(0) unit clock, seq 1
    let mut later = alarm(2);
    later.at = t(50);
    commit(&mut store, unit(2), later.clone(), t(51));
    commit(&mut store, unit(3), alarm(3), t(52)); // no site: never queued
    let ann = UserId::from_uuid(uuid::Uuid::from_bytes([0xa1; 16]));
    let read = store.queue_item(alarm(1).id).unwrap().unwrap();
    let mut done = read.clone();
    done.claim(ann, t(20), None).unwrap();
    done.acknowledge(ann, t(21)).unwrap();
    done.handle(ann, t(22), Outcome::Intruder, "police came")
        .unwrap();
    store
        .update_queue_item(&read.status, &done, &audit("queue.handle"), t(22))
        .unwrap();

    let all = |f: AlarmFilter| -> Vec<EventId> {
        store
            .alarms(&AlarmFilter { limit: 100, ..f })
            .unwrap()
            .into_iter()
            .map(|a| a.event.id)
            .collect()
    };
    let everything = store
        .alarms(&AlarmFilter {
            limit: 100,
            ..AlarmFilter::default()
        })
        .unwrap();
    assert_eq!(everything.len(), 3);
    assert_eq!(everything[0].event.id, later.id, "newest first");
    let handled = everything
        .iter()
        .find(|a| a.event.id == alarm(1).id)
        .unwrap();
    assert_eq!(handled.item.as_ref().unwrap().status, done.status);
    assert_eq!(handled.site, Some(site()));
    let unqueued = everything
        .iter()
        .find(|a| a.event.id == alarm(3).id)
        .unwrap();
    assert!(unqueued.item.is_none() && unqueued.site.is_none());

    assert_eq!(
        all(AlarmFilter {
            sites: Some(vec![site()]),
            ..Default::default()
        })
        .len(),
        2
    );
    assert!(
        all(AlarmFilter {
            sites: Some(vec![]),
            ..Default::default()
        })
        .is_empty()
    );
    assert_eq!(
        all(AlarmFilter {
            unit: Some(unit(2)),
            ..Default::default()
        }),
        [later.id]
    );
    assert_eq!(
        all(AlarmFilter {
            from: Some(t(50)),
            ..Default::default()
        }),
        [later.id]
    );
    assert_eq!(
        all(AlarmFilter {
            to: Some(t(50)),
            ..Default::default()
        })
        .len(),
        2,
        "to is exclusive"
    );
    assert_eq!(
        all(AlarmFilter {
            status: Some("handled".into()),
            ..Default::default()
        }),
        [alarm(1).id]
    );
    assert_eq!(
        all(AlarmFilter {
            status: Some("waiting".into()),
            ..Default::default()
        }),
        [later.id]
    );
    assert_eq!(
        all(AlarmFilter {
            status: Some("none".into()),
            ..Default::default()
        }),
        [alarm(3).id]
    );
    assert_eq!(
        all(AlarmFilter {
            outcome: Some("intruder".into()),
            ..Default::default()
        }),
        [alarm(1).id]
    );
    // Paging: after the first page's last alarm, the rest.
    let first_page = store
        .alarms(&AlarmFilter {
            limit: 1,
            ..AlarmFilter::default()
        })
        .unwrap();
    let last = &first_page[0];
    let rest = all(AlarmFilter {
        before: Some((last.event.at, last.event.id)),
        ..Default::default()
    });
    assert_eq!(rest.len(), 2);
    assert!(!rest.contains(&last.event.id));

    let items = store
        .queue_items_between(Some(&[site()]), t(10), t(51))
        .unwrap();
    assert_eq!(items, [done], "received in [from, to)");
}

#[test]
fn a_unit_offline_longer_than_the_debounce_raises_one_offline_item() {
    let (_dir, mut store) = open();
    let debounce = jiff::SignedDuration::from_secs(60);
    assert!(store.mark_offline(unit(1), t(100)).unwrap());
    assert_eq!(
        store.raise_offline_items(t(159), debounce).unwrap(),
        0,
        "a blip"
    );
    assert_eq!(store.raise_offline_items(t(160), debounce).unwrap(), 1);
    assert_eq!(
        store.raise_offline_items(t(200), debounce).unwrap(),
        0,
        "once"
    );
    let items = store.open_queue().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].kind, items[0].unit, items[0].priority),
        (ItemKind::Offline, unit(1), 3)
    );
    assert_eq!(items[0].received_at, t(160));
    // A unit that comes back within the debounce raises nothing.
    assert!(store.mark_offline(unit(2), t(300)).unwrap());
    store
        .commit(
            &[Incoming::Status {
                unit: unit(2),
                status: picket_proto::message::UnitStatus::Online,
            }],
            t(330),
        )
        .unwrap();
    assert_eq!(store.raise_offline_items(t(400), debounce).unwrap(), 0);
    // Once handled, a new spell raises a new item.
    let ann = UserId::from_uuid(uuid::Uuid::from_bytes([0xa1; 16]));
    let mut done = items[0].clone();
    done.claim(ann, t(210), None).unwrap();
    done.acknowledge(ann, t(211)).unwrap();
    done.handle(ann, t(212), Outcome::Technical, "router rebooted")
        .unwrap();
    store
        .update_queue_item(&items[0].status, &done, &audit("queue.handle"), t(212))
        .unwrap();
    assert_eq!(
        store.raise_offline_items(t(500), debounce).unwrap(),
        0,
        "handled while still down: not raised again in the same spell"
    );
    let online = Incoming::Status {
        unit: unit(1),
        status: picket_proto::message::UnitStatus::Online,
    };
    store.commit(&[online], t(600)).unwrap();
    assert!(store.mark_offline(unit(1), t(700)).unwrap());
    assert_eq!(store.raise_offline_items(t(759), debounce).unwrap(), 0);
    assert_eq!(
        store.raise_offline_items(t(760), debounce).unwrap(),
        1,
        "a new spell"
    );
}

#[test]
fn the_instant_report_cursor_skips_what_is_not_a_site_alarm_and_never_mails_history() {
    let (_dir, mut store) = open();
    commit(&mut store, unit(1), alarm(1), t(10)); // before the first look: history
    let (first, read_to) = store.alarms_to_report(10).unwrap();
    assert!(first.is_empty(), "history is not e-mailed");
    store.set_report_cursor(read_to).unwrap();
    commit(&mut store, unit(3), alarm(2), t(20)); // no site
    commit(&mut store, unit(2), alarm(3), t(21));
    let (new, read_to) = store.alarms_to_report(10).unwrap();
    assert_eq!(
        new.iter().map(|a| a.event.id).collect::<Vec<_>>(),
        [alarm(3).id]
    );
    store.set_report_cursor(read_to).unwrap();
    let (again, _) = store.alarms_to_report(10).unwrap();
    assert!(
        again.is_empty(),
        "the cursor passed the unit without a site too"
    );
}

#[test]
fn alarm_lists_over_many_sites_or_one_unit_take_their_own_plans_and_agree() {
    use crate::store::AlarmFilter;
    let (_dir, mut store) = open();
    for n in 1..=6u8 {
        let mut a = alarm(n);
        a.at = t(i64::from(n));
        commit(&mut store, unit(1 + n % 2), a, t(10 + i64::from(n)));
    }
    let ids = |f: AlarmFilter| -> Vec<EventId> {
        store
            .alarms(&AlarmFilter { limit: 4, ..f })
            .unwrap()
            .into_iter()
            .map(|a| a.event.id)
            .collect()
    };
    let newest: Vec<EventId> = [6, 5, 4, 3].map(|n| alarm(n).id).to_vec();
    // More sites than the few-sites plan takes: the walk by time.
    let many: Vec<SiteId> = (0..100u8)
        .map(|n| SiteId::from_uuid(uuid::Uuid::from_bytes([n; 16])))
        .chain([site()])
        .collect();
    assert_eq!(
        ids(AlarmFilter {
            sites: Some(many),
            ..Default::default()
        }),
        newest
    );
    assert_eq!(ids(AlarmFilter::default()), newest);
    assert_eq!(
        ids(AlarmFilter {
            unit: Some(unit(1)),
            ..Default::default()
        }),
        [6, 4, 2].map(|n| alarm(n).id).to_vec(),
        "one unit's, through its own index"
    );
    assert_eq!(
        ids(AlarmFilter {
            unit: Some(unit(2)),
            sites: Some(vec![site()]),
            ..Default::default()
        }),
        [5, 3, 1].map(|n| alarm(n).id).to_vec()
    );
}
