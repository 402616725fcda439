//! The agent's core in simulated time: it arms and disarms at the right
//! local instants (across a DST night), ends a temporary disarm on its own
//! clock with no hub, and turns sensor triggers (and a tamper input closing
//! again) into the right events.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use picket_agent::clock::{Clock, ManualClock};
use picket_agent::config::SyncConfig;
use picket_agent::core::Core;
use picket_agent::link::Outgoing;
use picket_agent::sensors::Trigger;
use picket_agent::store::Store;
use picket_proto::arming::ArmState;
use picket_proto::codec::encode;
use picket_proto::disarm::TemporaryDisarm;
use picket_proto::ids::{SiteId, UnitId};
use picket_proto::level::{SecurityLevel, SensorKind};
use picket_proto::message::*;
use picket_proto::relocation::RelocationState;
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};
use picket_proto::topic::{Topic, TopicKind};
use tokio::sync::{mpsc, watch};

fn unit() -> UnitId {
    "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b".parse().unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn config(version: u64, windows: &str, disarm: Option<TemporaryDisarm>) -> DesiredConfig {
    let mut spec = ScheduleSpec::empty("Europe/Copenhagen");
    spec.set_day(jiff::civil::Weekday::Monday, vec![windows.parse().unwrap()])
        .copy_day_to_week(jiff::civil::Weekday::Monday);
    DesiredConfig {
        version: ConfigVersion(version),
        site: SiteId::from_uuid(uuid::Uuid::from_u128(7)),
        schedule: WeeklySchedule::new(spec).unwrap(),
        level: SecurityLevel::standard(),
        disarm,
        relocation: RelocationState::Active,
        relocation_supported: true,
        sensors: vec![],
        cameras: vec![],
        clips: ClipSettings::default(),
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    core: Core,
    sent: mpsc::Receiver<Outgoing>,
    outputs: watch::Receiver<Option<picket_agent::hardware::Outputs>>,
}

async fn rig(start: &str) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("unit.db")).unwrap();
    let clock = ManualClock::new(ts(start));
    let (out_tx, sent) = mpsc::channel(1024);
    let (outputs_tx, outputs) = watch::channel(None);
    let mut core = Core::new(
        unit(),
        store,
        Arc::new(clock.clone()),
        out_tx,
        outputs_tx,
        SyncConfig::default(),
        dir.path().to_path_buf(),
    )
    .unwrap();
    core.tick().await;
    Rig {
        _dir: dir,
        clock,
        core,
        sent,
        outputs,
    }
}

impl Rig {
    async fn apply(&mut self, config: DesiredConfig) {
        let env = Envelope::new(
            unit(),
            self.clock.now(),
            Body::DesiredConfig(Box::new(config)),
        );
        let topic = Topic::new(unit(), TopicKind::Config).to_string();
        self.core.message(&topic, &encode(&env).unwrap()).await;
    }

    /// Runs the core until `until`, waking only when it asks to, and returns
    /// every arm-state change it recorded: (instant, state).
    async fn run_until(&mut self, until: &str) -> Vec<(Timestamp, ArmState)> {
        let until = ts(until);
        let mut wakes = 0;
        while let Some(wake) = self.core.next_wake().filter(|w| *w <= until) {
            self.clock.set(wake.max(self.clock.now()));
            self.core.tick().await;
            wakes += 1;
            assert!(wakes < 1000, "the core keeps waking up");
        }
        self.clock.set(until);
        self.core.tick().await;
        self.state_changes()
    }

    fn state_changes(&self) -> Vec<(Timestamp, ArmState)> {
        self.core
            .store()
            .outbox_after(0, 10_000)
            .unwrap()
            .into_iter()
            .filter_map(|row| match row.event.kind {
                EventKind::ArmStateChanged { state, .. } => Some((row.event.at, state)),
                _ => None,
            })
            .collect()
    }
}

fn local(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::get("Europe/Copenhagen").unwrap())
        .strftime("%m-%d %H:%M %Z")
        .to_string()
}

#[tokio::test]
async fn arms_and_disarms_at_the_right_local_instants_across_the_dst_night() {
    // Saturday 2026-03-28 12:00 CET; clocks jump 02:00 -> 03:00 on Sunday.
    let mut r = rig("2026-03-28T11:00Z").await;
    r.apply(config(1, "02:30-07:00", None)).await;
    let changes = r.run_until("2026-03-30T12:00Z").await;
    let seen: Vec<(String, ArmState)> = changes.iter().map(|(t, s)| (local(*t), *s)).collect();
    assert_eq!(
        seen,
        [
            ("03-28 12:00 CET".to_owned(), ArmState::Disarmed), // first evaluation, waiting -> schedule
            ("03-29 03:00 CEST".to_owned(), ArmState::Armed), // 02:30 does not exist: arms at the jump
            ("03-29 07:00 CEST".to_owned(), ArmState::Disarmed),
            ("03-30 02:30 CEST".to_owned(), ArmState::Armed),
            ("03-30 07:00 CEST".to_owned(), ArmState::Disarmed),
        ]
    );
    assert_eq!(r.outputs.borrow().unwrap().state, ArmState::Disarmed);
}

