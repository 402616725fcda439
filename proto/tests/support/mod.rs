//! Shared fixtures for picket-proto's tests and benchmarks: fixed ids, a
//! typical site schedule, and one sample message of every kind (the golden
//! vectors are these samples, encoded).
#![allow(dead_code, clippy::unwrap_used)]

use jiff::Timestamp;
use picket_proto::arming::ArmState;
use picket_proto::disarm::TemporaryDisarm;
use picket_proto::ids::{CameraId, ClipId, CommandId, EventId, SiteId, StreamId, UnitId};
use picket_proto::level::{SecurityLevel, SensorKind};
use picket_proto::message::*;
use picket_proto::relocation::{RelocationActor, RelocationState};
use picket_proto::schedule::{ArmedWindow, DayException, ScheduleSpec, Week, WeeklySchedule};

pub const UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b";
pub const OTHER_UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7c";

pub fn unit() -> UnitId {
    UNIT.parse().unwrap()
}

pub fn other_unit() -> UnitId {
    OTHER_UNIT.parse().unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn window(s: &str) -> ArmedWindow {
    s.parse().unwrap()
}

pub fn windows(list: &[&str]) -> Vec<ArmedWindow> {
    list.iter().map(|w| window(w)).collect()
}

/// A building site in Copenhagen: armed weeknights 18:00–07:00 and all
/// weekend, from Friday 18:00 to Monday 07:00; disarmed all day on
/// Christmas Eve.
pub fn site_schedule() -> WeeklySchedule {
    let night = windows(&["18:00-07:00"]);
    let mut spec = ScheduleSpec::empty("Europe/Copenhagen");
    spec.week = Week {
        monday: windows(&["00:00-07:00", "18:00-07:00"]),
        tuesday: night.clone(),
        wednesday: night.clone(),
        thursday: night.clone(),
        friday: windows(&["18:00-24:00"]),
        saturday: windows(&["00:00-24:00"]),
        sunday: windows(&["00:00-24:00"]),
    };
    spec.set_exception("2026-12-24".parse().unwrap(), DayException::DisarmedAllDay);
    WeeklySchedule::new(spec).unwrap()
}

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

pub fn sample_event() -> Event {
    Event {
        id: id::<EventId>("019abcde00017000800000000000a001"),
        seq: 41,
        at: ts("2026-11-22T22:15:03.250Z"),
        kind: EventKind::Alarm {
            sensor: "pir-1".into(),
            sensor_kind: SensorKind::Motion,
            camera: Some(id::<CameraId>("019abcde00017000800000000000c001")),
            state: ArmState::Armed,
        },
    }
}

pub fn sample_config() -> DesiredConfig {
    DesiredConfig {
        version: ConfigVersion(42),
        site: id::<SiteId>("019abcde00017000800000000000b001"),
        schedule: site_schedule(),
        level: SecurityLevel::standard(),
        disarm: Some(
            TemporaryDisarm::new(
                ts("2026-11-22T17:00Z"),
                ts("2026-11-22T20:30Z"),
                "Anna Holm (keyholder)",
            )
            .unwrap(),
        ),
        relocation: RelocationState::Active,
        relocation_supported: true,
        sensors: vec![SensorConfig {
            id: "pir-1".into(),
            kind: SensorKind::Motion,
            name: "North fence".into(),
        }],
        cameras: vec![CameraConfig {
            id: id("019abcde00017000800000000000c001"),
            name: "North".into(),
            source: "rtsp://192.0.2.10:554/stream1".into(),
        }],
        clips: ClipSettings::default(),
    }
}

/// One envelope of every body kind, by name: the golden vectors.
pub fn samples() -> Vec<(&'static str, Envelope)> {
    let unit = unit();
    let at = ts("2026-11-22T22:15:03.500Z");
    let env = |body| Envelope::new(unit, at, body);
    let camera: CameraId = id("019abcde00017000800000000000c001");
    vec![
        ("event_alarm", env(Body::Event(sample_event()))),
        (
            "event_relocation",
            env(Body::Event(Event {
                id: id("019abcde00017000800000000000a002"),
                seq: 42,
                at: ts("2026-11-22T09:00Z"),
                kind: EventKind::RelocationChanged {
                    from: RelocationState::Active,
                    to: RelocationState::Relocating,
                    by: RelocationActor::Customer,
                },
            })),
        ),
        (
            "event_tamper_restored",
            env(Body::Event(Event {
                id: id("019abcde00017000800000000000a003"),
                seq: 43,
                at: ts("2026-11-22T09:00:04Z"),
                kind: EventKind::TamperRestored {
                    sensor: "tamper-1".into(),
                },
            })),
        ),
        (
            "event_clip_discarded",
            env(Body::Event(Event {
                id: id("019abcde00017000800000000000a004"),
                seq: 44,
                at: ts("2026-11-22T09:01Z"),
                kind: EventKind::ClipDiscarded {
                    alarm: id("019abcde00017000800000000000a001"),
                    camera,
                    reason: "no complete frame was on disk after a power cut".into(),
                },
            })),
        ),
        (
            "heartbeat_over_quota",
            env(Body::Heartbeat(Heartbeat {
                seq: 1235,
                uptime_s: 86_405,
                health: Health {
                    disk_free_bytes: 120_000_000,
                    disk_total_bytes: 32_000_000_000,
                    temperature_c: None,
                    cameras: vec![CameraHealth {
                        camera,
                        status: CameraStatus::Lost,
                    }],
                    clock_skew_ms: None,
                    outbox_events: 3,
                    clips_pending: 12,
                    clips_over_quota_bytes: 7_340_032,
                },
            })),
        ),
        (
            "reported_state",
            env(Body::ReportedState(ReportedState {
                applied_config: Some(ConfigVersion(42)),
                config_error: None,
                state: ArmState::Armed,
                reason: "armed by schedule until 07:00".into(),
                changes_at: Some(ts("2026-11-23T06:00Z")),
                relocation: RelocationState::Active,
            })),
        ),
        (
            "command_ack",
            env(Body::CommandAck(CommandAck {
                command: id("019abcde00017000800000000000d001"),
                at,
                outcome: CommandOutcome::Expired,
            })),
        ),
        (
            "heartbeat",
            env(Body::Heartbeat(Heartbeat {
                seq: 1234,
                uptime_s: 86_400,
                health: Health {
                    disk_free_bytes: 12_000_000_000,
                    disk_total_bytes: 32_000_000_000,
                    temperature_c: Some(41.5),
                    cameras: vec![CameraHealth {
                        camera,
                        status: CameraStatus::Streaming,
                    }],
                    clock_skew_ms: Some(-12),
                    outbox_events: 0,
                    clips_pending: 1,
                    // Absent on the wire when 0: this vector predates it.
                    clips_over_quota_bytes: 0,
                },
            })),
        ),
        (
            "clip_notice",
            env(Body::ClipNotice(ClipNotice {
                clip: id::<ClipId>("019abcde00017000800000000000e001"),
                event: id("019abcde00017000800000000000a001"),
                camera,
                starts_at: ts("2026-11-22T22:14:52Z"),
                ends_at: ts("2026-11-22T22:15:23Z"),
                bytes: 3_456_789,
                sha256: Sha256([0xab; 32]),
            })),
        ),
        ("status_offline", env(Body::Status(UnitStatus::Offline))),
        (
            "desired_config",
            env(Body::DesiredConfig(Box::new(sample_config()))),
        ),
        (
            "command_live_view_start",
            env(Body::Command(Command {
                id: id::<CommandId>("019abcde00017000800000000000d002"),
                issued_at: at,
                expires_at: ts("2026-11-22T22:15:33.500Z"),
                action: CommandAction::LiveViewStart {
                    camera,
                    stream: id::<StreamId>("019abcde00017000800000000000f001"),
                    relay: "https://hub.example.net:8443/live/up".into(),
                },
            })),
        ),
        (
            "command_report_state",
            env(Body::Command(Command {
                id: id::<CommandId>("019abcde00017000800000000000d003"),
                issued_at: at,
                expires_at: ts("2026-11-22T22:16:03.500Z"),
                action: CommandAction::ReportState,
            })),
        ),
        (
            "event_ack",
            env(Body::EventAck(EventAck {
                events: vec![
                    id("019abcde00017000800000000000a001"),
                    id("019abcde00017000800000000000a002"),
                ],
            })),
        ),
    ]
}
