//! The store port ([`Store`]) and its DynamoDB adapter ([`DynamoStore`]).
//!
//! Every item is scoped by component AppID. Writes that replace a token or a refresh token are
//! conditional on a lease owner or a version, so a slower writer never overwrites a newer value.

mod dynamo;
mod expr;

pub use dynamo::DynamoStore;

use async_trait::async_trait;
use wxopen_models::records::{AuthorizerRecord, HistoryEntry};
use wxopen_models::{
    AccessToken, AuthorizerAppid, ComponentAppid, PermissionId, RefreshToken, VerifyTicket,
};

/// The store failed; the operation did not happen (or, for a timeout, may have).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or refused the request.
    #[error("DynamoDB is unavailable ({0}): check TABLE_NAME, the function's IAM permissions and the region, then retry")]
    Unavailable(String),
    /// An item exists but cannot be read back.
    #[error("the stored item {key} is unreadable ({reason}): it was written by an incompatible version or edited by hand")]
    Corrupt {
        /// The item's sort key.
        key: String,
        /// What was wrong.
        reason: String,
    },
    /// Concurrent writers kept winning; the write was not made.
    #[error("the stored item {key} kept changing under concurrent writers: retry the request")]
    Contended {
        /// The item's sort key.
        key: String,
    },
}

/// An access token with its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The token.
    pub token: AccessToken,
    /// Expiry, epoch seconds.
    pub expires_at: i64,
}

impl CachedToken {
    /// True when the token stays valid for more than `margin_secs` after `now_secs`.
    pub fn is_fresh(&self, now_secs: i64, margin_secs: i64) -> bool {
        self.expires_at - margin_secs > now_secs
    }
}

/// A refresh lease: who holds it and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The holder's instance id.
    pub owner: String,
    /// Lapse time, epoch milliseconds.
    pub until_ms: i64,
}

/// The stored `component_verify_ticket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    /// The ticket.
    pub ticket: VerifyTicket,
    /// The push's `CreateTime`, epoch seconds.
    pub create_time: i64,
}

/// Result of saving a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketSave {
    /// The ticket is now the stored one.
    Saved,
    /// A ticket at least as new is stored; this one was ignored.
    Stale {
        /// `CreateTime` of the stored ticket.
        stored_create_time: i64,
    },
}

/// The component token item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenSlot {
    /// The stored token, if any.
    pub token: Option<CachedToken>,
    /// The refresh lease, if one was taken and not cleared.
    pub lease: Option<Lease>,
}

/// A stored `api_get_authorizer_info` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoSnapshot {
    /// The response JSON as WeChat sent it.
    pub json: String,
    /// When it was fetched, epoch milliseconds.
    pub fetched_at_ms: i64,
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
    /// `CreateTime` (or wall time) of the last authorization, epoch seconds.
    pub last_authorized_at: i64,
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
}

/// One page of authorizers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerPage {
    /// The records, ordered by AppID.
    pub items: Vec<AuthorizerRecord>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// What [`Store::recover_refresh_token`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverOutcome {
    /// The authorizer was not stored; it was added.
    Added,
    /// The stored authorizer lacked a usable refresh token; it now has one.
    Restored,
    /// Nothing to do: the authorizer has a refresh token, or was revoked later.
    Unchanged,
}

/// Persistent state of the platform.
#[async_trait]
pub trait Store: Send + Sync {
    /// Saves a ticket unless a ticket at least as new (by `CreateTime`) is stored.
    async fn save_ticket(
        &self,
        component: &ComponentAppid,
        ticket: &VerifyTicket,
        create_time: i64,
    ) -> Result<TicketSave, StoreError>;

    /// The latest ticket.
    async fn load_ticket(
        &self,
        component: &ComponentAppid,
    ) -> Result<Option<StoredTicket>, StoreError>;

    /// The component token item (strongly consistent).
    async fn load_component_token(
        &self,
        component: &ComponentAppid,
    ) -> Result<TokenSlot, StoreError>;

