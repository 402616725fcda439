//! The reconnect backoff every unit uses: 0.5 s doubling to 30 s, ±25 %
//! jitter, so a fleet that lost the hub together does not come back in
//! lockstep. The jitter's randomness is an input (this crate reads no
//! entropy source).

use std::time::Duration;

/// Backoff state: how many attempts failed in a row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    attempt: u32,
}

/// The first delay.
pub const FIRST: Duration = Duration::from_millis(500);
/// The longest delay (before jitter).
pub const LONGEST: Duration = Duration::from_secs(30);

impl Backoff {
    /// A connection succeeded: start over.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before the next attempt; `random` (any value) picks the
    /// jitter within ±25 %.
    pub fn next_delay(&mut self, random: u16) -> Duration {
        let base_ms = (FIRST.as_millis() as u64) << self.attempt.min(6);
        let base_ms = base_ms.min(LONGEST.as_millis() as u64);
        self.attempt = self.attempt.saturating_add(1);
        let jitter = f64::from(random) / f64::from(u16::MAX) * 0.5 - 0.25;
        Duration::from_millis((base_ms as f64 * (1.0 + jitter)) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_thirty_seconds_within_the_jitter_and_resets() {
        let mut b = Backoff::default();
        assert_eq!(b.next_delay(u16::MAX / 2), Duration::from_millis(499));
        let mut last = Duration::ZERO;
        for _ in 0..20 {
            last = b.next_delay(u16::MAX / 2);
        }
        assert!(
            last >= Duration::from_millis(29_900) && last <= LONGEST,
            "{last:?}"
        );
        assert_eq!(b.next_delay(0), Duration::from_millis(22_500));
        assert_eq!(b.next_delay(u16::MAX), Duration::from_millis(37_500));
        b.reset();
        assert!(b.next_delay(u16::MAX) <= Duration::from_millis(625));
    }
}
