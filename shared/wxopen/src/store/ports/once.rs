//! Things that may happen only once: a `state` used at the callback, a message id accepted at
//! the message URL, a renewal of a token WeChat refused (once per key per minute), the exchange
//! of an authorization code (by the push or the redirect, whichever comes first). The first use is recorded with a conditional write that lives until the
//! thing could no longer be presented anyway (its expiry), so a replay finds the record.

use super::StoreError;
use crate::clock::Timestamp;
use async_trait::async_trait;

/// What is used once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnceKind {
    /// A callback's `state` (by its nonce).
    State,
    /// A message at the message URL (by its id).
    Message,
    /// A renewal caused by WeChat refusing a token (by the token's key).
    Renewal,
    /// The exchange of an authorization code (by its hash), claimed by the push or the redirect.
    Code,
    /// A slot of the quota-reset budget (by account and day, or account, month and slot).
    QuotaReset,
    /// An open of a minted link (by its hash, minute and slot).
    LinkOpen,
    /// The platform's one `submit_audit` under way (the audit quota is shared by every Mini
    /// Program and instance): a lock, forgotten when the submission is settled.
    Submission,
}

impl OnceKind {
    /// Its name in stored keys.
    pub fn as_str(self) -> &'static str {
        match self {
            OnceKind::State => "state",
            OnceKind::Message => "message",
            OnceKind::Renewal => "renewal",
            OnceKind::Code => "code",
            OnceKind::QuotaReset => "quota_reset",
            OnceKind::LinkOpen => "link_open",
            OnceKind::Submission => "submission",
        }
    }
}

/// One use to record.
#[derive(Debug, Clone, Copy)]
pub struct Use<'a> {
    /// What is used.
    pub kind: OnceKind,
    /// Its key: a hash or an id, never a secret in clear.
    pub key: &'a str,
    /// Until when the record is kept (epoch seconds are enough).
    pub until: Timestamp,
    /// The time of the use: an earlier record that expired before it does not count.
    pub now: Timestamp,
}

/// The record of first uses.
#[async_trait]
pub trait OnceStore: Send + Sync {
    /// Records the use; `true` if it is the first, `false` while an earlier one is recorded.
    async fn first_use(&self, use_: &Use<'_>) -> Result<bool, StoreError>;

    /// Forgets a recorded use whose work failed, so that the sender's retry is taken.
    async fn forget_use(&self, kind: OnceKind, key: &str) -> Result<(), StoreError>;
}
