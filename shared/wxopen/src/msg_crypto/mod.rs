//! The "WXBizMsgCrypt" scheme of event pushes: SHA-1 signature, AES-256-CBC with a 32-byte
//! PKCS#7 pad, and the trailing AppID check. Primitives come from RustCrypto crates.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sha1::{Digest, Sha1};
use std::fmt;
use subtle::ConstantTimeEq;
use wxopen_models::events::EncryptedEnvelope;
use wxopen_models::{ComponentAppid, Secret};

mod push;
pub use push::{PushError, SignedPush, MAX_PUSH_BYTES};

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// The scheme pads to 32 bytes, not AES's 16: pad values run 1..=32.
const PAD_BLOCK: usize = 32;
const RANDOM_LEN: usize = 16;
const LEN_FIELD: usize = 4;

/// Real EncodingAESKeys are 43 random base64 characters, so the last one usually carries
/// non-zero trailing bits that a strict decoder refuses.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const CIPHERTEXT_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What went wrong verifying, decrypting or reading a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 characters long.
    #[error("the EncodingAESKey must be exactly 43 characters, this one has {len}: copy it again from the WeChat console")]
    KeyLength {
        /// Characters found.
        len: usize,
    },
    /// The EncodingAESKey has characters outside the base64 alphabet.
    #[error("the EncodingAESKey has characters outside base64 (A-Z, a-z, 0-9, +, /): copy it again from the WeChat console")]
    KeyNotBase64,
    /// `msg_signature` does not match.
    #[error("msg_signature does not match: the push was not signed with this platform's message token, or was altered")]
    SignatureMismatch,
    /// The `Encrypt` field is not base64.
    #[error("the Encrypt field is not base64")]
    CiphertextNotBase64,
    /// The ciphertext length is not a positive multiple of the AES block.
    #[error(
        "the ciphertext is {len} bytes, not a positive multiple of 32: it was truncated or altered"
    )]
    CiphertextLength {
        /// Bytes after base64 decoding.
        len: usize,
    },
    /// The PKCS#7 pad is invalid: wrong key, or altered ciphertext.
    #[error("the decrypted message has an invalid pad (last byte {pad}): wrong EncodingAESKey, or the ciphertext was altered")]
    Padding {
        /// The last byte of the plaintext.
        pad: u8,
    },
    /// The length field claims more bytes than the message has.
    #[error("the decrypted message is truncated: it declares {declared} bytes but only {available} follow")]
    Truncated {
        /// Bytes the length field declares.
        declared: usize,
        /// Bytes present.
        available: usize,
    },
    /// The trailing AppID is not this platform's.
    #[error("the message was encrypted for AppID {found:?}, not {expected:?}: check WECHAT_COMPONENT_APPID")]
    AppidMismatch {
        /// This platform's AppID.
        expected: String,
        /// The AppID inside the message.
        found: String,
    },
    /// The message is not UTF-8 text.
    #[error("the decrypted message is not UTF-8 text")]
    NotUtf8,
}

/// A decoded 32-byte EncodingAESKey. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodingAesKey([u8; 32]);

impl EncodingAesKey {
    /// Decodes the 43-character key as shown in the WeChat console.
    pub fn parse(key: &str) -> Result<Self, CryptoError> {
        let key = key.trim();
        if key.chars().count() != 43 {
            return Err(CryptoError::KeyLength {
                len: key.chars().count(),
            });
        }
        let bytes = KEY_ENGINE
            .decode(format!("{key}="))
            .map_err(|_| CryptoError::KeyNotBase64)?;
        let array: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::KeyNotBase64)?;
        Ok(Self(array))
    }

    fn iv(&self) -> &[u8] {
        &self.0[..16]
    }
}

impl fmt::Debug for EncodingAesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncodingAesKey([redacted])")
    }
}

/// `hex(sha1(concat(sort([token, timestamp, nonce, encrypt]))))`.
pub fn signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypt];
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Verifies, decrypts and encrypts pushes for one component AppID.
#[derive(Clone)]
pub struct MsgCrypto {
    token: Secret,
    /// The current key first, then the previous one during a rotation.
    keys: Vec<EncodingAesKey>,
    appid: ComponentAppid,
}

impl fmt::Debug for MsgCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsgCrypto")
            .field("appid", &self.appid)
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// A sealed push, as WeChat would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPush {
    /// The request body.
    pub body: String,
    /// `timestamp` query parameter.
    pub timestamp: String,
    /// `nonce` query parameter.
    pub nonce: String,
    /// `msg_signature` query parameter.
    pub msg_signature: String,
}

impl MsgCrypto {
    /// Builds the codec; `previous` is `WECHAT_ENCODING_AES_KEY_PREVIOUS` during a key rotation.
    pub fn new(
        token: Secret,
        current: EncodingAesKey,
        previous: Option<EncodingAesKey>,
        appid: ComponentAppid,
    ) -> Self {
        let mut keys = vec![current];
        keys.extend(previous);
        Self { token, keys, appid }
    }

