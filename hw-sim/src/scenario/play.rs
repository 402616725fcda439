//! Playing a scenario against a running simulator: the only part that
//! waits, and it waits on a [`Clock`] the caller chooses.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use super::{PlannedStep, Player};
use crate::{Error, control};

/// Something that can wait. [`TokioClock`] really sleeps; a test's clock
/// records the delay and returns at once.
pub trait Clock {
    /// Waits for `delay`.
    fn sleep(&mut self, delay: Duration) -> impl Future<Output = ()> + Send;
}

/// Real time, through `tokio::time::sleep`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn sleep(&mut self, delay: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(delay)
    }
}

/// How a run went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Steps the simulator delivered.
    pub delivered: usize,
    /// Steps it did not.
    pub failed: usize,
}

/// Plays every step of `player`: waits its delay on `clock`, sends it to
/// the simulator at `socket` (one connection per step, so a restarted
/// simulator is picked up), and tells `on_step` how it went. A step that
/// is not delivered does not stop the run; the [`Summary`] counts it.
pub async fn play(
    player: Player,
    socket: &Path,
    clock: &mut impl Clock,
    mut on_step: impl FnMut(&PlannedStep, &Result<(), Error>),
) -> Summary {
    let mut summary = Summary::default();
    for step in player {
        clock.sleep(step.delay).await;
        let result = control::trigger(socket, step.message.clone()).await;
        match &result {
            Ok(()) => summary.delivered += 1,
            Err(_) => summary.failed += 1,
        }
        on_step(&step, &result);
    }
    summary
}
