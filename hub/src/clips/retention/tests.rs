use super::*;
use crate::clips::storage::{ClipStoreError, LocalDir};
use crate::clips::upload::{ClipKind, sha256};
use crate::store::testkit::{audit, t};
use crate::store::{ClipDeclaration, Incoming};
use axum::body::Bytes;
use jiff::SignedDuration;
use picket_proto::clock::ManualClock;
use picket_proto::ids::{CameraId, EventId, SiteId, UnitId};
use picket_proto::message::{Event, EventKind};
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};

fn site(n: u8) -> SiteId {
    SiteId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn unit(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([0x40 + n; 16]))
}

/// A clip of unit `n`'s alarm, complete (`done`) or half uploaded.
async fn clip(store: &mut Store, files: &dyn ClipStore, n: u8, done: bool) -> uuid::Uuid {
    let event = Event {
        id: EventId::v7(t(0), [n; 10]),
        seq: 1,
        at: t(0),
        kind: EventKind::Alarm {
            sensor: "pir-1".into(),
            sensor_kind: picket_proto::level::SensorKind::Motion,
            camera: None,
            state: picket_proto::arming::ArmState::Armed,
        },
    };
    let alarm = event.id;
    store
        .commit(
            &[Incoming::Event {
                unit: unit(n),
                event,
            }],
            t(0),
        )
        .unwrap();
    let (_, site, _) = store.event_origin(alarm).unwrap().unwrap();
    let id = uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(n) * 2 + u128::from(done),
    );
    let data = vec![n; 100];
    store
        .declare_clip(
            unit(n),
            site,
            &ClipDeclaration {
                id,
                event: alarm,
                camera: CameraId::from_uuid(uuid::Uuid::from_u128(0xca)),
                kind: ClipKind::Clip,
                size: 100,
                sha256: sha256(&data),
                started_at: None,
                ended_at: None,
            },
            t(0),
        )
        .unwrap();
    if done {
        files
            .append(id, 0, Bytes::from(data.clone()))
            .await
            .unwrap();
        files
            .finish(id, ClipKind::Clip, sha256(&data))
            .await
            .unwrap();
        store.complete_clip(id, t(0)).unwrap();
    } else {
        files
            .append(id, 0, Bytes::copy_from_slice(&data[..40]))
            .await
            .unwrap();
    }
    id
}

/// Whether the clip's file is still stored.
async fn stored(files: &dyn ClipStore, id: uuid::Uuid) -> bool {
    match files.size(id, ClipKind::Clip).await {
        Ok(_) => true,
        Err(ClipStoreError::NotFound { .. }) => false,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn clips_go_after_their_sites_retention_and_abandoned_uploads_after_a_week() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hub.db")).unwrap();
    let files = LocalDir::open(&dir.path().join("clips")).unwrap();
    let week = WeeklySchedule::new(ScheduleSpec::empty("Europe/Copenhagen")).unwrap();
    for (n, days) in [(1u8, 1u16), (2, 30)] {
        store
            .upsert_site(site(n), "s", &week, &audit("site"), t(0))
            .unwrap();
        store
            .assign_unit(unit(n), site(n), &audit("assign"), t(0))
            .unwrap();
        store
            .set_clip_retention(site(n), days, &audit("retention"), t(0))
            .unwrap();
    }
    assert_eq!(store.clip_retention(site(1)).unwrap(), Some(1));
    let short = clip(&mut store, &files, 1, true).await;
    let long = clip(&mut store, &files, 2, true).await;
    let abandoned = clip(&mut store, &files, 3, false).await;
    let store = Arc::new(Mutex::new(store));
    let clock = ManualClock::new(t(0) + SignedDuration::from_hours(23));
    assert_eq!(
        round(&store, &files, &clock).await.unwrap(),
        0,
        "not a day yet"
    );

    clock.set(t(0) + SignedDuration::from_hours(25));
    assert_eq!(round(&store, &files, &clock).await.unwrap(), 1);
    assert!(store.lock().unwrap().clip(short).unwrap().is_none());
    assert!(!stored(&files, short).await, "the file went too");
    assert!(!files.path(short, ClipKind::Clip).exists());
    assert!(stored(&files, long).await);

    clock.set(t(0) + SignedDuration::from_hours(24 * 8));
    assert_eq!(
        round(&store, &files, &clock).await.unwrap(),
        1,
        "the abandoned upload"
    );
    assert!(store.lock().unwrap().clip(abandoned).unwrap().is_none());
    assert_eq!(files.received(abandoned).await.unwrap(), 0);

    clock.set(t(0) + SignedDuration::from_hours(24 * 31));
    assert_eq!(round(&store, &files, &clock).await.unwrap(), 1);
    assert!(store.lock().unwrap().clip(long).unwrap().is_none());
    assert!(!stored(&files, long).await);
}
