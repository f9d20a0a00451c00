//! The signed `state` carried through WeChat's authorization page: HMAC-SHA256 over a nonce,
//! an expiry and optional caller data, all base64url. The callback refuses a missing, forged
//! or expired one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wxopen_models::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Longest caller data (`ext`) accepted, in bytes.
pub const MAX_EXT_LEN: usize = 256;

/// Why a `state` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// No state in the request.
    #[error("the request carries no state: start the authorization from the platform's authorize link, not by opening this address directly")]
    Missing,
    /// Not in the expected shape.
    #[error(
        "the state is malformed: start the authorization again from the platform's authorize link"
    )]
    Malformed,
    /// The signature does not match.
    #[error(
        "the state's signature does not match: it was not issued by this platform or was altered"
    )]
    Forged,
    /// Past its expiry.
    #[error("the authorization session has expired: start the authorization again")]
    Expired,
}

/// Caller data longer than [`MAX_EXT_LEN`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ext is {len} bytes; at most {MAX_EXT_LEN} are carried through the authorization")]
pub struct ExtTooLong {
    /// Bytes given.
    pub len: usize,
}

/// Issues and verifies states with one key.
#[derive(Clone)]
pub struct StateSigner {
    key: Secret,
}

impl std::fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateSigner([redacted])")
    }
}

/// What a verified state carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedState {
    /// The caller data given to the authorize route, if any.
    pub ext: Option<String>,
    /// Expiry, epoch seconds.
    pub expires_at: i64,
}

impl StateSigner {
    /// A signer with `AUTH_STATE_SECRET`.
    pub fn new(key: Secret) -> Self {
        Self { key }
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.key.expose().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    /// A state valid until `expires_at` (epoch seconds), carrying `ext`.
    pub fn issue(&self, ext: Option<&str>, expires_at: i64) -> Result<String, ExtTooLong> {
        let ext = ext.unwrap_or_default();
        if ext.len() > MAX_EXT_LEN {
            return Err(ExtTooLong { len: ext.len() });
        }
        let nonce: [u8; 16] = rand::random();
        let payload = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            expires_at,
            URL_SAFE_NO_PAD.encode(ext)
        );
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        Ok(format!("{payload}.{sig}"))
    }

    /// Checks the signature (in constant time), then the expiry against `now` (epoch seconds).
    pub fn verify(&self, state: Option<&str>, now: i64) -> Result<VerifiedState, StateError> {
        let state = state
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(StateError::Missing)?;
        let (payload, sig) = state.rsplit_once('.').ok_or(StateError::Malformed)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| StateError::Malformed)?;
        self.mac(payload)
            .verify_slice(&sig)
            .map_err(|_| StateError::Forged)?;
        let mut parts = payload.split('.');
        let (Some(_nonce), Some(expiry), Some(ext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StateError::Malformed);
        };
        let expires_at: i64 = expiry.parse().map_err(|_| StateError::Malformed)?;
        if expires_at < now {
            return Err(StateError::Expired);
        }
        let ext = URL_SAFE_NO_PAD
            .decode(ext)
            .map_err(|_| StateError::Malformed)?;
        let ext = String::from_utf8(ext).map_err(|_| StateError::Malformed)?;
        Ok(VerifiedState {
            ext: (!ext.is_empty()).then_some(ext),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> StateSigner {
        StateSigner::new(Secret::new("k".repeat(32)))
    }

    #[test]
    fn an_issued_state_verifies_and_carries_ext() {
        let s = signer().issue(Some("tenant=42&x=ü"), 1000).unwrap();
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{s}"
        );
        let v = signer().verify(Some(&s), 999).unwrap();
        assert_eq!(v.ext.as_deref(), Some("tenant=42&x=ü"));
        assert_eq!(
            signer()
                .verify(Some(&signer().issue(None, 1000).unwrap()), 0)
                .unwrap()
                .ext,
            None
        );
    }

    #[test]
    fn missing_forged_malformed_and_expired_states_are_refused() {
        let s = signer().issue(None, 1000).unwrap();
        assert_eq!(signer().verify(None, 0), Err(StateError::Missing));
        assert_eq!(signer().verify(Some(""), 0), Err(StateError::Missing));
        assert_eq!(
            signer().verify(Some("garbage"), 0),
            Err(StateError::Malformed)
        );
        assert_eq!(signer().verify(Some(&s), 1001), Err(StateError::Expired));
        let other = StateSigner::new(Secret::new("z".repeat(32)));
        assert_eq!(other.verify(Some(&s), 0), Err(StateError::Forged));
        // Moving the expiry forward breaks the signature.
        let tampered = s.replacen(".1000.", ".9999.", 1);
        assert_eq!(signer().verify(Some(&tampered), 0), Err(StateError::Forged));
        assert!(signer()
            .issue(Some(&"x".repeat(MAX_EXT_LEN + 1)), 0)
            .is_err());
    }
}
