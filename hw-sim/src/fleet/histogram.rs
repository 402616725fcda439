//! A fixed-size latency histogram: constant memory however many samples,
//! percentiles to within 1/64 (about 1.6 %) of the true value.
//!
//! Values are whole microseconds. Values below 128 µs have a bucket each
//! (exact); above that, every power of two is split into 64 equal buckets,
//! so a bucket is at most 1/64 of its lower bound wide. A percentile is the
//! upper bound of the bucket holding the nearest-rank sample, clamped to
//! the exact minimum and maximum seen.

use std::time::Duration;

/// Values below this have a bucket of their own.
const EXACT: u64 = 128;
/// Buckets per power of two above [`EXACT`].
const SUB: u64 = 64;
/// Powers of two from 2^7 to 2^63.
const BUCKETS: usize = (EXACT + (64 - 7) * SUB) as usize;

/// Round-trip latencies, in microseconds.
#[derive(Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    count: u64,
    sum_us: u128,
    min_us: u64,
    max_us: u64,
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

/// The figures of a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest sample (exact).
    pub max: Duration,
    /// Smallest sample (exact).
    pub min: Duration,
    /// Arithmetic mean (exact).
    pub mean: Duration,
}

impl std::fmt::Display for LatencySummary {
    /// `n=2000 p50=1.93 ms p90=2.41 ms p99=3.80 ms max=9.12 ms`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
            self.count,
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// The bucket holding `us`.
fn bucket_of(us: u64) -> usize {
    if us < EXACT {
        return us as usize;
    }
    let msb = 63 - u64::from(us.leading_zeros()); // >= 7
    let shift = msb - 6; // leaves the top 7 bits: 64..=127
    let mantissa = us >> shift;
    (EXACT + (msb - 7) * SUB + (mantissa - SUB)) as usize
}

/// The largest value that falls in `bucket`.
fn upper_bound(bucket: usize) -> u64 {
    let b = bucket as u64;
    if b < EXACT {
        return b;
    }
    let msb = (b - EXACT) / SUB + 7;
    let mantissa = (b - EXACT) % SUB + SUB;
    let shift = msb - 6;
    // For the very last bucket this is u64::MAX exactly.
    ((mantissa + 1) << shift).wrapping_sub(1)
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> LatencyHistogram {
        LatencyHistogram {
            counts: Vec::new(),
            count: 0,
            sum_us: 0,
            min_us: u64::MAX,
            max_us: 0,
        }
    }

    /// Records one latency (rounded down to a microsecond).
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        let bucket = bucket_of(us);
        if let Some(c) = self.counts.get_mut(bucket) {
            *c += 1;
        }
        self.count += 1;
        self.sum_us += u128::from(us);
        self.min_us = self.min_us.min(us);
        self.max_us = self.max_us.max(us);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if other.count == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_us += other.sum_us;
        self.min_us = self.min_us.min(other.min_us);
        self.max_us = self.max_us.max(other.max_us);
    }

    /// How many samples.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q` quantile (0.0 to 1.0) by nearest rank, or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (bucket, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let us = upper_bound(bucket).clamp(self.min_us, self.max_us);
                return Some(Duration::from_micros(us));
            }
        }
        Some(Duration::from_micros(self.max_us))
    }

    /// p50, p90, p99, max, min and mean, or `None` when empty.
    pub fn summary(&self) -> Option<LatencySummary> {
        Some(LatencySummary {
            count: self.count,
            p50: self.quantile(0.50)?,
            p90: self.quantile(0.90)?,
            p99: self.quantile(0.99)?,
            max: Duration::from_micros(self.max_us),
            min: Duration::from_micros(self.min_us),
            mean: Duration::from_micros((self.sum_us / u128::from(self.count)) as u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn empty_has_no_figures() {
        let h = LatencyHistogram::new();
        assert_eq!(h.quantile(0.5), None);
        assert_eq!(h.summary(), None);
        assert_eq!(h.count(), 0);
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = LatencyHistogram::new();
        for n in 1..=100 {
            h.record(us(n));
        }
        let s = h.summary().unwrap();
        assert_eq!(s.count, 100);
        assert_eq!(s.p50, us(50));
        assert_eq!(s.p90, us(90));
        assert_eq!(s.p99, us(99));
        assert_eq!(s.max, us(100));
        assert_eq!(s.min, us(1));
        assert_eq!(s.mean, us(50)); // 50.5 rounded down
    }

    #[test]
    fn large_values_are_within_one_sixty_fourth() {
        let mut h = LatencyHistogram::new();
        // 1 ms .. 10 s, spread geometrically.
        let mut samples = Vec::new();
        let mut v = 1_000f64;
        while v < 10_000_000.0 {
            samples.push(v as u64);
            v *= 1.003;
        }
        for s in &samples {
            h.record(us(*s));
        }
        samples.sort_unstable();
        for q in [0.01, 0.5, 0.9, 0.99, 0.999] {
            let rank = ((q * samples.len() as f64).ceil() as usize).max(1);
            let exact = samples[rank - 1] as f64;
            let got = h.quantile(q).unwrap().as_micros() as f64;
            assert!(
                got >= exact && got <= exact * (1.0 + 1.0 / 64.0) + 1.0,
                "q={q}: exact {exact}, histogram {got}"
            );
        }
        assert_eq!(h.summary().unwrap().max, us(*samples.last().unwrap()));
    }

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for v in (0..5000u64).chain([u64::MAX / 2, u64::MAX - 1, u64::MAX]) {
            let b = bucket_of(v);
            assert!(b < BUCKETS, "{v} -> {b}");
            assert!(b >= last || v > 5000, "bucket order broke at {v}");
            assert!(upper_bound(b) >= v, "{v} above its bucket's bound");
            if b > 0 {
                assert!(upper_bound(b - 1) < v, "{v} belongs in an earlier bucket");
            }
            last = b;
        }
        assert_eq!(upper_bound(BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn one_outlier_shows_only_at_the_top() {
        let mut h = LatencyHistogram::new();
        for _ in 0..999 {
            h.record(Duration::from_millis(2));
        }
        h.record(Duration::from_secs(10));
        let s = h.summary().unwrap();
        assert!(s.p99 <= Duration::from_micros(2032), "{s:?}");
        assert_eq!(s.max, Duration::from_secs(10));
    }

    #[test]
    fn merging_equals_recording_both() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        let mut both = LatencyHistogram::new();
        for n in 0..500u64 {
            a.record(us(n * 37));
            both.record(us(n * 37));
        }
        for n in 0..300u64 {
            b.record(us(n * 1013));
            both.record(us(n * 1013));
        }
        a.merge(&b);
        assert_eq!(a, both);
        let mut empty = LatencyHistogram::new();
        empty.merge(&LatencyHistogram::new());
        assert_eq!(empty.count(), 0);
    }

    #[test]
    fn display_is_one_line_in_milliseconds() {
        let mut h = LatencyHistogram::new();
        h.record(Duration::from_micros(1500));
        let text = h.summary().unwrap().to_string();
        assert!(text.starts_with("n=1 p50=1.50 ms"), "{text}");
    }
}
