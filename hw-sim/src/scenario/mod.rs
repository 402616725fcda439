//! Scripted scenarios: timed triggers from a TOML file.
//!
//! ```toml
//! [[step]]
//! after_s = 2.0                              # seconds after the previous step (or the start)
//! unit = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b"
//! sensor = "pir"                             # pir, door, tamper, power, panic, video
//! id = "pir-2"                               # optional sensor id (not for power)
//! restore = true                             # optional: power → mains restored,
//!                                            # tamper → tamper restored (closed again)
//! ```
//!
//! Three parts, so the timing is tested without sleeping:
//! [`Scenario::parse`] validates the file (errors name the step and its
//! line); a [`Player`] turns it, with a speed and a repeat count, into
//! [`PlannedStep`]s — pure, no clock; [`play`] waits on a [`Clock`] and
//! sends each step to the simulator.

mod file;
mod play;
mod player;

pub use file::{MAX_AFTER_S, Scenario, ScenarioStep};
pub use play::{Clock, Summary, TokioClock, play};
pub use player::{MAX_SPEED, MIN_SPEED, PlannedStep, Player};

/// A scenario file, or how it is played, is invalid.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file is not TOML, or has unknown top-level keys.
    #[error("scenario is not valid: {0}")]
    File(String),
    /// A step is invalid.
    #[error("step {step} (line {line}): {reason}")]
    Step {
        /// The step's number, from 1.
        step: usize,
        /// The line its `[[step]]` table starts on, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The file has no steps.
    #[error("scenario has no steps: add [[step]] tables")]
    Empty,
    /// The speed is out of range.
    #[error("speed must be between {MIN_SPEED} and {MAX_SPEED}, not {0}")]
    Speed(f64),
    /// The repeat count is zero.
    #[error("repeat must be at least 1")]
    Repeat,
}
