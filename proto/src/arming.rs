//! The arm-state engine: what state a unit is in at an instant, why, and
//! when that next changes.
//!
//! The same function runs on the unit (which enforces it) and in the hub
//! (which shows it), so the portal always says what the unit does.
//!
//! Precedence, strongest first:
//! 1. **Relocation**: while relocating or waiting for activation, monitoring
//!    is paused, whatever else is set.
//! 2. **Temporary disarm**: disarmed from its start until its end.
//! 3. **Security level**: a level may arm at all times or never.
//! 4. **Schedule**: otherwise the weekly schedule decides.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::disarm::TemporaryDisarm;
use crate::level::{LevelArming, SecurityLevel};
use crate::relocation::RelocationState;
use crate::schedule::WeeklySchedule;

/// The effective state of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ArmState {
    /// Sensors raise alarms.
    Armed,
    /// Sensors do not raise alarms (tamper and health are still reported).
    Disarmed,
    /// Monitoring is paused while the unit is relocated.
    Paused,
}

/// Everything the state depends on, besides the instant.
#[derive(Clone, Copy, Debug)]
pub struct ArmingInputs<'a> {
    /// The site's weekly schedule.
    pub schedule: &'a WeeklySchedule,
    /// The site's security level.
    pub level: &'a SecurityLevel,
    /// A temporary disarm, if one is set (past or future ones are ignored
    /// outside their span).
    pub disarm: Option<&'a TemporaryDisarm>,
    /// The unit's relocation state.
    pub relocation: RelocationState,
}

/// Why the unit is in its state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The schedule decides; `until` is when the schedule next changes.
    Schedule {
        /// When the schedule next changes, if ever.
        until: Option<Timestamp>,
    },
    /// A security level that overrides the schedule.
    SecurityLevel {
        /// The level's name.
        name: String,
        /// How it overrides (always or never armed).
        arming: LevelArming,
    },
    /// A temporary disarm.
    TemporaryDisarm {
        /// Who set it.
        by: String,
        /// When it ends.
        until: Timestamp,
    },
    /// Relocation pauses monitoring.
    Relocation(RelocationState),
}

/// The verdict at one instant.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The effective state.
    pub state: ArmState,
    /// Why.
    pub reason: Reason,
    /// The next instant at which the state differs, if any. The state holds
    /// from the evaluated instant up to (not including) this one.
    pub changes_at: Option<Timestamp>,
    /// The next instant at which the state *or its reason* may change (a
    /// disarm starting or ending, the schedule turning while a disarm
    /// holds). A unit re-evaluates then to report the new reason.
    pub revisit_at: Option<Timestamp>,
    at: Timestamp,
    zone: TimeZone,
}

impl PartialEq for Evaluation {
    fn eq(&self, other: &Evaluation) -> bool {
        self.state == other.state
            && self.reason == other.reason
            && self.changes_at == other.changes_at
    }
}

/// Evaluates the state at `at`.
pub fn evaluate(inputs: &ArmingInputs<'_>, at: Timestamp) -> Evaluation {
    let (state, reason, base_until) = state_and_reason(inputs, at);
    let reason = match reason {
        Reason::Schedule { .. } => Reason::Schedule { until: base_until },
        other => other,
    };
    let changes_at = next_change_from(inputs, at, state);
    let revisit_at = if state == ArmState::Paused {
        None
    } else {
        let disarm_edges = inputs
            .disarm
            .into_iter()
            .flat_map(|d| [d.from(), d.until()])
            .filter(|edge| *edge > at);
        let schedule_change = base(inputs, at).1;
        changes_at
            .into_iter()
            .chain(schedule_change)
            .chain(disarm_edges)
            .min()
    };
    Evaluation {
        state,
        reason,
        changes_at,
        revisit_at,
        at,
        zone: inputs.schedule.time_zone().clone(),
    }
}

/// The next instant after `at` at which the state differs from the state at
/// `at`; `None` if it never changes by itself.
pub fn next_change(inputs: &ArmingInputs<'_>, at: Timestamp) -> Option<Timestamp> {
    let (state, _, _) = state_and_reason(inputs, at);
    next_change_from(inputs, at, state)
}

