//! Authorizers: their records, authorization, revocation, recovery of a refresh token, info
//! snapshots, and the `ext` remembered while an authorization is under way.

use super::{CachedToken, Credentials, Lease, StoreError, TokenSlot};
use crate::clock::Timestamp;
use async_trait::async_trait;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::{AuthorizerAppid, PermissionId, RefreshToken};

/// A stored `api_get_authorizer_info` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoSnapshot {
    /// The response JSON as WeChat sent it.
    pub json: String,
    /// When it was fetched.
    pub fetched_at: Timestamp,
}

/// Everything stored about an authorizer, secrets included. Only the token manager and the
/// services see this; callers get [`AuthorizerRecord`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuthorizer {
    /// The public part.
    pub record: AuthorizerRecord,
    /// The refresh token, if one is stored.
    pub refresh_token: Option<RefreshToken>,
    /// The cached access token.
    pub access: Option<CachedToken>,
    /// The refresh lease.
    pub lease: Option<Lease>,
    /// The last info snapshot.
    pub info: Option<InfoSnapshot>,
    /// `CreateTime` (or wall time) of the last authorization.
    pub last_authorized_at: Timestamp,
}

impl From<StoredAuthorizer> for TokenSlot {
    fn from(a: StoredAuthorizer) -> Self {
        TokenSlot {
            token: a.access,
            lease: a.lease,
            credentials: Some(Credentials {
                record: a.record,
                refresh_token: a.refresh_token,
            }),
        }
    }
}

/// The result of an exchange, to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthorization {
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// The refresh token WeChat returned; `None` when it sent none.
    pub refresh_token: Option<RefreshToken>,
    /// The access token WeChat returned.
    pub access: Option<CachedToken>,
    /// The granted permission sets.
    pub permission_ids: Vec<PermissionId>,
    /// The SHA-256 (hex) of the code exchanged, recorded in the same write so that a
    /// concurrent exchange of the same code (the push racing the redirect) finds the result.
    pub code_hash: Option<String>,
    /// The caller data of a minted link; `None` keeps what is stored.
    pub ext: Option<String>,
}

/// What the caller of [`AuthorizerStore::recover_refresh_token`] believes is stored.
#[derive(Debug, Clone, Copy)]
pub enum Known<'a> {
    /// Nothing known: read first.
    Unknown,
    /// Not stored (a comparison found no item).
    Missing,
    /// Stored as this (a comparison read it).
    Stored(&'a StoredAuthorizer),
}

/// A listed authorizer to recover.
#[derive(Debug, Clone, Copy)]
pub struct Recovery<'a> {
    /// What `api_get_authorizer_list` listed.
    pub listed: &'a AuthorizerListItem,
    /// What is believed stored.
    pub known: Known<'a>,
    /// The permission ids to store for an added authorizer (`api_get_authorizer_info`).
    pub permission_ids: &'a [PermissionId],
}

/// What [`AuthorizerStore::recover_refresh_token`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverOutcome {
    /// The authorizer was not stored; it was added.
    Added,
    /// The stored authorizer lacked a usable refresh token, or had another; it now has the
    /// listed one.
    Restored,
    /// Nothing to do: the authorizer has the listed refresh token, or was revoked later.
    Unchanged,
}

/// Authorizers: what authorization, revocation and recovery change.
#[async_trait]
pub trait AuthorizerStore: Send + Sync {
    /// One authorizer (strongly consistent).
    async fn load_authorizer(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredAuthorizer>, StoreError>;

    /// Stores an exchange result (new authorizer or re-authorization) with a history item and,
    /// when given, the record of the exchanged code, in one write.
    async fn save_authorization(
        &self,
        auth: &NewAuthorization,
        authorized_at: Timestamp,
        now: Timestamp,
    ) -> Result<AuthorizerRecord, StoreError>;

    /// Marks an authorizer revoked (its tokens dropped, the record and history kept), unless it
    /// authorized again after `event_time`. `None` when nothing was stored.
    async fn revoke_authorizer(
        &self,
        appid: &AuthorizerAppid,
        event_time: Timestamp,
        now: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError>;

    /// Stores the refresh token `api_get_authorizer_list` listed for an authorizer that is
    /// missing, has none or another one, or needs re-authorization. Never touches a revoked
    /// authorizer whose revocation is newer than the listed `auth_time`. The write is
    /// conditional on what the caller believes is stored; when that changed, it reads and
    /// decides again.
    async fn recover_refresh_token(
        &self,
        recovery: &Recovery<'_>,
        now: Timestamp,
    ) -> Result<RecoverOutcome, StoreError>;

    /// Saves the latest `api_get_authorizer_info` answer unless a newer one is stored.
    async fn save_info_snapshot(
        &self,
        appid: &AuthorizerAppid,
        snapshot: &InfoSnapshot,
    ) -> Result<(), StoreError>;

    /// Binds `ext` to a stored authorizer that has none (a registration matched after the
    /// account's authorization was stored), with an `authorized` history item carrying it, so
    /// the account is published again, as `Authorizer Authorized` with its `ext`. A record that
    /// has an `ext` keeps it. `None` when the authorizer is not stored.
    async fn bind_ext(
        &self,
        appid: &AuthorizerAppid,
        ext: &str,
        now: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError>;

    /// The authorizer a code (by hash) was exchanged for, while the record lasts.
    async fn exchanged_code(&self, code_hash: &str) -> Result<Option<AuthorizerAppid>, StoreError>;

    /// Remembers the `ext` an authorization started with, by the hash of its pre-auth code,
    /// until `until`: the `authorized` push names the pre-auth code, so whichever of the push
    /// and the redirect exchanges the code first stores the binding.
    async fn save_pending_ext(&self, pending: &PendingExt<'_>) -> Result<(), StoreError>;

    /// The `ext` remembered for a pre-auth code (by hash), while it lasts.
    async fn pending_ext(&self, pre_auth_hash: &str) -> Result<Option<String>, StoreError>;
}

/// The `ext` an authorization started with, remembered by the hash of its pre-auth code until
/// `until`.
#[derive(Debug, Clone, Copy)]
pub struct PendingExt<'a> {
    /// The SHA-256 of the pre-auth code, hex.
    pub pre_auth_hash: &'a str,
    /// The caller data of the minted link.
    pub ext: &'a str,
    /// When it lapses.
    pub until: Timestamp,
}
