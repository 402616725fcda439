//! Transmission figures an alarm-receiving centre reports (EN 50136-1):
//! how long alarms take from the unit to the hub, and how much of a period
//! a unit was connected. Pure: the caller passes what the store holds.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// Alarm delivery times over a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delivery {
    /// Alarms counted.
    pub count: usize,
    /// Mean, in milliseconds.
    pub mean_ms: f64,
    /// 95th percentile (nearest rank), in milliseconds.
    pub p95_ms: f64,
}

/// Mean and 95th percentile of `delays` (unit event time → hub commit),
/// or `None` without alarms. A negative delay (the unit's clock ahead of
/// the hub's) counts as zero: it says the clocks disagree, not that the
/// alarm arrived early.
pub fn delivery(delays: &mut [SignedDuration]) -> Option<Delivery> {
    if delays.is_empty() {
        return None;
    }
    for d in delays.iter_mut() {
        *d = (*d).max(SignedDuration::ZERO);
    }
    delays.sort_unstable();
    let n = delays.len();
    let total: f64 = delays.iter().map(|d| d.as_secs_f64() * 1000.0).sum();
    // Nearest rank: the value at rank ceil(0.95 × n), 1-based.
    let rank = (n * 95).div_ceil(100).max(1);
    Some(Delivery {
        count: n,
        mean_ms: total / n as f64,
        p95_ms: delays[rank - 1].as_secs_f64() * 1000.0,
    })
}

/// The share of `[from, to)` a unit was online, from its state at `from`
/// (`None`: unknown — counted as offline until the first change) and its
/// changes (instant, online) in time order. 0.0 to 1.0; `None` for an
/// empty period.
pub fn availability(
    at_start: Option<bool>,
    changes: &[(Timestamp, bool)],
    from: Timestamp,
    to: Timestamp,
) -> Option<f64> {
    if to <= from {
        return None;
    }
    let mut online = at_start.unwrap_or(false);
    let mut since = from;
    let mut up = SignedDuration::ZERO;
    for &(at, now_online) in changes {
        let at = at.clamp(from, to);
        if online {
            up += at.duration_since(since);
        }
        since = at;
        online = now_online;
    }
    if online {
        up += to.duration_since(since);
    }
    Some(up.as_secs_f64() / to.duration_since(from).as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn ms(v: i64) -> SignedDuration {
        SignedDuration::from_millis(v)
    }

    #[test]
    fn delivery_gives_mean_and_nearest_rank_p95() {
        let mut delays: Vec<SignedDuration> = (1..=20).rev().map(|n| ms(n * 100)).collect();
        let d = delivery(&mut delays).unwrap();
        assert_eq!(d.count, 20);
        assert_eq!(d.mean_ms, 1050.0);
        assert_eq!(d.p95_ms, 1900.0, "rank ceil(0.95 × 20) = 19");
        assert_eq!(delivery(&mut [ms(250)]).unwrap().p95_ms, 250.0);
        assert_eq!(delivery(&mut []), None);
    }

    #[test]
    fn a_unit_clock_ahead_of_the_hub_counts_as_zero_delay() {
        let d = delivery(&mut [ms(-500), ms(100)]).unwrap();
        assert_eq!(d.mean_ms, 50.0);
    }

    #[test]
    fn availability_adds_up_the_online_spells_inside_the_period() {
        // Online from before the period; off 10 s in, back 30 s in; period 100 s.
        let changes = [(t(10), false), (t(30), true)];
        assert_eq!(availability(Some(true), &changes, t(0), t(100)), Some(0.8));
        // Unknown at the start counts as offline until the first change.
        assert_eq!(
            availability(None, &[(t(50), true)], t(0), t(100)),
            Some(0.5)
        );
        // Changes outside the period are clamped to it.
        let around = [(t(-50), true), (t(150), false)];
        assert_eq!(availability(Some(false), &around, t(0), t(100)), Some(1.0));
        assert_eq!(availability(Some(false), &[], t(0), t(100)), Some(0.0));
        assert_eq!(availability(Some(true), &[], t(0), t(0)), None);
    }
}
