//! Tokens at rest (DESIGN, "Tokens at rest"): every refresh token, access token and ticket the
//! DynamoDB adapter writes is sealed with AES-256-GCM under a data key, itself wrapped by the
//! KMS key `TOKEN_KMS_KEY_ID` (the [`KeyVault`] port; [`kms::KmsVault`] in production). The
//! associated data is the item's key and the attribute's name, so a sealed value copied onto
//! another item or attribute does not open.
//!
//! A sealed value is `wxs1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The nonce is
//! synthetic: HMAC-SHA256 of the associated data and the plaintext under a key derived from
//! the data key, cut to 96 bits. Sealing the same token for the same attribute of the same item
//! under the same data key therefore gives the same value, which is what lets DynamoDB's
//! conditional writes keep comparing stored tokens ("drop this token only if it is still the one
//! that failed"); equal values reveal only that a token did not change on that item. A value
//! without the prefix is a token written before sealing: it is read as it is and sealed on its
//! next write.
//!
//! Why not the AWS Database Encryption SDK (`aws-db-esdk`): its encrypted attributes are sealed
//! with fresh randomness and cannot be compared in a condition expression, which the token
//! leases and drops rely on, and it brings aws-lc-rs beside this project's ring and a Dafny
//! runtime (lib.rs counts about 2M lines of dependencies); this envelope is a few hundred lines
//! over RustCrypto's `aes-gcm`, already beside the `aes` crate the message crypto uses.

pub mod kms;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a sealed value (format version 1).
pub const SEALED_PREFIX: &str = "wxs1:";

/// The KMS key could not be used: unreachable, disabled, refused, or the grant is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the KMS key sealing tokens is unavailable ({reason}): check TOKEN_KMS_KEY_ID, the key's state and the function's kms:Decrypt and kms:GenerateDataKey grants")]
pub struct KeyUnavailable {
    /// What KMS answered (its error code and message; never key material).
    pub reason: String,
}

/// A data key and its wrapped form, as [`KeyVault::generate`] returns it.
pub struct GeneratedKey {
    /// The plaintext key (32 bytes), kept in memory only.
    pub plaintext: Vec<u8>,
    /// The key wrapped by the KMS key, what is stored.
    pub wrapped: Vec<u8>,
}

/// Where data keys are made and unwrapped: KMS in production.
#[async_trait]
pub trait KeyVault: Send + Sync {
    /// A new 256-bit data key for `context` (the component), plaintext and wrapped.
    async fn generate(&self, context: &str) -> Result<GeneratedKey, KeyUnavailable>;
    /// The plaintext of a data key `generate` wrapped for `context`.
    async fn unwrap(&self, wrapped: &[u8], context: &str) -> Result<Vec<u8>, KeyUnavailable>;
}

/// An unwrapped data key: its id (what sealed values name) and its two derived keys.
#[derive(Clone)]
pub struct DataKey {
    id: String,
    cipher: Aes256Gcm,
    nonce_key: Hmac<Sha256>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A sealed value that does not open here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Not of the sealed form.
    #[error("the value is not a sealed value")]
    Malformed,
    /// Sealed for another item or attribute, under another key, or altered.
    #[error("the value was not sealed for this item and attribute")]
    Mismatch,
}

/// A stored value: sealed (with the id of its data key) or plaintext from before sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// `wxs1:<key id>:...`.
    Sealed {
        /// The data key's id.
        key_id: &'a str,
    },
    /// Written before tokens were sealed.
    Plain,
}

impl Stored<'_> {
    /// What `value` is.
    pub fn of(value: &str) -> Stored<'_> {
        match value
            .strip_prefix(SEALED_PREFIX)
            .and_then(|rest| rest.split_once(':'))
        {
            Some((key_id, _)) => Stored::Sealed { key_id },
            None => Stored::Plain,
        }
    }
}

impl DataKey {
    /// A data key from its 32 plaintext bytes; `None` for any other length.
    pub fn new(id: impl Into<String>, plaintext: &[u8]) -> Option<DataKey> {
        if plaintext.len() != 32 {
            return None;
        }
        let cipher = Aes256Gcm::new_from_slice(plaintext).ok()?;
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(plaintext).ok()?;
        derive.update(b"wxopen token seal nonce key v1");
        let nonce_key =
            <Hmac<Sha256> as Mac>::new_from_slice(&derive.finalize().into_bytes()).ok()?;
        Some(DataKey {
            id: id.into(),
            cipher,
            nonce_key,
        })
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `plaintext` sealed for `aad` (the item's key and the attribute's name).
    pub fn seal(&self, aad: &str, plaintext: &str) -> String {
        let mut mac = self.nonce_key.clone();
        mac.update(&(aad.len() as u64).to_be_bytes());
        mac.update(aad.as_bytes());
        mac.update(plaintext.as_bytes());
        let tag = mac.finalize().into_bytes();
        let nonce = Nonce::from_slice(&tag[..12]);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: aad.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(nonce, payload)
            .expect("AES-GCM encrypts any token-sized input");
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        format!(
            "{SEALED_PREFIX}{}:{}",
            self.id,
            URL_SAFE_NO_PAD.encode(body)
        )
    }

    /// The plaintext of `value`, sealed by this key for `aad`.
    pub fn open(&self, aad: &str, value: &str) -> Result<String, OpenError> {
        let body = value
            .strip_prefix(SEALED_PREFIX)
            .and_then(|rest| rest.strip_prefix(self.id.as_str()))
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or(OpenError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| OpenError::Malformed)?;
        if bytes.len() < 12 + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let payload = Payload {
            msg: sealed,
            aad: aad.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| OpenError::Mismatch)?;
        String::from_utf8(plain).map_err(|_| OpenError::Mismatch)
    }
}

#[cfg(test)]
mod tests;
