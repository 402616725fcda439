//! How fast and how often the unit uploads, without IO: a byte budget per
//! second (a token bucket), so clips share the uplink with the unit's MQTT
//! instead of filling it, and backoff after failed attempts. Instants are
//! arguments.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// A token bucket over bytes.
#[derive(Debug, Clone)]
pub struct Budget {
    rate: u64,
    burst: u64,
    tokens: f64,
    at: Option<Timestamp>,
}

impl Budget {
    /// `rate` bytes per second on average, at most `burst` at once.
    pub fn new(rate: u64, burst: u64) -> Budget {
        Budget {
            rate: rate.max(1),
            burst: burst.max(1),
            tokens: burst.max(1) as f64,
            at: None,
        }
    }

    fn refill(&mut self, now: Timestamp) {
        if let Some(at) = self.at {
            let elapsed = now.duration_since(at).as_secs_f64().max(0.0);
            self.tokens = (self.tokens + elapsed * self.rate as f64).min(self.burst as f64);
        }
        self.at = Some(now);
    }

    /// How long to wait at `now` before sending `bytes` (zero: send now).
    /// A chunk larger than the burst waits for a full bucket, then goes.
    pub fn wait_for(&mut self, bytes: u64, now: Timestamp) -> Duration {
        self.refill(now);
        let need = bytes.min(self.burst) as f64;
        if self.tokens >= need {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((need - self.tokens) / self.rate as f64)
    }

    /// Records `bytes` sent at `now`.
    pub fn spend(&mut self, bytes: u64, now: Timestamp) {
        self.refill(now);
        self.tokens -= bytes.min(self.burst) as f64;
    }
}

/// A stretch of failed attempts: wait longer after each, start over after a
/// success; after `give_up` failures in a row the upload is left for the
/// next round (the clip stays on disk).
#[derive(Debug, Clone, Copy, Default)]
pub struct Retry {
    backoff: picket_proto::backoff::Backoff,
    failures: u32,
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this long.
    RetryIn(Duration),
    /// Enough for now; try this clip again in a later round.
    GiveUp,
}

impl Retry {
    /// Failures in a row before giving up for this round.
    pub const GIVE_UP_AFTER: u32 = 6;

    /// An attempt failed; `random` picks the jitter.
    pub fn failed(&mut self, random: u16) -> AfterFailure {
        self.failures += 1;
        if self.failures >= Self::GIVE_UP_AFTER {
            return AfterFailure::GiveUp;
        }
        AfterFailure::RetryIn(self.backoff.next_delay(random))
    }

    /// An attempt made progress.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.backoff.reset();
    }
}

/// `d` as a signed duration (for adding to timestamps).
pub fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(1_800_000_000_000 + ms).unwrap()
    }

    #[test]
    fn the_budget_lets_a_burst_through_then_paces_to_the_rate() {
        let mut b = Budget::new(1_000_000, 2_000_000);
        assert_eq!(b.wait_for(1_000_000, t(0)), Duration::ZERO);
        b.spend(1_000_000, t(0));
        assert_eq!(b.wait_for(1_000_000, t(0)), Duration::ZERO);
        b.spend(1_000_000, t(0));
        assert_eq!(b.wait_for(1_000_000, t(0)), Duration::from_secs(1));
        assert_eq!(b.wait_for(1_000_000, t(500)), Duration::from_millis(500));
        assert_eq!(b.wait_for(1_000_000, t(1_000)), Duration::ZERO);
        // Over a long run, no more than the rate.
        let mut sent = 0u64;
        let mut now = 1_000i64;
        while now < 11_000 {
            let wait = b.wait_for(250_000, t(now));
            now += wait.as_millis() as i64;
            b.spend(250_000, t(now));
            sent += 250_000;
        }
        assert!(sent <= 10_000_000 + 2_000_000 + 250_000, "{sent}");
    }

    #[test]
    fn a_chunk_larger_than_the_burst_waits_for_a_full_bucket() {
        let mut b = Budget::new(100, 1_000);
        b.spend(1_000, t(0));
        assert_eq!(b.wait_for(5_000, t(0)), Duration::from_secs(10));
    }

    #[test]
    fn failures_back_off_then_give_up_and_progress_starts_over() {
        let mut r = Retry::default();
        let mut delays = Vec::new();
        for _ in 0..Retry::GIVE_UP_AFTER - 1 {
            match r.failed(u16::MAX / 2) {
                AfterFailure::RetryIn(d) => delays.push(d),
                AfterFailure::GiveUp => panic!("too early"),
            }
        }
        assert!(delays.windows(2).all(|w| w[0] < w[1]), "{delays:?}");
        assert_eq!(r.failed(0), AfterFailure::GiveUp);
        r.succeeded();
        assert!(
            matches!(r.failed(u16::MAX / 2), AfterFailure::RetryIn(d) if d < Duration::from_secs(1))
        );
    }
}
