//! The reconcile's port: its stored position and lease, and a cheap read of every stored
//! authorizer to compare WeChat's list against.

use super::{Lease, StoreError, StoredAuthorizer};
use crate::clock::Timestamp;
use async_trait::async_trait;
use serde::Serialize;

/// How far the reconcile pass in progress got, and what it did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileProgress {
    /// The next offset into `api_get_authorizer_list`; 0 starts a new pass.
    pub offset: u32,
    /// WeChat's `total_count` when last listed.
    pub total_count: u64,
    /// Authorizers compared in this pass.
    pub compared: u64,
    /// Missing authorizers added in this pass.
    pub added: u64,
    /// Refresh tokens restored or replaced in this pass.
    pub restored: u64,
    /// Runs this pass has taken so far.
    pub runs: u32,
    /// When the last pass completed, epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_completed_at: Option<i64>,
}

/// The reconcile item: its progress and, while a run works, its lease.
#[async_trait]
pub trait ReconcileStore: Send + Sync {
    /// Takes the reconcile lease when it is free, lapsed or already `lease.owner`'s; the stored
    /// progress when taken, `None` when another run holds it.
    async fn take_reconcile(
        &self,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<ReconcileProgress>, StoreError>;

    /// Stores the progress while `owner` holds the lease (and releases it when `release`).
    /// `false` when the lease was lost: another run took over.
    async fn save_reconcile(
        &self,
        owner: &str,
        progress: &ReconcileProgress,
        release: bool,
    ) -> Result<bool, StoreError>;

    /// Every stored authorizer with what the comparison needs (record and refresh token; no
    /// access token, lease or info snapshot), read page by page with a `Query`.
    async fn scan_authorizers(&self) -> Result<Vec<StoredAuthorizer>, StoreError>;
}