    /// The AppID whose messages this codec accepts.
    pub fn appid(&self) -> &ComponentAppid {
        &self.appid
    }

    /// Checks `msg_signature` in constant time.
    pub fn verify_signature(
        &self,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
        msg_signature: &str,
    ) -> Result<(), CryptoError> {
        let expected = signature(self.token.expose(), timestamp, nonce, encrypt);
        let given = msg_signature.trim().to_ascii_lowercase();
        if expected.as_bytes().ct_eq(given.as_bytes()).into() {
            Ok(())
        } else {
            Err(CryptoError::SignatureMismatch)
        }
    }

    /// Decrypts an `Encrypt` value, trying the previous key when the current one fails.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CryptoError> {
        let ciphertext = CIPHERTEXT_ENGINE
            .decode(encrypt.trim())
            .map_err(|_| CryptoError::CiphertextNotBase64)?;
        if ciphertext.is_empty() || ciphertext.len() % PAD_BLOCK != 0 {
            return Err(CryptoError::CiphertextLength {
                len: ciphertext.len(),
            });
        }
        let mut first_error = None;
        for key in &self.keys {
            match self.decrypt_with(key, &ciphertext) {
                Ok(text) => return Ok(text),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.expect("at least one key is always configured"))
    }

    fn decrypt_with(&self, key: &EncodingAesKey, ciphertext: &[u8]) -> Result<String, CryptoError> {
        let plain = Decryptor::new_from_slices(&key.0, key.iv())
            .expect("key and IV lengths are fixed")
            .decrypt_padded_vec_mut::<NoPadding>(ciphertext)
            .map_err(|_| CryptoError::CiphertextLength {
                len: ciphertext.len(),
            })?;
        let pad = *plain.last().expect("ciphertext is non-empty");
        let pad_len = usize::from(pad);
        if pad_len == 0
            || pad_len > PAD_BLOCK
            || plain[plain.len() - pad_len..].iter().any(|b| *b != pad)
        {
            return Err(CryptoError::Padding { pad });
        }
        let content = &plain[..plain.len() - pad_len];
        let header = RANDOM_LEN + LEN_FIELD;
        if content.len() < header {
            return Err(CryptoError::Truncated {
                declared: header,
                available: content.len(),
            });
        }
        let declared =
            u32::from_be_bytes(content[RANDOM_LEN..header].try_into().expect("four bytes"))
                as usize;
        let available = content.len() - header;
        if declared > available {
            return Err(CryptoError::Truncated {
                declared,
                available,
            });
        }
        let (msg, appid) = content[header..].split_at(declared);
        if appid != self.appid.as_str().as_bytes() {
            return Err(CryptoError::AppidMismatch {
                expected: self.appid.to_string(),
                found: String::from_utf8_lossy(appid).chars().take(64).collect(),
            });
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptoError::NotUtf8)
    }

    /// Encrypts a message with the current key and fresh random bytes.
    pub fn encrypt(&self, msg: &str) -> String {
        let random: [u8; RANDOM_LEN] = rand::random();
        self.encrypt_with_random(msg, &random)
    }

    /// Encrypts with the given 16 "random" bytes, for reproducible vectors.
    pub fn encrypt_with_random(&self, msg: &str, random: &[u8; RANDOM_LEN]) -> String {
        let appid = self.appid.as_str().as_bytes();
        let mut plain =
            Vec::with_capacity(RANDOM_LEN + LEN_FIELD + msg.len() + appid.len() + PAD_BLOCK);
        plain.extend_from_slice(random);
        plain.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        plain.extend_from_slice(msg.as_bytes());
        plain.extend_from_slice(appid);
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.resize(plain.len() + pad, pad as u8);
        let key = &self.keys[0];
        let ciphertext = Encryptor::new_from_slices(&key.0, key.iv())
            .expect("key and IV lengths are fixed")
            .encrypt_padded_vec_mut::<NoPadding>(&plain);
        CIPHERTEXT_ENGINE.encode(ciphertext)
    }

    /// Verifies the signature, then decrypts the envelope's `Encrypt`: nothing is parsed from an
    /// unsigned body beyond the envelope itself.
    pub fn open(
        &self,
        envelope: &EncryptedEnvelope,
        timestamp: &str,
        nonce: &str,
        msg_signature: &str,
    ) -> Result<String, CryptoError> {
        self.verify_signature(timestamp, nonce, &envelope.encrypt, msg_signature)?;
        self.decrypt(&envelope.encrypt)
    }

    /// Encrypts and signs a message as WeChat does for a push to the event URL.
    pub fn seal(&self, msg: &str, timestamp: &str, nonce: &str) -> SealedPush {
        let encrypt = self.encrypt(msg);
        let msg_signature = signature(self.token.expose(), timestamp, nonce, &encrypt);
        let body = EncryptedEnvelope {
            app_id: Some(self.appid.to_string()),
            to_user_name: None,
            encrypt,
        }
        .to_xml();
        SealedPush {
            body,
            timestamp: timestamp.to_owned(),
            nonce: nonce.to_owned(),
            msg_signature,
        }
    }
}