#[tokio::test]
async fn a_temporary_disarm_ends_on_the_units_own_clock_without_the_hub() {
    // Armed all day; a keyholder disarms 10:00-11:00 UTC. No link at all.
    let mut r = rig("2026-11-23T09:00Z").await;
    let disarm = TemporaryDisarm::new(
        ts("2026-11-23T10:00Z"),
        ts("2026-11-23T11:00Z"),
        "Anna (keyholder)",
    )
    .unwrap();
    r.apply(config(1, "00:00-24:00", Some(disarm))).await;
    let changes = r.run_until("2026-11-23T12:00Z").await;
    let tail: Vec<_> = changes.iter().skip(1).copied().collect();
    assert_eq!(
        tail,
        [
            (ts("2026-11-23T09:00Z"), ArmState::Armed),
            (ts("2026-11-23T10:00Z"), ArmState::Disarmed),
            (ts("2026-11-23T11:00Z"), ArmState::Armed),
        ]
    );
    assert!(
        r.sent.try_recv().is_err(),
        "nothing is sent while there is no link"
    );
}

#[tokio::test]
async fn motion_while_armed_is_an_alarm_and_sounds_the_siren_and_while_disarmed_is_activity() {
    let mut r = rig("2026-11-23T09:00Z").await; // 10:00 CET
    r.apply(config(1, "08:00-12:00", None)).await;
    r.core.tick().await;
    let pir = || Trigger::Sensor {
        sensor: "pir-1".into(),
        kind: SensorKind::Motion,
        camera: None,
    };
    r.core.trigger(pir()).await;
    assert!(r.outputs.borrow().unwrap().siren);
    r.run_until("2026-11-23T12:00Z").await; // 13:00 CET: disarmed, siren off
    assert!(!r.outputs.borrow().unwrap().siren);
    r.core.trigger(pir()).await;
    let kinds: Vec<&'static str> = r
        .core
        .store()
        .outbox_after(0, 100)
        .unwrap()
        .into_iter()
        .filter_map(|row| match row.event.kind {
            EventKind::Alarm { .. } => Some("alarm"),
            EventKind::Activity { .. } => Some("activity"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["alarm", "activity"]);
}

#[tokio::test]
async fn a_tamper_and_its_restore_are_recorded_in_order_armed_or_not() {
    let mut r = rig("2026-11-23T09:00Z").await; // 10:00 CET
    r.apply(config(1, "08:00-12:00", None)).await;
    r.core.tick().await;
    let lid = || "lid".to_owned();
    let tamper = || Trigger::Sensor {
        sensor: lid(),
        kind: SensorKind::Tamper,
        camera: None,
    };
    let restored = || Trigger::TamperRestored { sensor: lid() };
    assert!(r.core.trigger(tamper()).await);
    assert!(r.core.trigger(restored()).await);
    r.run_until("2026-11-23T12:00Z").await; // 13:00 CET: disarmed
    assert!(r.core.trigger(tamper()).await);
    assert!(r.core.trigger(restored()).await);
    let kinds: Vec<EventKind> = r
        .core
        .store()
        .outbox_after(0, 100)
        .unwrap()
        .into_iter()
        .map(|row| row.event.kind)
        .filter(|kind| !matches!(kind, EventKind::ArmStateChanged { .. }))
        .collect();
    let pair = [
        EventKind::Tamper { sensor: lid() },
        EventKind::TamperRestored { sensor: lid() },
    ];
    assert_eq!(kinds, [pair.clone(), pair].concat());
}

#[tokio::test]
async fn an_expired_command_is_refused_and_a_repeated_one_is_not_run_twice() {
    let mut r = rig("2026-11-23T09:00Z").await;
    r.core.connected().await;
    while r.sent.try_recv().is_ok() {}
    let topic = Topic::new(unit(), TopicKind::Command).to_string();
    let command = |id: u128, expires: &str| Command {
        id: picket_proto::ids::CommandId::from_uuid(uuid::Uuid::from_u128(id)),
        issued_at: ts("2026-11-23T08:59Z"),
        expires_at: ts(expires),
        action: CommandAction::ReportState,
    };
    let send = |c: Command| {
        encode(&Envelope::new(
            unit(),
            ts("2026-11-23T09:00Z"),
            Body::Command(c),
        ))
        .unwrap()
    };
    r.core
        .message(&topic, &send(command(1, "2026-11-23T08:59:30Z")))
        .await;
    r.core
        .message(&topic, &send(command(2, "2026-11-23T09:01Z")))
        .await;
    r.core
        .message(&topic, &send(command(2, "2026-11-23T09:01Z")))
        .await;
    let mut acks = Vec::new();
    let mut states = 0;
    while let Ok(out) = r.sent.try_recv() {
        match picket_proto::codec::decode(&out.payload).unwrap().body {
            Body::CommandAck(ack) => acks.push(ack.outcome),
            Body::ReportedState(_) => states += 1,
            _ => {}
        }
    }
    assert_eq!(
        acks,
        [
            CommandOutcome::Expired,
            CommandOutcome::Done,
            CommandOutcome::Done
        ]
    );
    assert_eq!(
        states, 1,
        "the repeated command was acknowledged, not run again"
    );
}

#[tokio::test]
async fn heartbeats_carry_the_data_disks_size_and_the_outbox_length() {
    let mut r = rig("2026-11-23T09:00Z").await;
    r.core.connected().await;
    let mut heartbeat = None;
    while let Ok(out) = r.sent.try_recv() {
        if let Body::Heartbeat(hb) = picket_proto::codec::decode(&out.payload).unwrap().body {
            heartbeat = Some(hb);
        }
    }
    let hb = heartbeat.expect("a heartbeat on connect");
    assert!(
        hb.health.disk_total_bytes > 0 && hb.health.disk_free_bytes <= hb.health.disk_total_bytes
    );
    assert_eq!(
        hb.health.outbox_events, 1,
        "the first state change waits for its ack"
    );
    assert_eq!(hb.seq, 1);
}

#[tokio::test]
async fn an_older_config_is_refused_and_reported() {
    let mut r = rig("2026-11-23T09:00Z").await;
    r.apply(config(5, "08:00-12:00", None)).await;
    r.core.connected().await;
    while r.sent.try_recv().is_ok() {}
    r.apply(config(4, "00:00-24:00", None)).await;
    let mut reported = None;
    while let Ok(out) = r.sent.try_recv() {
        if let Body::ReportedState(s) = picket_proto::codec::decode(&out.payload).unwrap().body {
            reported = Some(s);
        }
    }
    let s = reported.unwrap();
    assert_eq!(s.applied_config, Some(ConfigVersion(5)));
    assert!(s.config_error.unwrap().contains("older than the applied"));
    let _ = SignedDuration::ZERO;
}

#[tokio::test]
async fn camera_loss_and_return_are_events_and_every_cameras_state_is_in_the_heartbeat() {
    use picket_agent::clips::ClipNews;
    use picket_proto::ids::{CameraId, EventId};
    let mut r = rig("2026-11-23T09:00Z").await;
    let north = CameraId::from_uuid(uuid::Uuid::from_u128(0xc1));
    let gate = CameraId::from_uuid(uuid::Uuid::from_u128(0xc2));
    let news = |camera, status| ClipNews::Camera { camera, status };
    // Both stream (no event: that is expected), then north drops twice in
    // a row (one loss), comes back, and a clip of an alarm is discarded.
    r.core.clip_news(news(north, CameraStatus::Streaming)).await;
    r.core.clip_news(news(gate, CameraStatus::Streaming)).await;
    r.core.clip_news(news(north, CameraStatus::Lost)).await;
    r.core.clip_news(news(north, CameraStatus::Lost)).await;
    r.core.clip_news(news(north, CameraStatus::Streaming)).await;
    r.core.clip_news(news(gate, CameraStatus::Lost)).await;
    let alarm = EventId::from_uuid(uuid::Uuid::from_u128(0xa1));
    r.core
        .clip_news(ClipNews::Discarded {
            alarm,
            camera: gate,
            reason: "power cut".into(),
        })
        .await;
    r.core
        .clip_news(ClipNews::Delivery {
            pending: 3,
            over_quota_by: 4096,
        })
        .await;
    let kinds: Vec<EventKind> = r
        .core
        .store()
        .outbox_after(0, 100)
        .unwrap()
        .into_iter()
        .map(|row| row.event.kind)
        .filter(|kind| !matches!(kind, EventKind::ArmStateChanged { .. }))
        .collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::CameraLost { camera: north },
            EventKind::CameraRestored { camera: north },
            EventKind::CameraLost { camera: gate },
            EventKind::ClipDiscarded {
                alarm,
                camera: gate,
                reason: "power cut".into()
            },
        ]
    );
    r.core.connected().await;
    let mut heartbeat = None;
    while let Ok(out) = r.sent.try_recv() {
        if let Body::Heartbeat(hb) = picket_proto::codec::decode(&out.payload).unwrap().body {
            heartbeat = Some(hb);
        }
    }
    let health = heartbeat.expect("a heartbeat on connect").health;
    assert_eq!(
        health.cameras,
        vec![
            CameraHealth {
                camera: north,
                status: CameraStatus::Streaming
            },
            CameraHealth {
                camera: gate,
                status: CameraStatus::Lost
            },
        ]
    );
    assert_eq!(
        (health.clips_pending, health.clips_over_quota_bytes),
        (3, 4096)
    );
}

