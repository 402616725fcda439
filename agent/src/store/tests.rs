use super::*;
use picket_proto::message::PowerEvent;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("unit.db")).unwrap();
    (dir, store)
}

#[test]
fn events_get_increasing_seq_that_survives_acks_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unit.db");
    let first = {
        let mut store = Store::open(&path).unwrap();
        let a = store
            .record(
                EventKind::Power(PowerEvent::MainsLost),
                at("2026-11-22T22:00Z"),
                [1; 10],
            )
            .unwrap();
        let b = store
            .record(
                EventKind::Power(PowerEvent::MainsRestored),
                at("2026-11-22T22:01Z"),
                [2; 10],
            )
            .unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        store.acknowledge(&[a.id, b.id]).unwrap();
        assert_eq!(store.outbox_len().unwrap(), 0);
        b
    };
    let mut store = Store::open(&path).unwrap();
    let c = store
        .record(
            EventKind::Power(PowerEvent::BatteryLow),
            at("2026-11-22T22:02Z"),
            [3; 10],
        )
        .unwrap();
    assert_eq!(
        c.seq,
        first.seq + 1,
        "seq continues after acks and a restart"
    );
}

#[test]
fn the_outbox_reads_in_order_and_deletes_only_acknowledged_events() {
    let (_dir, mut store) = open();
    let events: Vec<Event> = (0..5)
        .map(|i| {
            store
                .record(
                    EventKind::Power(PowerEvent::MainsLost),
                    at("2026-11-22T22:00Z"),
                    [i; 10],
                )
                .unwrap()
        })
        .collect();
    let rows = store.outbox_after(0, 3).unwrap();
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(rows[0].event, events[0]);
    let removed = store
        .acknowledge(&[
            events[1].id,
            events[3].id,
            EventId::v7(at("2026-01-01T00:00Z"), [9; 10]),
        ])
        .unwrap();
    assert_eq!(removed, [2, 4], "an unknown id is ignored");
    let rows = store.outbox_after(0, 10).unwrap();
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 3, 5]);
    assert_eq!(store.outbox_row(3).unwrap().unwrap().event, events[2]);
    assert_eq!(store.outbox_row(2).unwrap(), None);
}

#[test]
fn commands_are_remembered_and_old_ones_forgotten() {
    let (_dir, mut store) = open();
    let id = CommandId::v7(at("2026-11-22T22:00Z"), [1; 10]);
    assert_eq!(store.command_outcome(id).unwrap(), None);
    store
        .remember_command(id, at("2026-11-22T22:00Z"), &CommandOutcome::Done)
        .unwrap();
    assert_eq!(
        store.command_outcome(id).unwrap(),
        Some(CommandOutcome::Done)
    );
    let later = CommandId::v7(at("2026-12-01T00:00Z"), [2; 10]);
    store
        .remember_command(later, at("2026-12-01T00:00Z"), &CommandOutcome::Expired)
        .unwrap();
    assert_eq!(
        store.command_outcome(id).unwrap(),
        None,
        "older than 7 days"
    );
}

#[test]
fn a_clip_is_indexed_before_its_file_and_moves_writing_ready_uploaded() {
    use crate::clips::quota::ClipState;
    let (dir, mut store) = open();
    let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    let thumb = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);
    let event = EventId::from_uuid(uuid::Uuid::from_u128(9));
    let camera = picket_proto::ids::CameraId::from_uuid(uuid::Uuid::from_u128(0xca));
    let t = at("2026-11-23T09:00:00Z");
    store.clip_begin(id, event, camera, "clip", t).unwrap();
    store
        .clip_begin(thumb, event, camera, "thumbnail", t)
        .unwrap();
    assert_eq!(store.clips_in(ClipState::Writing).unwrap().len(), 2);
    store.clip_ready(thumb, 20_000, Some(t), Some(t)).unwrap();
    store
        .clip_ready(id, 4_000_000, Some(t), Some(at("2026-11-23T09:00:30Z")))
        .unwrap();
    let ready = store.clips_in(ClipState::Ready).unwrap();
    assert_eq!(
        ready.iter().map(|c| c.id).collect::<Vec<_>>(),
        [thumb, id],
        "the thumbnail goes first"
    );
    assert_eq!(ready[1].bytes, 4_000_000);
    // A restart keeps the index.
    drop(store);
    let mut store = Store::open(&dir.path().join("unit.db")).unwrap();
    store.clip_uploaded(thumb, t).unwrap();
    store.clip_uploaded(id, t).unwrap();
    // Only a ready clip can be marked uploaded; a writing one cannot.
    let late = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003);
    store.clip_begin(late, event, camera, "clip", t).unwrap();
    store.clip_uploaded(late, t).unwrap();
    assert_eq!(store.clips_in(ClipState::Uploaded).unwrap().len(), 2);
    assert_eq!(store.clips_in(ClipState::Writing).unwrap()[0].id, late);
    store.clip_forget(thumb).unwrap();
    assert_eq!(store.clips().unwrap().len(), 2);
}
