//! Login throttling, per account and per client address (pure: the clock
//! is an argument).
//!
//! Each key (an e-mail, an address) may fail `free_failures` times; after
//! that every further attempt must wait, doubling from `base_delay` up to
//! `max_delay`. A success clears the account's key (not the address's, so
//! one valid account cannot be used to reset an address that is guessing
//! others). Failures older than `forget_after` are forgotten. The table is
//! bounded: when full, the stalest keys go first.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

/// Throttling settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottlePolicy {
    /// Failures allowed before delays start.
    pub free_failures: u32,
    /// The first delay.
    pub base_delay: SignedDuration,
    /// The longest delay.
    pub max_delay: SignedDuration,
    /// A key's failures are forgotten after this much quiet.
    pub forget_after: SignedDuration,
    /// At most this many keys are tracked.
    pub max_keys: usize,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 5,
            base_delay: SignedDuration::from_secs(1),
            max_delay: SignedDuration::from_secs(15 * 60),
            forget_after: SignedDuration::from_secs(60 * 60),
            max_keys: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last: Timestamp,
}

/// What a key is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// An account, by lower-cased e-mail.
    Account(String),
    /// A client address.
    Address(String),
}

/// Failed sign-ins seen recently.
#[derive(Debug)]
pub struct Throttle {
    policy: ThrottlePolicy,
    records: HashMap<ThrottleKey, Record>,
}

impl Throttle {
    /// An empty table.
    pub fn new(policy: ThrottlePolicy) -> Throttle {
        Throttle {
            policy,
            records: HashMap::new(),
        }
    }

    fn wait_for(&self, key: &ThrottleKey, now: Timestamp) -> Option<SignedDuration> {
        let record = self.records.get(key)?;
        if now.duration_since(record.last) >= self.policy.forget_after {
            return None;
        }
        let over = record.failures.checked_sub(self.policy.free_failures)?;
        if over == 0 {
            return None;
        }
        let factor = 1i64 << (over - 1).min(30);
        let delay = self
            .policy
            .base_delay
            .checked_mul(i32::try_from(factor).unwrap_or(i32::MAX))
            .unwrap_or(self.policy.max_delay)
            .min(self.policy.max_delay);
        let ready = record.last.checked_add(delay).ok()?;
        (ready > now).then(|| ready.duration_since(now))
    }

    /// How long the caller must wait before trying these keys, if at all
    /// (the longest of them).
    pub fn check(&self, keys: &[ThrottleKey], now: Timestamp) -> Option<SignedDuration> {
        keys.iter().filter_map(|k| self.wait_for(k, now)).max()
    }

    /// Records a failed attempt on every key.
    pub fn failed(&mut self, keys: &[ThrottleKey], now: Timestamp) {
        if self.records.len() + keys.len() > self.policy.max_keys {
            self.forget_stale(now, keys.len());
        }
        for key in keys {
            let record = self.records.entry(key.clone()).or_insert(Record {
                failures: 0,
                last: now,
            });
            if now.duration_since(record.last) >= self.policy.forget_after {
                record.failures = 0;
            }
            record.failures = record.failures.saturating_add(1);
            record.last = now;
        }
    }

    /// A successful sign-in clears the account's failures.
    pub fn succeeded(&mut self, account: &ThrottleKey) {
        if matches!(account, ThrottleKey::Account(_)) {
            self.records.remove(account);
        }
    }

    fn forget_stale(&mut self, now: Timestamp, room: usize) {
        let forget_after = self.policy.forget_after;
        self.records
            .retain(|_, r| now.duration_since(r.last) < forget_after);
        let excess = (self.records.len() + room).saturating_sub(self.policy.max_keys);
        if excess > 0 {
            let mut by_age: Vec<(Timestamp, ThrottleKey)> = self
                .records
                .iter()
                .map(|(k, r)| (r.last, k.clone()))
                .collect();
            by_age.sort_by_key(|(at, _)| *at);
            for (_, key) in by_age.into_iter().take(excess) {
                self.records.remove(&key);
            }
        }
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn keys(mail: &str, addr: &str) -> Vec<ThrottleKey> {
        vec![
            ThrottleKey::Account(mail.into()),
            ThrottleKey::Address(addr.into()),
        ]
    }

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_cap() {
        let mut th = Throttle::new(ThrottlePolicy::default());
        let k = keys("anna@example.com", "192.0.2.1");
        for _ in 0..5 {
            assert_eq!(th.check(&k, t(0)), None);
            th.failed(&k, t(0));
        }
        th.failed(&k, t(0)); // 6th failure: wait 1 s
        assert_eq!(th.check(&k, t(0)), Some(SignedDuration::from_secs(1)));
        assert_eq!(th.check(&k, t(1)), None);
        th.failed(&k, t(1)); // 7th: 2 s
        assert_eq!(th.check(&k, t(2)), Some(SignedDuration::from_secs(1)));
        assert_eq!(th.check(&k, t(3)), None);
        for _ in 0..40 {
            th.failed(&k, t(3));
        }
        assert_eq!(th.check(&k, t(3)), Some(SignedDuration::from_secs(900)));
    }

    #[test]
    fn an_address_guessing_many_accounts_is_throttled() {
        let mut th = Throttle::new(ThrottlePolicy::default());
        for n in 0..7 {
            th.failed(&keys(&format!("user{n}@example.com"), "198.51.100.9"), t(0));
        }
        let fresh = keys("someone.else@example.com", "198.51.100.9");
        assert!(th.check(&fresh, t(0)).is_some());
        assert_eq!(
            th.check(&keys("someone.else@example.com", "203.0.113.5"), t(0)),
            None
        );
    }

    #[test]
    fn one_account_guessed_from_many_addresses_is_throttled() {
        let mut th = Throttle::new(ThrottlePolicy::default());
        for n in 0..7 {
            th.failed(&keys("anna@example.com", &format!("203.0.113.{n}")), t(0));
        }
        assert!(
            th.check(&keys("anna@example.com", "203.0.113.200"), t(0))
                .is_some()
        );
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let mut th = Throttle::new(ThrottlePolicy::default());
        let k = keys("anna@example.com", "192.0.2.1");
        for _ in 0..7 {
            th.failed(&k, t(0));
        }
        th.succeeded(&k[0]);
        th.succeeded(&k[1]);
        assert_eq!(th.check(&k[..1], t(0)), None);
        assert!(th.check(&k[1..], t(0)).is_some());
    }

    #[test]
    fn failures_are_forgotten_after_quiet_and_the_table_stays_bounded() {
        let policy = ThrottlePolicy {
            max_keys: 10,
            ..ThrottlePolicy::default()
        };
        let k = keys("anna@example.com", "192.0.2.1");
        let after_quiet = |quiet: i64| {
            let mut th = Throttle::new(policy);
            for _ in 0..9 {
                th.failed(&k, t(0));
            }
            th.failed(&k, t(quiet));
            th.check(&k, t(quiet))
        };
        // Within the hour the count goes on (10th failure: 16 s) ...
        assert_eq!(after_quiet(3599), Some(SignedDuration::from_secs(16)));
        // ... after an hour of quiet it starts again from one.
        assert_eq!(after_quiet(3600), None);
        let mut th = Throttle::new(policy);
        for n in 0..100 {
            th.failed(&keys(&format!("u{n}@x.example"), &format!("a{n}")), t(n));
        }
        assert!(th.len() <= 10, "{} keys", th.len());
        // The newest keys survive.
        assert!(th.records.contains_key(&ThrottleKey::Address("a99".into())));
    }
}
