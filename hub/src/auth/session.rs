//! Sign-in session lifetime (pure: the time is an argument).
//!
//! A session ends at the first of: logout or revocation (`ended_at`), no
//! request for `idle` (idle expiry), or `absolute` after sign-in (absolute
//! expiry, however active it was). Each request that finds it live moves
//! `last_seen` forward; the cookie itself carries no expiry the browser
//! could be trusted with.

use jiff::{SignedDuration, Timestamp};

/// Session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ends after this long without a request.
    pub idle: SignedDuration,
    /// Ends this long after sign-in.
    pub absolute: SignedDuration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: SignedDuration::from_secs(30 * 60),
            absolute: SignedDuration::from_secs(12 * 60 * 60),
        }
    }
}

/// Whether a session may be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Yes.
    Live,
    /// Ended by logout or revocation.
    Ended,
    /// No request for too long.
    IdleExpired,
    /// Too long since sign-in.
    AbsoluteExpired,
}

impl SessionState {
    /// Why a session cannot be used, for the 401 message.
    pub fn reason(self) -> &'static str {
        match self {
            SessionState::Live => "the session is live",
            SessionState::Ended => "the session was ended (signed out or revoked); sign in again",
            SessionState::IdleExpired => "the session expired after inactivity; sign in again",
            SessionState::AbsoluteExpired => {
                "the session reached its maximum lifetime; sign in again"
            }
        }
    }
}

impl SessionPolicy {
    /// The state of a session created at `created`, last used at
    /// `last_seen`, ended at `ended` (if it was), at `now`.
    pub fn state(
        &self,
        created: Timestamp,
        last_seen: Timestamp,
        ended: Option<Timestamp>,
        now: Timestamp,
    ) -> SessionState {
        if ended.is_some_and(|e| e <= now) {
            SessionState::Ended
        } else if now.duration_since(created) >= self.absolute {
            SessionState::AbsoluteExpired
        } else if now.duration_since(last_seen) >= self.idle {
            SessionState::IdleExpired
        } else {
            SessionState::Live
        }
    }

    /// The absolute expiry of a session created at `created`.
    pub fn expires_at(&self, created: Timestamp) -> Timestamp {
        created.checked_add(self.absolute).unwrap_or(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + m * 60).unwrap()
    }

    #[test]
    fn a_used_session_lives_until_its_absolute_expiry() {
        let p = SessionPolicy::default();
        // Used every 20 minutes: never idle, but 12 hours is the end.
        assert_eq!(p.state(t(0), t(700), None, t(719)), SessionState::Live);
        assert_eq!(
            p.state(t(0), t(700), None, t(720)),
            SessionState::AbsoluteExpired
        );
    }

    #[test]
    fn an_unused_session_ends_after_the_idle_time_exactly() {
        let p = SessionPolicy::default();
        assert_eq!(p.state(t(0), t(10), None, t(39)), SessionState::Live);
        assert_eq!(p.state(t(0), t(10), None, t(40)), SessionState::IdleExpired);
    }

    #[test]
    fn logout_or_revocation_ends_it_at_once() {
        let p = SessionPolicy::default();
        assert_eq!(p.state(t(0), t(1), Some(t(2)), t(2)), SessionState::Ended);
        assert_eq!(p.state(t(0), t(1), Some(t(2)), t(1)), SessionState::Live);
        assert!(SessionState::Ended.reason().contains("sign in again"));
    }

    #[test]
    fn expiry_instant_is_sign_in_plus_the_absolute_lifetime() {
        assert_eq!(SessionPolicy::default().expires_at(t(0)), t(720));
    }
}
