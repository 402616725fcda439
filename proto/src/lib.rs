//! `picket-proto`: everything a Picket unit and the Picket hub must agree on.
//!
//! This crate is pure: no IO, no async runtime, no clock and no randomness.
//! Time and random bits come in as arguments, so every rule here is tested in
//! simulated time and runs the same on a unit and in the hub.
//!
//! Where to start reading:
//! - [`arming`]: the arm-state engine — state, reason and next change at an
//!   instant, from the [`schedule`], the [`level`], a [`disarm`] and the
//!   [`relocation`] state.
//! - [`schedule`]: weekly schedules in a site's time zone, with the DST rule
//!   in [`schedule::local_time`].
//! - [`topic`] and [`message`]: the MQTT topic scheme and the messages on it;
//!   [`codec`]: their CBOR encoding with size, version and unit checks.
//! - [`ids`]: typed identifiers.

// Nothing from the network may panic us: no unwraps outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod arming;
pub mod backoff;
pub mod clock;
pub mod codec;
pub mod disarm;
pub mod ids;
pub mod level;
pub mod media;
pub mod message;
pub mod position;
pub mod relocation;
pub mod schedule;
pub mod sim;
pub mod topic;

/// Any error this crate returns, for callers that want one type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A message could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
    /// A topic is not ours or not the expected unit's.
    #[error(transparent)]
    Topic(#[from] topic::TopicError),
    /// A schedule is invalid.
    #[error(transparent)]
    Schedule(#[from] schedule::ScheduleError),
    /// A temporary disarm is invalid.
    #[error(transparent)]
    Disarm(#[from] disarm::DisarmError),
    /// A relocation move is not allowed.
    #[error(transparent)]
    Relocation(#[from] relocation::RelocationError),
    /// A command must not be carried out.
    #[error(transparent)]
    Command(#[from] message::CommandError),
    /// A desired config must be refused.
    #[error(transparent)]
    Config(#[from] message::ConfigError),
    /// An id did not parse.
    #[error(transparent)]
    Id(#[from] ids::IdError),
    /// A time of day did not parse.
    #[error(transparent)]
    TimeOfDay(#[from] schedule::TimeOfDayError),
}