#[tokio::test]
async fn new_clip_settings_from_the_hub_reach_the_recorders_and_a_repeat_is_no_change() {
    let mut r = rig("2026-11-23T09:00Z").await;
    let mut settings = r.core.clip_settings();
    assert_eq!(*settings.borrow_and_update(), ClipSettings::default());
    r.apply(config(1, "08:00-12:00", None)).await;
    assert!(!settings.has_changed().unwrap(), "the defaults again");
    let mut shorter = config(2, "08:00-12:00", None);
    shorter.clips = ClipSettings {
        pre_roll_s: 3,
        post_roll_s: 5,
        max_clip_s: 30,
    };
    r.apply(shorter.clone()).await;
    assert!(settings.has_changed().unwrap());
    assert_eq!(*settings.borrow_and_update(), shorter.clips);
    // Out of range: the config is refused, the settings stay.
    let mut bad = config(3, "08:00-12:00", None);
    bad.clips.post_roll_s = 0;
    r.apply(bad).await;
    assert!(!settings.has_changed().unwrap());
}

#[tokio::test]
async fn live_view_commands_reach_the_cameras_only_for_a_camera_the_unit_has() {
    use picket_agent::core::LiveRequest;
    use picket_proto::ids::{CameraId, CommandId, StreamId};
    let mut r = rig("2026-11-23T09:00Z").await;
    r.core.connected().await;
    while r.sent.try_recv().is_ok() {}
    let north = CameraId::from_uuid(uuid::Uuid::from_u128(0xc1));
    let stream = StreamId::from_uuid(uuid::Uuid::from_u128(0x5));
    let topic = Topic::new(unit(), TopicKind::Command).to_string();
    let start = |n: u128, camera: CameraId, relay: &str| {
        let c = Command {
            id: CommandId::from_uuid(uuid::Uuid::from_u128(n)),
            issued_at: ts("2026-11-23T09:00Z"),
            expires_at: ts("2026-11-23T09:00:10Z"),
            action: CommandAction::LiveViewStart {
                camera,
                stream,
                relay: relay.into(),
            },
        };
        encode(&Envelope::new(
            unit(),
            ts("2026-11-23T09:00Z"),
            Body::Command(c),
        ))
        .unwrap()
    };
    // No cameras yet.
    r.core
        .message(&topic, &start(1, north, "https://hub:8443"))
        .await;
    let (tx, mut requests) = mpsc::unbounded_channel();
    r.core.enable_live(vec![north], tx);
    r.core
        .message(&topic, &start(2, north, "https://hub:8443"))
        .await;
    r.core
        .message(
            &topic,
            &start(
                3,
                CameraId::from_uuid(uuid::Uuid::from_u128(0xc9)),
                "https://hub:8443",
            ),
        )
        .await;
    r.core
        .message(&topic, &start(4, north, "http://elsewhere:80"))
        .await;
    let mut outcomes = Vec::new();
    while let Ok(out) = r.sent.try_recv() {
        if let Body::CommandAck(ack) = picket_proto::codec::decode(&out.payload).unwrap().body {
            outcomes.push(ack.outcome);
        }
    }
    assert!(matches!(&outcomes[0], CommandOutcome::Failed(why) if why.contains("no cameras")));
    assert_eq!(outcomes[1], CommandOutcome::Done);
    assert!(matches!(&outcomes[2], CommandOutcome::Failed(why) if why.contains("no camera")));
    assert!(matches!(&outcomes[3], CommandOutcome::Failed(why) if why.contains("https")));
    assert_eq!(
        requests.try_recv().unwrap(),
        LiveRequest::Start {
            camera: north,
            stream,
            relay: "https://hub:8443".into()
        }
    );
    assert!(requests.try_recv().is_err(), "only the one it has");
}