/// The state ignoring relocation and disarm: level, then schedule. Also
/// returns when that base state next changes.
fn base(inputs: &ArmingInputs<'_>, at: Timestamp) -> (ArmState, Option<Timestamp>) {
    match inputs.level.arming {
        LevelArming::AlwaysArmed => (ArmState::Armed, None),
        LevelArming::NeverArmed => (ArmState::Disarmed, None),
        LevelArming::BySchedule => {
            let s = inputs.schedule.state_at(at);
            let state = if s.armed {
                ArmState::Armed
            } else {
                ArmState::Disarmed
            };
            (state, s.until)
        }
    }
}

fn state_and_reason(
    inputs: &ArmingInputs<'_>,
    at: Timestamp,
) -> (ArmState, Reason, Option<Timestamp>) {
    if !inputs.relocation.is_monitored() {
        return (
            ArmState::Paused,
            Reason::Relocation(inputs.relocation),
            None,
        );
    }
    if let Some(d) = inputs.disarm.filter(|d| d.is_active(at)) {
        let reason = Reason::TemporaryDisarm {
            by: d.by().to_owned(),
            until: d.until(),
        };
        return (ArmState::Disarmed, reason, None);
    }
    let (state, until) = base(inputs, at);
    let reason = match inputs.level.arming {
        LevelArming::BySchedule => Reason::Schedule { until },
        arming => Reason::SecurityLevel {
            name: inputs.level.name.clone(),
            arming,
        },
    };
    (state, reason, until)
}

fn state_only(inputs: &ArmingInputs<'_>, at: Timestamp) -> ArmState {
    if !inputs.relocation.is_monitored() {
        ArmState::Paused
    } else if inputs.disarm.is_some_and(|d| d.is_active(at)) {
        ArmState::Disarmed
    } else {
        base(inputs, at).0
    }
}

/// Walks the instants where something could change (schedule changes, the
/// disarm's start and end) until the state really differs. Each step moves
/// past one disarm boundary or one schedule change, so a handful suffice.
fn next_change_from(
    inputs: &ArmingInputs<'_>,
    at: Timestamp,
    state: ArmState,
) -> Option<Timestamp> {
    if state == ArmState::Paused {
        // Only a person (or the centre) ends relocation.
        return None;
    }
    let mut cursor = at;
    for _ in 0..8 {
        let candidate = match inputs.disarm {
            Some(d) if d.is_active(cursor) => Some(d.until()),
            disarm => {
                let schedule_change = base(inputs, cursor).1;
                let disarm_start = disarm.map(|d| d.from()).filter(|from| *from > cursor);
                match (schedule_change, disarm_start) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }?;
        if state_only(inputs, candidate) != state {
            return Some(candidate);
        }
        cursor = candidate;
    }
    None
}

impl Evaluation {
    /// The instant this evaluation is for.
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// The time zone times are shown in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.zone
    }

    /// `instant` as a person at the site would say it, relative to the
    /// evaluated instant: "21:30", "Tue 07:00" or "2026-12-24 07:00".
    pub fn local(&self, instant: Timestamp) -> String {
        let now = self.at.to_zoned(self.zone.clone());
        let then = instant.to_zoned(self.zone.clone());
        let days = (then.date() - now.date()).get_days();
        if days == 0 {
            then.strftime("%H:%M").to_string()
        } else if (1..=6).contains(&days) {
            then.strftime("%a %H:%M").to_string()
        } else {
            then.strftime("%Y-%m-%d %H:%M").to_string()
        }
    }
}

impl fmt::Display for Evaluation {
    /// The reason in words: "armed by schedule until 07:00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            ArmState::Armed => "armed",
            ArmState::Disarmed => "disarmed",
            ArmState::Paused => "paused",
        };
        match &self.reason {
            Reason::Schedule { until: Some(until) } => {
                write!(f, "{state} by schedule until {}", self.local(*until))
            }
            Reason::Schedule { until: None } => {
                write!(f, "{state} by schedule, with no change scheduled")
            }
            Reason::SecurityLevel { name, arming } => match arming {
                LevelArming::AlwaysArmed => {
                    write!(f, "armed at all times by security level \"{name}\"")
                }
                _ => write!(f, "disarmed: security level \"{name}\" never arms"),
            },
            Reason::TemporaryDisarm { by, until } => {
                write!(f, "disarmed by {by} until {}", self.local(*until))
            }
            Reason::Relocation(RelocationState::ActivationRequested) => f.write_str(
                "activation requested: monitoring paused until the monitoring centre activates the unit",
            ),
            Reason::Relocation(_) => f.write_str("relocating: monitoring paused"),
        }
    }
}
