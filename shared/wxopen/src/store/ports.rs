//! The store's ports: narrow traits split by capability, each bound to one component when the
//! adapter is built, and the plain data they exchange. The rules deciding what a change means
//! live in [`super::rules`], which both adapters call.

use super::reconcile::ReconcileStore;
use crate::clock::Timestamp;
use async_trait::async_trait;
use std::time::Duration;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::records::{AuthorizerRecord, HistoryEntry};
use wxopen_models::{
    AccessToken, AuthorizerAppid, ComponentAppid, PermissionId, RefreshToken, VerifyTicket,
};

/// The store failed; the operation did not happen (or, for a timeout, may have).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or refused the request. The details are logged where the
    /// failure happened; this message is what a caller sees.
    #[error("DynamoDB could not {operation}{}: check TABLE_NAME, the function's IAM permissions and the region, then retry", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Unavailable {
        /// What was being done, as a verb phrase ("read an authorizer").
        operation: &'static str,
        /// DynamoDB's error code, when it answered with one.
        code: Option<String>,
    },
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

/// The stored `component_verify_ticket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    /// The ticket.
    pub ticket: VerifyTicket,
    /// The push's `CreateTime`.
    pub create_time: Timestamp,
}

/// Result of saving a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketSave {
    /// The ticket is now the stored one.
    Saved,
    /// A ticket at least as new is stored; this one was ignored.
    Stale {
        /// `CreateTime` of the stored ticket.
        stored_create_time: Timestamp,
    },
}

/// The platform's request for a ticket push, as claimed by one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRequest {
    /// Whether this caller may ask WeChat now (nobody asked within the interval).
    pub claimed: bool,
    /// When the platform started asking in the current wait: claims less than
    /// [`TICKET_WAIT_GAP`] intervals apart belong to one wait.
    pub waiting_since: Timestamp,
}

/// Claims further apart than this many intervals start a new wait (a ticket arrived between
/// them, so nobody needed to ask).
pub const TICKET_WAIT_GAP: u32 = 3;

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

/// One page of authorizers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerPage {
    /// The records, ordered by AppID.
    pub items: Vec<AuthorizerRecord>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<AuthorizerAppid>,
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

/// A stored history item, as the table's stream delivers it to the notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryChange {
    /// The item's key (`pk/sk`): unique and the same on every delivery.
    pub key: String,
    /// The platform the item belongs to (one table may serve several).
    pub component_appid: ComponentAppid,
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// What changed.
    pub entry: HistoryEntry,
}

/// The latest `component_verify_ticket`.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Saves a ticket unless a ticket at least as new (by `CreateTime`) is stored.
    async fn save_ticket(
        &self,
        ticket: &VerifyTicket,
        create_time: Timestamp,
    ) -> Result<TicketSave, StoreError>;

    /// The latest ticket.
    async fn load_ticket(&self) -> Result<Option<StoredTicket>, StoreError>;

    /// Claims the right to ask WeChat for a ticket push (`api_start_push_ticket`) now:
    /// `claimed` for the one caller across all instances that may ask, when nobody asked in the
    /// last `every`; with when the current wait for a ticket began, for every caller.
    async fn claim_ticket_request(
        &self,
        now: Timestamp,
        every: Duration,
    ) -> Result<TicketRequest, StoreError>;
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

/// Listing stored authorizers.
#[async_trait]
pub trait AuthorizerListing: Send + Sync {
    /// A page of at most `limit` authorizers after `cursor` (a previous page's
    /// `next_cursor`). `None` when `cursor` names no stored authorizer: it was not issued here.
    async fn list_authorizers(
        &self,
        cursor: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<Option<AuthorizerPage>, StoreError>;
}

/// Reading an authorizer's history.
#[async_trait]
pub trait HistoryReader: Send + Sync {
    /// The authorizer's history, oldest first.
    async fn history(&self, appid: &AuthorizerAppid) -> Result<Vec<HistoryEntry>, StoreError>;
}

/// Every capability: what an adapter implements and a container builds once.
pub trait Store:
    TicketStore + TokenStore + AuthorizerStore + AuthorizerListing + HistoryReader + ReconcileStore
{
}

impl<T> Store for T where
    T: TicketStore
        + TokenStore
        + AuthorizerStore
        + AuthorizerListing
        + HistoryReader
        + ReconcileStore
{
}