    /// Takes the refresh lease when it is free, lapsed or already ours. `Some` with the item as
    /// it is now when taken, `None` when another instance holds it.
    async fn lease_component_token(
        &self,
        component: &ComponentAppid,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<TokenSlot>, StoreError>;

    /// Writes a new token and clears the lease, only while `owner` holds it. `false` when the
    /// lease was lost (nothing written).
    async fn store_component_token(
        &self,
        component: &ComponentAppid,
        owner: &str,
        token: &CachedToken,
    ) -> Result<bool, StoreError>;

    /// Clears the lease if `owner` holds it.
    async fn release_component_lease(
        &self,
        component: &ComponentAppid,
        owner: &str,
    ) -> Result<(), StoreError>;

    /// Removes the token only if it is still `failed`. `true` when removed.
    async fn drop_component_token(
        &self,
        component: &ComponentAppid,
        failed: &AccessToken,
    ) -> Result<bool, StoreError>;

    /// Stores an exchange result (new authorizer or re-authorization) with a history item.
    async fn save_authorization(
        &self,
        component: &ComponentAppid,
        auth: &NewAuthorization,
        authorized_at: i64,
        now_ms: i64,
    ) -> Result<AuthorizerRecord, StoreError>;

    /// One authorizer (strongly consistent).
    async fn load_authorizer(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredAuthorizer>, StoreError>;

    /// A page of authorizers, at most `limit`, after `cursor`.
    async fn list_authorizers(
        &self,
        component: &ComponentAppid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AuthorizerPage, StoreError>;

    /// Marks an authorizer revoked (its tokens dropped, the record and history kept), unless it
    /// authorized again after `event_time` (epoch seconds). `None` when nothing was stored.
    async fn revoke_authorizer(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        event_time: i64,
        now_ms: i64,
    ) -> Result<Option<AuthorizerRecord>, StoreError>;

    /// The authorizer's history, oldest first.
    async fn history(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
    ) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Takes the authorizer's refresh lease when it is authorized and the lease is free, lapsed
    /// or ours. `Some` with the item as it is now when taken, `None` when not.
    async fn lease_authorizer_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<StoredAuthorizer>, StoreError>;

    /// Writes a refreshed access token, and the refresh token WeChat returned, in one write
    /// conditional on the lease owner and the version read. A changed refresh token bumps the
    /// version and adds a history item. `false` when the condition failed (nothing written).
    #[allow(clippy::too_many_arguments)]
    async fn store_authorizer_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        owner: &str,
        expected_version: u64,
        token: &CachedToken,
        refresh_token: Option<&RefreshToken>,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Clears the authorizer's lease if `owner` holds it.
    async fn release_authorizer_lease(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        owner: &str,
    ) -> Result<(), StoreError>;

    /// Removes the cached access token only if it is still `failed`.
    async fn drop_authorizer_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        failed: &AccessToken,
    ) -> Result<bool, StoreError>;

    /// Marks the authorizer `needs_reauth` if its refresh token is still `failed` (WeChat
    /// refused it). The token is kept for recovery; nothing is deleted.
    async fn mark_needs_reauth(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        failed: &RefreshToken,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Stores a refresh token from `api_get_authorizer_list` for an authorizer that is missing,
    /// has none, or needs re-authorization. Never touches a revoked authorizer whose revocation
    /// is newer than `auth_time`.
    async fn recover_refresh_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        refresh_token: &RefreshToken,
        auth_time: i64,
        now_ms: i64,
    ) -> Result<RecoverOutcome, StoreError>;

    /// Records that the authorization code with this SHA-256 hash was exchanged for `appid`,
    /// until `expires_at` (epoch seconds; the item lapses through the table's TTL).
    async fn remember_exchanged_code(
        &self,
        component: &ComponentAppid,
        code_hash: &str,
        appid: &AuthorizerAppid,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// The authorizer a code (by hash) was exchanged for, while the record lasts.
    async fn exchanged_code(
        &self,
        component: &ComponentAppid,
        code_hash: &str,
    ) -> Result<Option<AuthorizerAppid>, StoreError>;

    /// Saves the latest `api_get_authorizer_info` answer.
    async fn save_info_snapshot(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        snapshot: &InfoSnapshot,
    ) -> Result<(), StoreError>;
}
