//! The unit's hardware: sensor inputs in, outputs (status LED, siren,
//! strobe) out, through one of two backends — `picket-sim` over a Unix
//! socket ([`sim`]) or Linux GPIO character devices ([`gpio`]).
//!
//! A backend runs as its own task: inputs go to the core on a channel, each
//! with a one-shot the core answers once the event is recorded durably;
//! outputs come from the core through a watch channel. A backend never
//! blocks the core.

pub mod gpio;
pub mod sim;

use tokio::sync::oneshot;

use crate::sensors::Trigger;

/// What the outputs show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outputs {
    /// Arm state (status LED).
    pub state: picket_proto::arming::ArmState,
    /// Siren on.
    pub siren: bool,
    /// Strobe on.
    pub strobe: bool,
}

/// A trigger for the core, and where the core says it has recorded it.
#[derive(Debug)]
pub struct Input {
    /// What happened.
    pub trigger: Trigger,
    /// Answered once the event is recorded durably.
    pub recorded: oneshot::Sender<()>,
}

pub use sim::spawn_sim;
