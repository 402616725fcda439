//! Passwords: argon2id, stored as PHC strings (algorithm, parameters and
//! salt travel with the hash, so parameters can be raised later and old
//! hashes still verify).
//!
//! Parameters: OWASP's first recommendation for argon2id (19 MiB, 2
//! passes, 1 lane). Verifying costs tens of milliseconds on purpose; sign-in
//! runs it on a blocking thread and login throttling bounds how often.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Passwords shorter than this are refused.
pub const MIN_LENGTH: usize = 12;
/// Longer than this is refused (hashing cost and abuse bound).
pub const MAX_LENGTH: usize = 256;

/// A password could not be set or checked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Too short or too long, or otherwise unacceptable.
    #[error("{0}")]
    Weak(String),
    /// The stored hash is not a valid argon2 PHC string.
    #[error("the stored password hash is unreadable: {0}")]
    BadHash(String),
    /// The OS random source failed.
    #[error("cannot make a salt: {0}")]
    Random(String),
}

fn hasher() -> Argon2<'static> {
    // 19 MiB, t=2, p=1: constant and valid, so `new` cannot fail here.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a new password against the rules, saying what is wrong.
pub fn check_strength(password: &str, email: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(PasswordError::Weak(format!(
            "password: must be at least {MIN_LENGTH} characters (it has {chars})"
        )));
    }
    if password.len() > MAX_LENGTH {
        return Err(PasswordError::Weak(format!(
            "password: must be at most {MAX_LENGTH} bytes"
        )));
    }
    if !email.is_empty() && password.to_lowercase().contains(&email.to_lowercase()) {
        return Err(PasswordError::Weak(
            "password: must not contain your e-mail address".into(),
        ));
    }
    let mut chars_iter = password.chars();
    let first = chars_iter.next();
    if chars_iter.all(|c| Some(c) == first) {
        return Err(PasswordError::Weak(
            "password: must not be one character repeated".into(),
        ));
    }
    Ok(())
}

/// Hashes `password` with a fresh salt into a PHC string.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Random(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::BadHash(e.to_string()))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|e| PasswordError::BadHash(e.to_string()))?;
    Ok(hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// A hash to verify against when the account does not exist, so a wrong
/// e-mail costs the same time as a wrong password (no account probing by
/// timing).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salts differ");
        assert!(verify_password("correct horse battery", &a).unwrap());
        assert!(!verify_password("correct horse batterY", &a).unwrap());
        assert!(!verify_password("", &a).unwrap());
    }

    #[test]
    fn an_unreadable_stored_hash_is_an_error_not_a_match() {
        let err = verify_password("x", "plaintext-password").unwrap_err();
        assert!(matches!(err, PasswordError::BadHash(_)), "{err}");
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let short = check_strength("short", "a@b.c").unwrap_err();
        assert!(short.to_string().contains("at least 12"), "{short}");
        let long = check_strength(&"ab".repeat(200), "a@b.c").unwrap_err();
        assert!(long.to_string().contains("at most"), "{long}");
        let mail = check_strength("xxANNA@example.comxx", "anna@example.com").unwrap_err();
        assert!(mail.to_string().contains("e-mail"), "{mail}");
        let same = check_strength("aaaaaaaaaaaaaaaa", "a@b.c").unwrap_err();
        assert!(same.to_string().contains("repeated"), "{same}");
        check_strength("a long enough passphrase", "anna@example.com").unwrap();
    }

    #[test]
    fn the_dummy_hash_is_valid_and_matches_no_user_password() {
        assert!(!verify_password("", dummy_hash()).unwrap());
        assert!(!verify_password("correct horse battery", dummy_hash()).unwrap());
    }
}
