//! Playing a scenario against a real simulator, without real sleeps.

mod support;

use std::time::Duration;

use picket_proto::sim::SimMessage;
use picket_sim::scenario::{Clock, Player, Scenario, Summary, play};
use support::{Peer, UNIT, start, unit};

/// Records each delay and returns at once.
#[derive(Default)]
struct RecordingClock {
    slept: Vec<Duration>,
}

impl Clock for RecordingClock {
    fn sleep(&mut self, delay: Duration) -> impl Future<Output = ()> + Send {
        self.slept.push(delay);
        std::future::ready(())
    }
}

#[tokio::test]
async fn plays_every_round_with_scaled_delays() {
    let sim = start().await;
    let mut agent = Peer::agent(&sim, unit()).await;
    let scenario = Scenario::parse(&format!(
        r#"
[[step]]
after_s = 1.0
unit = "{UNIT}"
sensor = "pir"

[[step]]
after_s = 3.0
unit = "{UNIT}"
sensor = "power"
"#
    ))
    .unwrap();
    let expected: Vec<SimMessage> = scenario.steps().iter().map(|s| s.message.clone()).collect();

    let player = Player::new(scenario, 2.0, 2).unwrap();
    let mut clock = RecordingClock::default();
    let mut seen = Vec::new();
    let summary = play(player, &sim.socket, &mut clock, |step, result| {
        assert!(result.is_ok(), "{result:?}");
        seen.push((step.round, step.step));
    })
    .await;

    assert_eq!(
        summary,
        Summary {
            delivered: 4,
            failed: 0
        }
    );
    assert_eq!(seen, [(1, 1), (1, 2), (2, 1), (2, 2)]);
    let half = Duration::from_millis(500);
    let one_and_half = Duration::from_millis(1500);
    assert_eq!(clock.slept, [half, one_and_half, half, one_and_half]);
    for round in 0..2 {
        for message in &expected {
            assert_eq!(&agent.next_message().await, message, "round {round}");
        }
    }
}

#[tokio::test]
async fn undelivered_steps_are_counted_and_the_run_goes_on() {
    let sim = start().await;
    let scenario = Scenario::parse(&format!(
        "[[step]]\nafter_s = 0\nunit = \"{UNIT}\"\nsensor = \"door\"\n"
    ))
    .unwrap();
    let player = Player::new(scenario, 1.0, 3).unwrap();
    let mut reasons = Vec::new();
    let summary = play(
        player,
        &sim.socket,
        &mut RecordingClock::default(),
        |_, result| {
            reasons.push(result.as_ref().unwrap_err().to_string());
        },
    )
    .await;
    assert_eq!(summary.failed, 3);
    assert!(reasons[0].contains("is not connected"), "{reasons:?}");
}
