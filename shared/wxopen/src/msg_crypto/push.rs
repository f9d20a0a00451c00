//! A whole signed push (to the event URL, or a message to the message URL), verified and
//! decrypted in one step: size, signature parameters,
//! encryption mode, envelope, signature, decryption, and the AppID inside. Nothing but the
//! envelope is parsed before the signature holds.

use super::{signature, CryptoError, MsgCrypto, SealedPush};
use wxopen_models::events::{EncryptedEnvelope, EventError};
use wxopen_models::messages::{parse_envelope, BodyFormat, ReplyEnvelope};

/// Longest push body accepted.
pub const MAX_PUSH_BYTES: usize = 64 * 1024;

/// A push as received: the query's signature parameters and the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignedPush<'a> {
    /// `timestamp` query parameter.
    pub timestamp: Option<&'a str>,
    /// `nonce` query parameter.
    pub nonce: Option<&'a str>,
    /// `msg_signature` query parameter.
    pub msg_signature: Option<&'a str>,
    /// `encrypt_type` query parameter.
    pub encrypt_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// Why a push was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// `timestamp`, `nonce` or `msg_signature` is missing.
    #[error(
        "the push is not signed: timestamp, nonce and msg_signature are required in the query"
    )]
    Unsigned,
    /// The signature does not match.
    #[error(transparent)]
    BadSignature(CryptoError),
    /// `encrypt_type` is not `aes`.
    #[error("encrypt_type {0:?} is not supported: set message encryption to safe mode (aes) in the WeChat console")]
    UnsupportedEncryption(String),
    /// The body is too large.
    #[error("the push body is {len} bytes; at most {max} are accepted")]
    TooLarge {
        /// Bytes received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The envelope or the decrypted event is not readable.
    #[error(transparent)]
    Malformed(#[from] EventError),
    /// The ciphertext could not be decrypted.
    #[error(transparent)]
    Undecryptable(CryptoError),
    /// The signed `timestamp` is too far from now: a replay of an old message, or a clock
    /// far off.
    #[error("the message's signed timestamp {timestamp} is more than {window_secs} s from now: a replayed or delayed message is not taken")]
    OutOfWindow {
        /// The signed timestamp.
        timestamp: String,
        /// The window either side of now.
        window_secs: u64,
    },
    /// The message names another account than the URL it was posted to.
    #[error("the message is for the account {to_user_name}, not {appid} whose URL it was posted to: it is not taken")]
    WrongAccount {
        /// The AppID in the URL.
        appid: String,
        /// The signed `ToUserName`.
        to_user_name: String,
    },
    /// The push was meant for another component.
    #[error("the push is for component {found}, not this platform's {expected}: check WECHAT_COMPONENT_APPID")]
    WrongComponent {
        /// This platform.
        expected: String,
        /// The push's AppID.
        found: String,
    },
}

impl MsgCrypto {
    /// Verifies and decrypts a whole push; the plaintext XML on success.
    pub fn open_push(&self, push: &SignedPush<'_>) -> Result<String, PushError> {
        self.open_signed(push, |body| {
            EncryptedEnvelope::parse_xml(body).map(|e| (e, BodyFormat::Xml))
        })
        .map(|(text, _)| text)
    }

    /// Verifies and decrypts a message to the message URL, XML or JSON; the plaintext and the
    /// format it came in (the reply must use the same).
    pub fn open_message(&self, push: &SignedPush<'_>) -> Result<(String, BodyFormat), PushError> {
        self.open_signed(push, parse_envelope)
    }

    /// Size, signature parameters and encryption mode, then the envelope (nothing else is read
    /// before the signature holds), the signature, decryption and the AppID inside.
    fn open_signed(
        &self,
        push: &SignedPush<'_>,
        envelope: impl Fn(&str) -> Result<(EncryptedEnvelope, BodyFormat), EventError>,
    ) -> Result<(String, BodyFormat), PushError> {
        if push.body.len() > MAX_PUSH_BYTES {
            return Err(PushError::TooLarge {
                len: push.body.len(),
                max: MAX_PUSH_BYTES,
            });
        }
        let (Some(timestamp), Some(nonce), Some(signature)) =
            (push.timestamp, push.nonce, push.msg_signature)
        else {
            return Err(PushError::Unsigned);
        };
        if let Some(kind) = push.encrypt_type.filter(|k| !k.eq_ignore_ascii_case("aes")) {
            return Err(PushError::UnsupportedEncryption(
                kind.chars().take(32).collect(),
            ));
        }
        let body = std::str::from_utf8(push.body)
            .map_err(|_| PushError::Malformed(EventError::Xml("the body is not UTF-8".into())))?;
        let (envelope, format) = envelope(body)?;
        self.verify_signature(timestamp, nonce, &envelope.encrypt, signature)
            .map_err(PushError::BadSignature)?;
        let text = self.decrypt(&envelope.encrypt).map_err(|e| match e {
            CryptoError::AppidMismatch { expected, found } => {
                PushError::WrongComponent { expected, found }
            }
            other => PushError::Undecryptable(other),
        })?;
        Ok((text, format))
    }

    /// Encrypts and signs a message as WeChat sends it to the message URL: the envelope names
    /// the account (`to_user_name`) and is written in `format`.
    pub fn seal_message(
        &self,
        msg: &str,
        to_user_name: &str,
        format: BodyFormat,
        timestamp: &str,
        nonce: &str,
    ) -> SealedPush {
        let encrypt = self.encrypt(msg);
        let msg_signature = signature(self.token.expose(), timestamp, nonce, &encrypt);
        let body = match format {
            BodyFormat::Xml => EncryptedEnvelope {
                app_id: None,
                to_user_name: Some(to_user_name.to_owned()),
                encrypt,
            }
            .to_xml(),
            BodyFormat::Json => {
                serde_json::json!({"ToUserName": to_user_name, "Encrypt": encrypt}).to_string()
            }
        };
        SealedPush {
            body,
            timestamp: timestamp.to_owned(),
            nonce: nonce.to_owned(),
            msg_signature,
        }
    }

    /// Verifies and decrypts a passive reply, as WeChat does with what the message URL answers.
    pub fn open_reply(&self, body: &str) -> Result<(String, BodyFormat), PushError> {
        let (reply, format) = ReplyEnvelope::parse(body)?;
        self.verify_signature(
            &reply.timestamp,
            &reply.nonce,
            &reply.encrypt,
            &reply.msg_signature,
        )
        .map_err(PushError::BadSignature)?;
        let text = self
            .decrypt(&reply.encrypt)
            .map_err(PushError::Undecryptable)?;
        Ok((text, format))
    }

    /// A passive reply to a message: `reply` (already rendered in `format`) encrypted and
    /// signed, in the envelope WeChat expects for that format.
    pub fn seal_reply(
        &self,
        reply: &str,
        format: BodyFormat,
        timestamp: &str,
        nonce: &str,
    ) -> String {
        let encrypt = self.encrypt(reply);
        let signature = signature(self.token.expose(), timestamp, nonce, &encrypt);
        match format {
            BodyFormat::Xml => format!(
                "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>\
                 <TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
            ),
            BodyFormat::Json => serde_json::json!({
                "Encrypt": encrypt,
                "MsgSignature": signature,
                "TimeStamp": timestamp.parse::<i64>().map(serde_json::Value::from).unwrap_or_else(|_| timestamp.into()),
                "Nonce": nonce,
            })
            .to_string(),
        }
    }
}
