//! Stream tokens: what a viewer's player presents to watch one camera —
//! short-lived, bound to (viewer, unit, camera), signed by the hub, and
//! revocable one by one or all of a viewer's at once. Pure: the key, the
//! instant and the revocations are arguments.
//!
//! A token is `v1.` + hex(payload) + `.` + hex(HMAC-SHA256(key, payload)),
//! payload = id (16) ‖ unit (16) ‖ camera (16) ‖ issued_at ms (i64 BE) ‖
//! expires_at ms (i64 BE) ‖ viewer (UTF-8, ≤ 200 bytes). The hub makes its
//! key at start, so a restart ends every token (players ask again).

use std::collections::HashMap;

use jiff::Timestamp;
use picket_proto::ids::{CameraId, UnitId};

const PREFIX: &str = "v1.";
const FIXED: usize = 16 * 3 + 8 + 8;
/// The longest viewer name a token carries.
pub const MAX_VIEWER: usize = 200;

/// What a token allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamGrant {
    /// The token's own id (to revoke it).
    pub id: [u8; 16],
    /// Who watches (a user id, or `operator` for the bootstrap token).
    pub viewer: String,
    /// The unit.
    pub unit: UnitId,
    /// The camera.
    pub camera: CameraId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}

/// Why a token is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a token of this format.
    #[error("not a stream token: {0}")]
    Malformed(&'static str),
    /// The signature does not match: forged or altered.
    #[error("the stream token's signature does not match")]
    Forged,
    /// Past its expiry.
    #[error("the stream token expired at {0}; ask for a new one")]
    Expired(Timestamp),
    /// Revoked.
    #[error("the stream token was revoked")]
    Revoked,
    /// For another unit or camera.
    #[error("the stream token is for another camera")]
    OtherCamera,
}

/// The hub's signing key.
#[derive(Debug)]
pub struct TokenKey(ring::hmac::Key);

impl TokenKey {
    /// A key from 32 secret bytes.
    pub fn new(secret: &[u8; 32]) -> TokenKey {
        TokenKey(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret))
    }

    /// Signs `grant` into a token.
    pub fn issue(&self, grant: &StreamGrant) -> Result<String, TokenError> {
        if grant.viewer.len() > MAX_VIEWER {
            return Err(TokenError::Malformed("viewer name too long"));
        }
        let mut payload = Vec::with_capacity(FIXED + grant.viewer.len());
        payload.extend_from_slice(&grant.id);
        payload.extend_from_slice(grant.unit.as_bytes());
        payload.extend_from_slice(grant.camera.as_bytes());
        payload.extend_from_slice(&grant.issued_at.as_millisecond().to_be_bytes());
        payload.extend_from_slice(&grant.expires_at.as_millisecond().to_be_bytes());
        payload.extend_from_slice(grant.viewer.as_bytes());
        let tag = ring::hmac::sign(&self.0, &payload);
        Ok(format!("{PREFIX}{}.{}", hex(&payload), hex(tag.as_ref())))
    }

    /// The grant in `token` if it is genuine, unexpired at `now`, not
    /// revoked, and for `unit`'s `camera`.
    pub fn verify(
        &self,
        token: &str,
        unit: UnitId,
        camera: CameraId,
        now: Timestamp,
        revoked: &Revocations,
    ) -> Result<StreamGrant, TokenError> {
        let rest = token
            .strip_prefix(PREFIX)
            .ok_or(TokenError::Malformed("no v1. prefix"))?;
        let (payload, tag) = rest
            .split_once('.')
            .ok_or(TokenError::Malformed("no signature"))?;
        let payload = unhex(payload).ok_or(TokenError::Malformed("payload is not hex"))?;
        let tag = unhex(tag).ok_or(TokenError::Malformed("signature is not hex"))?;
        ring::hmac::verify(&self.0, &payload, &tag).map_err(|_| TokenError::Forged)?;
        let grant = parse(&payload)?;
        if now >= grant.expires_at {
            return Err(TokenError::Expired(grant.expires_at));
        }
        if revoked.refuses(&grant) {
            return Err(TokenError::Revoked);
        }
        if grant.unit != unit || grant.camera != camera {
            return Err(TokenError::OtherCamera);
        }
        Ok(grant)
    }
}

