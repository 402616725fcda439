//! The timeline of states a unit will enforce: every change of state in a
//! period, with its reason — what an installer checks before leaving a site.

use jiff::Timestamp;
use picket_proto::arming::{ArmState, ArmingInputs, Reason, evaluate};

/// Never list more changes than this.
pub const MAX_ENTRIES: usize = 1000;

/// One stretch of constant state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    /// When the stretch starts (the period's start for the first one).
    pub from: Timestamp,
    /// The state.
    pub state: ArmState,
    /// Why, in words, as of `from`.
    pub reason: String,
    /// When it ends, if within the period.
    pub until: Option<Timestamp>,
}

/// The stretches of constant state and reason from `from` up to `to`.
pub fn timeline(inputs: &ArmingInputs<'_>, from: Timestamp, to: Timestamp) -> Vec<PlanEntry> {
    let mut out: Vec<PlanEntry> = Vec::new();
    let mut last: Option<(ArmState, Reason)> = None;
    let mut at = from;
    while at < to && out.len() < MAX_ENTRIES {
        let e = evaluate(inputs, at);
        let same = last
            .as_ref()
            .is_some_and(|(state, reason)| *state == e.state && *reason == e.reason);
        if !same {
            if let Some(prev) = out.last_mut() {
                prev.until = Some(at);
            }
            out.push(PlanEntry {
                from: at,
                state: e.state,
                reason: e.to_string(),
                until: None,
            });
            last = Some((e.state, e.reason.clone()));
        }
        match e.revisit_at.filter(|next| *next < to) {
            Some(next) => at = next,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arming_file;

    #[test]
    fn the_demo_week_alternates_and_covers_the_period() {
        let s = arming_file::parse(arming_file::DEMO).unwrap();
        let inputs = ArmingInputs {
            schedule: &s.schedule,
            level: &s.level,
            disarm: s.disarm.as_ref(),
            relocation: s.relocation,
        };
        let from: Timestamp = "2026-03-23T00:00Z".parse().unwrap();
        let to: Timestamp = "2026-03-31T00:00Z".parse().unwrap();
        let plan = timeline(&inputs, from, to);
        assert_eq!(plan[0].from, from);
        for pair in plan.windows(2) {
            assert_eq!(pair[0].until, Some(pair[1].from), "contiguous");
            assert!(
                pair[0].state != pair[1].state || pair[0].reason != pair[1].reason,
                "each entry is a change: {pair:?}"
            );
        }
        assert_eq!(plan.last().unwrap().until, None);
        // Tuesday's keyholder disarm shows from its start (18:00 CET, when
        // the schedule would have armed) to its end.
        let disarm = plan
            .iter()
            .find(|e| e.reason == "disarmed by Anna Holm (keyholder) until 21:30")
            .unwrap();
        assert_eq!(disarm.from, "2026-03-24T17:00Z".parse().unwrap());
        assert_eq!(disarm.until, Some("2026-03-24T20:30Z".parse().unwrap()));
        // Sunday's DST jump does not break the weekend: armed from Friday
        // 18:00 CET to Monday 07:00 CEST in one stretch.
        let weekend = plan
            .iter()
            .find(|e| e.from == "2026-03-27T17:00Z".parse().unwrap())
            .unwrap();
        assert_eq!(weekend.state, ArmState::Armed);
        assert_eq!(weekend.until, Some("2026-03-30T05:00Z".parse().unwrap()));
    }
}
