//! Many seeded runs of random steps by several operators on a few items,
//! with the clock sometimes stepping back, checking the queue's invariants
//! after every step. (A stand-in for a property test: proptest is not a
//! dependency of the hub.)

use super::tests::{at, item, user};
use super::*;

/// A small deterministic generator (64-bit LCG, top bits), so every failure
/// names a seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const ITEMS: u64 = 4;
const OPERATORS: u64 = 3;
const STEPS: usize = 80;

/// The instants in a status never go backwards, from receipt on.
fn instants_in_order(it: &Item) -> bool {
    let chain = match it.status {
        Status::Waiting => vec![],
        Status::Claimed { at, .. } => vec![at],
        Status::Acknowledged { claimed_at, at, .. } => vec![claimed_at, at],
        Status::Handled {
            claimed_at,
            acknowledged_at,
            at,
            ..
        } => vec![claimed_at, acknowledged_at, at],
    };
    let mut previous = it.received_at;
    chain.into_iter().all(|t| {
        let ok = previous <= t;
        previous = t;
        ok
    })
}

/// Runs one seed; returns how many items ended handled.
fn run(seed: u64) -> usize {
    let mut rng = Rng(seed);
    let mut items: Vec<Item> = (0..ITEMS)
        .map(|n| item(u128::from(n), 2, i64::try_from(n).unwrap()))
        .collect();
    let mut clock = 10_i64;
    for step in 0..STEPS {
        // Mostly forward, sometimes a step back of up to 5 s.
        clock += i64::try_from(rng.below(8)).unwrap() - 2;
        let now = at(clock);
        let operator = user(u128::from(rng.below(OPERATORS)));
        let index = usize::try_from(rng.below(ITEMS)).unwrap();
        let holds = held_by(&items, operator);
        let before = items[index].clone();
        let it = &mut items[index];
        let result = match rng.below(4) {
            0 => it.claim(operator, now, holds),
            1 => it.release(operator),
            2 => it.acknowledge(operator, now),
            _ => it.handle(operator, now, Outcome::FalseAlarm, " ok "),
        };
        let context = format!("seed {seed} step {step}: {result:?}");
        match result {
            Err(_) => assert_eq!(
                items[index], before,
                "{context}: refused step changed the item"
            ),
            Ok(()) => {
                assert!(!before.is_handled(), "{context}: a handled item changed");
                let (from, to) = (before.status.stage(), items[index].status.stage());
                let allowed = matches!(
                    (from, to),
                    (Stage::Waiting, Stage::Claimed)
                        | (Stage::Claimed, Stage::Waiting)
                        | (Stage::Claimed, Stage::Acknowledged)
                        | (Stage::Acknowledged, Stage::Handled)
                );
                assert!(allowed, "{context}: {from} -> {to}");
                if to != Stage::Waiting {
                    assert_eq!(actor(&items[index].status), Some(operator), "{context}");
                }
            }
        }
        for it in &items {
            assert!(instants_in_order(it), "{context}: {it:?}");
        }
        for op in 0..OPERATORS {
            let held = items
                .iter()
                .filter(|it| it.status.holder() == Some(user(u128::from(op))))
                .count();
            assert!(held <= 1, "{context}: operator {op} holds {held} items");
        }
    }
    items.iter().filter(|it| it.is_handled()).count()
}

/// Who moved the item to its current state (nobody for `Waiting`).
fn actor(status: &Status) -> Option<UserId> {
    match status {
        Status::Waiting => None,
        Status::Claimed { by, .. }
        | Status::Acknowledged { by, .. }
        | Status::Handled { by, .. } => Some(*by),
    }
}

#[test]
fn random_steps_keep_the_invariants() {
    let handled: usize = (0..500).map(run).sum();
    // The runs must get somewhere, or the invariants were checked on
    // nothing but refusals.
    assert!(handled > 250, "only {handled} items handled over all seeds");
}
