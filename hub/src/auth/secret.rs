//! Secrets the hub hands out (session ids, API tokens, single-use links)
//! and the only form in which it keeps them: a SHA-256 hash.
//!
//! A secret is 32 random bytes from the OS, written as 64 lowercase hex
//! characters with a short prefix naming its use (`ps_` session, `pt_` API
//! token, `pl_` link), so a leaked string says what it is. The store keeps
//! only the hash, so a copy of the database signs nobody in.

use ring::digest::{SHA256, digest};

/// What a secret is for (its prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A sign-in session (cookie).
    Session,
    /// An API token for an integration.
    ApiToken,
    /// A single-use link: invitation, password reset, dealer request.
    Link,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            SecretKind::Session => "ps_",
            SecretKind::ApiToken => "pt_",
            SecretKind::Link => "pl_",
        }
    }
}

/// A new secret: the text to give out once, and the hash to store.
#[derive(Debug, Clone)]
pub struct NewSecret {
    /// Give this to the person (cookie, token, link); never store it.
    pub text: String,
    /// Store this.
    pub hash: [u8; 32],
}

/// The OS random source failed (nothing sensible can continue).
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

/// Makes a new secret of `kind`.
pub fn new_secret(kind: SecretKind) -> Result<NewSecret, RandomError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
    let mut text = String::with_capacity(3 + 64);
    text.push_str(kind.prefix());
    for b in bytes {
        text.push_str(&format!("{b:02x}"));
    }
    let hash = hash_secret(&text);
    Ok(NewSecret { text, hash })
}

/// The stored form of a presented secret. Anything may be presented; a
/// string of the wrong kind or shape simply hashes to nothing stored.
pub fn hash_secret(text: &str) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

/// Whether `text` looks like a secret of `kind` (cheap check before a
/// database lookup; never a substitute for it).
pub fn looks_like(kind: SecretKind, text: &str) -> bool {
    text.strip_prefix(kind.prefix()).is_some_and(|rest| {
        rest.len() == 64
            && rest
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_hex_and_stored_only_as_their_hash() {
        let a = new_secret(SecretKind::Session).unwrap();
        let b = new_secret(SecretKind::Session).unwrap();
        assert_ne!(a.text, b.text);
        assert!(looks_like(SecretKind::Session, &a.text), "{}", a.text);
        assert!(!looks_like(SecretKind::ApiToken, &a.text));
        assert_eq!(hash_secret(&a.text), a.hash);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn malformed_secrets_are_recognised_as_such() {
        let t = new_secret(SecretKind::Link).unwrap().text;
        assert!(looks_like(SecretKind::Link, &t));
        assert!(!looks_like(SecretKind::Link, &t[..t.len() - 1]));
        assert!(!looks_like(SecretKind::Link, &t.to_uppercase()));
        assert!(!looks_like(SecretKind::Link, "pl_"));
        assert!(!looks_like(SecretKind::Link, ""));
        assert!(!looks_like(
            SecretKind::Link,
            &format!("pl_{}", "g".repeat(64))
        ));
    }
}
