//! The signed `state` carried through WeChat's authorization page: HMAC-SHA256 over a nonce,
//! an expiry and optional caller data, all base64url. The callback refuses a missing, forged
//! or expired one.
//!
//! Also, with the same key but a separate domain: the expiring *link tokens* the platform's back
//! end mints for its customers (the only way `ext` reaches an authorization), and the signature
//! of the success redirect, which the platform verifies with its own key.

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
    /// Already used by a callback: a state opens one authorization only.
    #[error("this authorization link was already used: start the authorization again from the platform's link")]
    Used,
}

/// Why a link token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not in the expected shape.
    #[error("the authorization link is malformed: ask the platform for a new link")]
    Malformed,
    /// The signature does not match.
    #[error("the authorization link was not issued by this platform or was altered: ask the platform for a new link")]
    Forged,
    /// Past its expiry.
    #[error("the authorization link has expired: ask the platform for a new link")]
    Expired,
    /// None given, where the platform starts authorizations only from links it minted.
    #[error("this platform starts an authorization only from a link it minted for you: ask the platform for a link (it mints one by invoking the authorize function with {{\"ext\": \"<customer id>\"}}; AUTH_ANONYMOUS=true lets anyone start one, each start spending a pre-auth code)")]
    Required,
    /// Opened too often: each open spends a pre-auth code.
    #[error("this authorization link was opened {opens} times in the last minute, each time spending one of WeChat's pre-auth codes: wait a minute and open it again")]
    Busy {
        /// Opens allowed a minute.
        opens: u32,
    },
}

/// What a minted authorization link carries: the platform's choices, signed, so that no
/// browser can change them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkClaims {
    /// The caller data (the platform's own customer).
    pub ext: String,
    /// `auth_type` (1, 2 or 3), when chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<u8>,
    /// `biz_appid`, when chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_appid: Option<String>,
    /// The mobile authorization page.
    #[serde(default)]
    pub mobile: bool,
    /// Expiry, epoch seconds.
    pub expires_at: i64,
}

/// The text the success redirect's signature covers: `authorizer_appid`, `ext` (empty when
/// none) and `expires_at`, one per line.
fn success_message(appid: &str, ext: Option<&str>, expires_at: i64) -> String {
    format!("{appid}\n{}\n{expires_at}", ext.unwrap_or_default())
}

fn hmac_hex(key: &Secret, message: &str) -> String {
    let mut mac =
        HmacSha256::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The success redirect's `signature`: hex HMAC-SHA256 with `key` over `authorizer_appid`,
/// `ext` and `expires_at`, one per line.
pub fn success_signature(key: &Secret, appid: &str, ext: Option<&str>, expires_at: i64) -> String {
    hmac_hex(key, &success_message(appid, ext, expires_at))
}

/// Whether a success redirect's parameters are as signed and not expired (constant time).
pub fn verify_success(
    key: &Secret,
    appid: &str,
    ext: Option<&str>,
    expires_at: i64,
    signature: &str,
    now: i64,
) -> bool {
    use subtle::ConstantTimeEq as _;
    let expected = success_signature(key, appid, ext, expires_at);
    expires_at >= now
        && bool::from(
            expected
                .as_bytes()
                .ct_eq(signature.trim().to_ascii_lowercase().as_bytes()),
        )
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
    /// The state's random nonce (its single use is recorded by it).
    pub nonce: String,
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

    /// A link token carrying `claims`.
    pub fn issue_link(&self, claims: &LinkClaims) -> String {
        let payload = format!(
            "v1.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"))
        );
        let sig =
            URL_SAFE_NO_PAD.encode(self.mac(&format!("link.{payload}")).finalize().into_bytes());
        format!("{payload}.{sig}")
    }

    /// Checks a link token's signature (in constant time), then its expiry against `now`.
    pub fn verify_link(&self, token: &str, now: i64) -> Result<LinkClaims, LinkError> {
        let token = token.trim();
        let (payload, sig) = token.rsplit_once('.').ok_or(LinkError::Malformed)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| LinkError::Malformed)?;
        self.mac(&format!("link.{payload}"))
            .verify_slice(&sig)
            .map_err(|_| LinkError::Forged)?;
        let body = payload.strip_prefix("v1.").ok_or(LinkError::Malformed)?;
        let claims: LinkClaims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(LinkError::Malformed)?;
        if claims.expires_at < now {
            return Err(LinkError::Expired);
        }
        Ok(claims)
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
        let (Some(nonce), Some(expiry), Some(ext), None) =
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
            nonce: nonce.to_owned(),
            ext: (!ext.is_empty()).then_some(ext),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_at: i64) -> LinkClaims {
        LinkClaims {
            ext: "customer-42".into(),
            auth_type: Some(1),
            biz_appid: None,
            mobile: false,
            expires_at,
        }
    }

    #[test]
    fn a_link_verifies_until_it_expires_and_an_altered_one_never() {
        let link = signer().issue_link(&claims(1000));
        assert_eq!(signer().verify_link(&link, 999).unwrap(), claims(1000));
        assert_eq!(signer().verify_link(&link, 1001), Err(LinkError::Expired));
        let other = StateSigner::new(Secret::new("z".repeat(32)));
        assert_eq!(other.verify_link(&link, 0), Err(LinkError::Forged));
        // Another customer's ext, re-encoded with the old signature.
        let (_, sig) = link.rsplit_once('.').unwrap();
        let mut altered = claims(1000);
        altered.ext = "customer-43".into();
        let forged = format!(
            "v1.{}.{sig}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&altered).unwrap())
        );
        assert_eq!(signer().verify_link(&forged, 0), Err(LinkError::Forged));
        assert_eq!(signer().verify_link("nope", 0), Err(LinkError::Malformed));
        // A state is not a link, and a link is not a state.
        let state = signer().issue(Some("customer-42"), 1000).unwrap();
        assert!(signer().verify_link(&state, 0).is_err());
        assert!(signer().verify(Some(&link), 0).is_err());
    }

    #[test]
    fn the_success_signature_covers_the_appid_the_ext_and_the_expiry() {
        let key = Secret::new("success-key");
        let sig = success_signature(&key, "wxa", Some("customer-42"), 1000);
        let verify = |key: &Secret, appid, ext, expires_at, now| {
            verify_success(key, appid, ext, expires_at, &sig, now)
        };
        let c42 = Some("customer-42");
        assert!(verify(&key, "wxa", c42, 1000, 999));
        assert!(!verify(&key, "wxb", c42, 1000, 999));
        assert!(!verify(&key, "wxa", Some("customer-43"), 1000, 999));
        assert!(!verify(&key, "wxa", None, 1000, 999));
        assert!(!verify(&key, "wxa", c42, 2000, 999));
        assert!(!verify(&key, "wxa", c42, 1000, 1001), "expired");
        assert!(!verify(&Secret::new("other"), "wxa", c42, 1000, 999));
        // The documented message, so that any language can verify it.
        assert_eq!(sig, hmac_hex(&key, "wxa\ncustomer-42\n1000"));
    }

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
