//! The pure part of playing a scenario: which message when. No clock.

use std::time::Duration;

use picket_proto::sim::SimMessage;

use super::{Scenario, ScenarioError};

/// The slowest allowed speed (1000× slower than written).
pub const MIN_SPEED: f64 = 0.001;
/// The fastest allowed speed (1000× faster than written).
pub const MAX_SPEED: f64 = 1000.0;

/// One step to play: wait `delay` after the previous one, then send
/// `message`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedStep {
    /// Which pass over the scenario, from 1.
    pub round: u32,
    /// How many passes in all.
    pub rounds: u32,
    /// The step's number in the file, from 1.
    pub step: usize,
    /// How many steps the file has.
    pub steps: usize,
    /// How long to wait first, already scaled by the speed.
    pub delay: Duration,
    /// What to send.
    pub message: SimMessage,
}

/// Iterates over the steps of a scenario `repeat` times, with delays
/// divided by `speed` (2.0 plays twice as fast). The first step of a new
/// round waits its own `after_s` after the last step of the previous one.
#[derive(Clone, Debug)]
pub struct Player {
    scenario: Scenario,
    speed: f64,
    rounds: u32,
    /// The next step to yield, counting across rounds from 0.
    next: usize,
}

impl Player {
    /// A player for `scenario` at `speed` (between [`MIN_SPEED`] and
    /// [`MAX_SPEED`]), `repeat` times (at least once).
    pub fn new(scenario: Scenario, speed: f64, repeat: u32) -> Result<Player, ScenarioError> {
        if !(MIN_SPEED..=MAX_SPEED).contains(&speed) {
            return Err(ScenarioError::Speed(speed));
        }
        if repeat == 0 {
            return Err(ScenarioError::Repeat);
        }
        Ok(Player {
            scenario,
            speed,
            rounds: repeat,
            next: 0,
        })
    }

    /// The whole run's length at this speed, summing every delay.
    pub fn total_duration(&self) -> Duration {
        self.clone().map(|s| s.delay).sum()
    }
}

impl Iterator for Player {
    type Item = PlannedStep;

    fn next(&mut self) -> Option<PlannedStep> {
        let steps = self.scenario.steps();
        if steps.is_empty() {
            return None;
        }
        let round = self.next / steps.len();
        let index = self.next % steps.len();
        if round >= self.rounds as usize {
            return None;
        }
        let step = steps.get(index)?;
        self.next += 1;
        // after_s ≤ MAX_AFTER_S and speed ≥ MIN_SPEED keep this finite and
        // far below Duration's range.
        let delay = Duration::try_from_secs_f64(step.after_s / self.speed).unwrap_or(Duration::MAX);
        Some(PlannedStep {
            round: u32::try_from(round + 1).unwrap_or(u32::MAX),
            rounds: self.rounds,
            step: index + 1,
            steps: steps.len(),
            delay,
            message: step.message.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b";

    fn scenario(delays: &[f64]) -> Scenario {
        let text: String = delays
            .iter()
            .map(|d| format!("[[step]]\nafter_s = {d:?}\nunit = \"{UNIT}\"\nsensor = \"pir\"\n"))
            .collect();
        Scenario::parse(&text).unwrap()
    }

    fn delays(player: Player) -> Vec<Duration> {
        player.map(|s| s.delay).collect()
    }

    #[test]
    fn yields_delays_as_written_at_speed_one() {
        let player = Player::new(scenario(&[0.0, 2.0, 0.5]), 1.0, 1).unwrap();
        assert_eq!(
            delays(player),
            [
                Duration::ZERO,
                Duration::from_secs(2),
                Duration::from_millis(500)
            ]
        );
    }

    #[test]
    fn speed_scales_every_delay() {
        let fast = Player::new(scenario(&[1.0, 3.0]), 2.0, 1).unwrap();
        assert_eq!(
            delays(fast),
            [Duration::from_millis(500), Duration::from_millis(1500)]
        );
        let slow = Player::new(scenario(&[1.0, 3.0]), 0.5, 1).unwrap();
        assert_eq!(slow.total_duration(), Duration::from_secs(8));
    }

    #[test]
    fn repeat_plays_rounds_in_order() {
        let player = Player::new(scenario(&[1.0, 2.0]), 4.0, 3).unwrap();
        let planned: Vec<(u32, usize, Duration)> =
            player.map(|s| (s.round, s.step, s.delay)).collect();
        let quarter = Duration::from_millis(250);
        let half = Duration::from_millis(500);
        assert_eq!(
            planned,
            [
                (1, 1, quarter),
                (1, 2, half),
                (2, 1, quarter),
                (2, 2, half),
                (3, 1, quarter),
                (3, 2, half)
            ]
        );
    }

    #[test]
    fn refuses_bad_speed_and_repeat() {
        for speed in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e6] {
            assert!(matches!(
                Player::new(scenario(&[1.0]), speed, 1),
                Err(ScenarioError::Speed(_))
            ));
        }
        assert_eq!(
            Player::new(scenario(&[1.0]), 1.0, 0).unwrap_err(),
            ScenarioError::Repeat
        );
    }
}
