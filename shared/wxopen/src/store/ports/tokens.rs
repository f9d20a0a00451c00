//! Access tokens of both kinds: the cached token, the lease that lets one writer renew it, and
//! the conditional writes that keep a slower writer from overwriting a newer value.

use super::StoreError;
use crate::clock::Timestamp;
use async_trait::async_trait;
use std::time::Duration;
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::{AccessToken, AuthorizerAppid, PermissionId, RefreshToken};

/// An access token with its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The token.
    pub token: AccessToken,
    /// When it expires.
    pub expires_at: Timestamp,
}

impl CachedToken {
    /// True when the token stays valid for more than `margin` after `now`.
    pub fn is_fresh(&self, now: Timestamp, margin: Duration) -> bool {
        self.expires_at > now.plus(margin)
    }
}

/// A refresh lease: who holds it and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The holder's instance id.
    pub owner: String,
    /// When it lapses.
    pub until: Timestamp,
}

/// Which token: the component's, or one authorizer's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenKey {
    /// `component_access_token`.
    Component,
    /// An `authorizer_access_token`.
    Authorizer(AuthorizerAppid),
}

impl std::fmt::Display for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Component => f.write_str("component"),
            Self::Authorizer(appid) => write!(f, "{appid}"),
        }
    }
}

/// An authorizer's credentials, as the token refresh needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The public record (status, version, permission ids).
    pub record: AuthorizerRecord,
    /// The refresh token, if one is stored.
    pub refresh_token: Option<RefreshToken>,
}

/// A token item: the cached token, its refresh lease, and for an authorizer its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenSlot {
    /// The stored token, if any.
    pub token: Option<CachedToken>,
    /// The refresh lease, if one was taken and not cleared.
    pub lease: Option<Lease>,
    /// `Some` for an authorizer's slot.
    pub credentials: Option<Credentials>,
}

/// A refreshed token to write, conditional on the lease (and, for an authorizer, the version).
#[derive(Debug, Clone, Copy)]
pub struct TokenWrite<'a> {
    /// The lease holder writing.
    pub owner: &'a str,
    /// The new token.
    pub token: &'a CachedToken,
    /// For an authorizer: the version read when the lease was taken, and a refresh token that
    /// replaces the stored one (written in the same write, with a history item).
    pub authorizer: Option<AuthorizerTokenWrite<'a>>,
    /// Now.
    pub now: Timestamp,
}

/// The authorizer part of a [`TokenWrite`].
#[derive(Debug, Clone, Copy)]
pub struct AuthorizerTokenWrite<'a> {
    /// The version the refresh started from.
    pub expected_version: u64,
    /// A different refresh token WeChat returned.
    pub replaced_refresh_token: Option<&'a RefreshToken>,
    /// The permission ids, for the history item.
    pub permission_ids: &'a [PermissionId],
}

/// Cached access tokens and their refresh leases, for both kinds of token.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The token item (strongly consistent). `None` for an authorizer that is not stored.
    async fn load_slot(&self, key: &TokenKey) -> Result<Option<TokenSlot>, StoreError>;

    /// Takes the refresh lease when it is free, lapsed or already `lease.owner`'s (and, for an
    /// authorizer, while it is authorized). The item as it is now when taken, `None` when not.
    async fn take_lease(
        &self,
        key: &TokenKey,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<TokenSlot>, StoreError>;

    /// Writes a refreshed token and clears the lease, only while `write.owner` holds it (and
    /// the authorizer's version is unchanged). `false` when the condition failed.
    async fn write_token(&self, key: &TokenKey, write: &TokenWrite<'_>)
        -> Result<bool, StoreError>;

    /// Clears the lease if `owner` holds it.
    async fn release_lease(&self, key: &TokenKey, owner: &str) -> Result<(), StoreError>;

    /// Removes the cached token only if it is still `failed`. `true` when removed.
    async fn drop_token(&self, key: &TokenKey, failed: &AccessToken) -> Result<bool, StoreError>;

    /// Marks the authorizer `needs_reauth` if its refresh token is still the one in `refused`
    /// (WeChat refused it). The token is kept for recovery; nothing is deleted.
    async fn mark_needs_reauth(
        &self,
        refused: &Credentials,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}
