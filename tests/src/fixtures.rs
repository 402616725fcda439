//! Messages for end-to-end tests: valid envelopes of the kinds units and the
//! hub exchange, made now with fresh ids.

use jiff::{SignedDuration, Timestamp};
use picket_proto::arming::ArmState;
use picket_proto::codec::encode;
use picket_proto::ids::{CommandId, SiteId, UnitId};
use picket_proto::level::{SecurityLevel, SensorKind};
use picket_proto::message::{
    Body, ClipSettings, Command, CommandAction, ConfigVersion, DesiredConfig, Envelope, Event,
    EventKind, UnitStatus,
};
use picket_proto::relocation::RelocationState;
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};

use crate::harness::{fresh_bytes, new_event_id};

/// Now, to the millisecond (what the wire carries), so that a message
/// compares equal to itself after a round trip.
pub fn now_ms() -> Timestamp {
    Timestamp::from_millisecond(Timestamp::now().as_millisecond()).expect("now is in range")
}

/// An alarm event with sequence number `seq`, happening now.
pub fn alarm(seq: u64) -> Event {
    Event {
        id: new_event_id(),
        seq,
        at: now_ms(),
        kind: EventKind::Alarm {
            sensor: "pir-1".to_owned(),
            sensor_kind: SensorKind::Motion,
            camera: None,
            state: ArmState::Armed,
        },
    }
}

/// `body` from (or for) `unit`, sent now.
pub fn envelope(unit: UnitId, body: Body) -> Envelope {
    Envelope::new(unit, now_ms(), body)
}

/// `body` from (or for) `unit`, sent now, encoded.
pub fn encoded(unit: UnitId, body: Body) -> Vec<u8> {
    encode(&envelope(unit, body)).expect("encode envelope")
}

/// An encoded event envelope from `unit`.
pub fn event_payload(unit: UnitId, event: &Event) -> Vec<u8> {
    encoded(unit, Body::Event(event.clone()))
}

/// An encoded status envelope from `unit`.
pub fn status_payload(unit: UnitId, status: UnitStatus) -> Vec<u8> {
    encoded(unit, Body::Status(status))
}

/// A `report_state` command for `unit`, expiring in a minute.
pub fn command(unit: UnitId) -> Envelope {
    let now = now_ms();
    envelope(
        unit,
        Body::Command(Command {
            id: CommandId::v7(now, fresh_bytes()),
            issued_at: now,
            expires_at: now + SignedDuration::from_secs(60),
            action: CommandAction::ReportState,
        }),
    )
}

/// A minimal valid desired config for `unit` (empty schedule, standard
/// level), version `version`.
pub fn desired_config(unit: UnitId, version: u64) -> Envelope {
    let schedule = WeeklySchedule::new(ScheduleSpec::empty("Europe/Copenhagen"))
        .expect("an empty schedule is valid");
    envelope(
        unit,
        Body::DesiredConfig(Box::new(DesiredConfig {
            version: ConfigVersion(version),
            site: SiteId::v7(Timestamp::now(), fresh_bytes()),
            schedule,
            level: SecurityLevel::standard(),
            disarm: None,
            relocation: RelocationState::Active,
            relocation_supported: true,
            sensors: vec![],
            cameras: vec![],
            clips: ClipSettings::default(),
        })),
    )
}
