//! Response and handling times, and their percentiles over a period.
//!
//! Response time runs from receipt to acknowledgement (how long a site
//! waited for someone to take charge); handling time from acknowledgement to
//! handling (how long the operator spent on it). Both come from the instants
//! an item's [`Status`] keeps.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::queue::{Item, Status};

impl Item {
    /// From receipt to acknowledgement; `None` until acknowledged.
    pub fn response_time(&self) -> Option<SignedDuration> {
        match self.status {
            Status::Acknowledged { at, .. } => Some(at.duration_since(self.received_at)),
            Status::Handled {
                acknowledged_at, ..
            } => Some(acknowledged_at.duration_since(self.received_at)),
            Status::Waiting | Status::Claimed { .. } => None,
        }
    }

    /// From acknowledgement to handling; `None` until handled.
    pub fn handling_time(&self) -> Option<SignedDuration> {
        match self.status {
            Status::Handled {
                acknowledged_at,
                at,
                ..
            } => Some(at.duration_since(acknowledged_at)),
            _ => None,
        }
    }
}

/// The median and 90th percentile of a set of durations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// How many durations there were.
    pub count: usize,
    /// The 50th percentile (nearest rank).
    pub median: SignedDuration,
    /// The 90th percentile (nearest rank).
    pub p90: SignedDuration,
}

/// The median and 90th percentile of `durations` by the nearest-rank
/// method: after sorting ascending, the p-th percentile is the value at
/// 1-based rank ⌈p/100 × n⌉. It is always one of the inputs (never an
/// interpolation), so "90 % of responses took at most this long" holds
/// exactly. Sorts `durations` in place; `None` when it is empty.
pub fn percentiles(durations: &mut [SignedDuration]) -> Option<Percentiles> {
    durations.sort_unstable();
    Some(Percentiles {
        count: durations.len(),
        median: nearest_rank(durations, 50)?,
        p90: nearest_rank(durations, 90)?,
    })
}

/// The value at rank ⌈percent/100 × n⌉ (1-based) of `sorted`, computed
/// without overflow; `None` when `sorted` is empty.
fn nearest_rank(sorted: &[SignedDuration], percent: usize) -> Option<SignedDuration> {
    let n = sorted.len();
    // ⌈p·n/100⌉ with n = 100q + r is p·q + ⌈p·r/100⌉.
    let rank = percent * (n / 100) + (percent * (n % 100)).div_ceil(100);
    sorted.get(rank.max(1) - 1).copied()
}

/// Response and handling time percentiles over a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TimesSummary {
    /// Over the items acknowledged so far; `None` when there are none.
    pub response: Option<Percentiles>,
    /// Over the items handled so far; `None` when there are none.
    pub handling: Option<Percentiles>,
}

/// Times of the items received in `[from, to)` (from inclusive, to
/// exclusive, so consecutive periods neither overlap nor leave gaps).
/// Items not yet acknowledged or handled count only towards what they
/// have.
pub fn summarise(items: &[Item], from: Timestamp, to: Timestamp) -> TimesSummary {
    let in_period = items
        .iter()
        .filter(|item| from <= item.received_at && item.received_at < to);
    let mut response = Vec::new();
    let mut handling = Vec::new();
    for item in in_period {
        response.extend(item.response_time());
        handling.extend(item.handling_time());
    }
    TimesSummary {
        response: percentiles(&mut response),
        handling: percentiles(&mut handling),
    }
}

#[cfg(test)]
mod tests;