fn parse(payload: &[u8]) -> Result<StreamGrant, TokenError> {
    if payload.len() < FIXED || payload.len() > FIXED + MAX_VIEWER {
        return Err(TokenError::Malformed("wrong length"));
    }
    let id16 = |at: usize| -> [u8; 16] {
        let mut b = [0u8; 16];
        b.copy_from_slice(&payload[at..at + 16]);
        b
    };
    let ms = |at: usize| -> Result<Timestamp, TokenError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(&payload[at..at + 8]);
        Timestamp::from_millisecond(i64::from_be_bytes(b))
            .map_err(|_| TokenError::Malformed("instant out of range"))
    };
    Ok(StreamGrant {
        id: id16(0),
        unit: UnitId::from_uuid(uuid::Uuid::from_bytes(id16(16))),
        camera: CameraId::from_uuid(uuid::Uuid::from_bytes(id16(32))),
        issued_at: ms(48)?,
        expires_at: ms(56)?,
        viewer: String::from_utf8(payload[FIXED..].to_vec())
            .map_err(|_| TokenError::Malformed("viewer is not UTF-8"))?,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Tokens the hub no longer accepts: single tokens by id, and every token
/// of a viewer issued before an instant (signed out, access changed).
#[derive(Debug, Default, Clone)]
pub struct Revocations {
    tokens: HashMap<[u8; 16], Timestamp>,
    viewers: HashMap<String, Timestamp>,
}

impl Revocations {
    /// Refuses the token `grant` came in (until it would have expired).
    pub fn revoke(&mut self, grant: &StreamGrant) {
        self.tokens.insert(grant.id, grant.expires_at);
    }

    /// Refuses every token of `viewer` issued at or before `now`.
    pub fn revoke_viewer(&mut self, viewer: &str, now: Timestamp) {
        self.viewers.insert(viewer.to_owned(), now);
    }

    /// Whether `grant` is refused.
    pub fn refuses(&self, grant: &StreamGrant) -> bool {
        self.tokens.contains_key(&grant.id)
            || self
                .viewers
                .get(&grant.viewer)
                .is_some_and(|before| grant.issued_at <= *before)
    }

    /// Forgets revocations that can no longer matter: tokens past their
    /// expiry, and viewers revoked longer ago than `longest` (the longest
    /// lifetime the hub gives a token).
    pub fn prune(&mut self, now: Timestamp, longest: jiff::SignedDuration) {
        self.tokens.retain(|_, expires| *expires > now);
        self.viewers.retain(|_, at| *at + longest > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn ids() -> (UnitId, CameraId) {
        (
            UnitId::from_uuid(uuid::Uuid::from_u128(0x71)),
            CameraId::from_uuid(uuid::Uuid::from_u128(0xc1)),
        )
    }

    fn grant(n: u8, viewer: &str) -> StreamGrant {
        let (unit, camera) = ids();
        StreamGrant {
            id: [n; 16],
            viewer: viewer.into(),
            unit,
            camera,
            issued_at: at(0),
            expires_at: at(60),
        }
    }

    #[test]
    fn a_token_verifies_for_its_camera_until_it_expires() {
        let key = TokenKey::new(&[7; 32]);
        let (unit, camera) = ids();
        let token = key.issue(&grant(1, "anna")).unwrap();
        let none = Revocations::default();
        assert_eq!(
            key.verify(&token, unit, camera, at(59), &none),
            Ok(grant(1, "anna"))
        );
        assert_eq!(
            key.verify(&token, unit, camera, at(60), &none),
            Err(TokenError::Expired(at(60)))
        );
        let other = CameraId::from_uuid(uuid::Uuid::from_u128(0xc2));
        assert_eq!(
            key.verify(&token, unit, other, at(1), &none),
            Err(TokenError::OtherCamera)
        );
    }

    #[test]
    fn forged_altered_and_foreign_tokens_are_refused() {
        let key = TokenKey::new(&[7; 32]);
        let (unit, camera) = ids();
        let none = Revocations::default();
        let token = key.issue(&grant(1, "anna")).unwrap();
        // Another hub's key.
        let theirs = TokenKey::new(&[8; 32]).issue(&grant(1, "anna")).unwrap();
        assert_eq!(
            key.verify(&theirs, unit, camera, at(1), &none),
            Err(TokenError::Forged)
        );
        // Every single-character change of the payload or tag.
        for i in 3..token.len() {
            let mut t = token.clone().into_bytes();
            if t[i] == b'.' {
                continue;
            }
            t[i] = if t[i] == b'0' { b'1' } else { b'0' };
            let t = String::from_utf8(t).unwrap();
            assert!(
                key.verify(&t, unit, camera, at(1), &none).is_err(),
                "changed at {i}"
            );
        }
        for bad in ["", "v1.", "v2.00.00", "v1.zz.00", "v1.00"] {
            assert!(matches!(
                key.verify(bad, unit, camera, at(1), &none),
                Err(TokenError::Malformed(_))
            ));
        }
    }

    #[test]
    fn revoking_a_token_or_a_viewer_refuses_it() {
        let key = TokenKey::new(&[7; 32]);
        let (unit, camera) = ids();
        let mut revoked = Revocations::default();
        let one = key.issue(&grant(1, "anna")).unwrap();
        let two = key.issue(&grant(2, "anna")).unwrap();
        let ole = key.issue(&grant(3, "ole")).unwrap();
        revoked.revoke(&grant(1, "anna"));
        assert_eq!(
            key.verify(&one, unit, camera, at(1), &revoked),
            Err(TokenError::Revoked)
        );
        assert!(key.verify(&two, unit, camera, at(1), &revoked).is_ok());
        revoked.revoke_viewer("anna", at(5));
        assert_eq!(
            key.verify(&two, unit, camera, at(6), &revoked),
            Err(TokenError::Revoked)
        );
        assert!(key.verify(&ole, unit, camera, at(6), &revoked).is_ok());
        // A token issued after the viewer's revocation is accepted.
        let mut later = grant(4, "anna");
        later.issued_at = at(10);
        let later = key.issue(&later).unwrap();
        assert!(key.verify(&later, unit, camera, at(11), &revoked).is_ok());
        revoked.prune(at(200), jiff::SignedDuration::from_secs(60));
        assert!(!revoked.refuses(&grant(1, "anna")), "expired: forgotten");
    }
}
