//! The reconcile's progress and lease, and the comparison's read, in memory.

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::store::rules::lease_is_free;
use crate::store::{
    Lease, ReconcileProgress, ReconcileStore, SealStore, StoreError, StoredAuthorizer,
};
use async_trait::async_trait;

#[async_trait]
impl ReconcileStore for MemoryStore {
    async fn take_reconcile(
        &self,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<ReconcileProgress>, StoreError> {
        Ok(self.with(|c| {
            let (progress, held) = &mut c.reconcile;
            if !lease_is_free(held.as_ref(), &lease.owner, now) {
                return None;
            }
            *held = Some(lease.clone());
            Some(progress.clone())
        }))
    }

    async fn save_reconcile(
        &self,
        run: &str,
        reached: &ReconcileProgress,
        done: bool,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|c| {
            let (stored, held) = &mut c.reconcile;
            if held.as_ref().map(|l| l.owner.as_str()) != Some(run) {
                return false;
            }
            *stored = reached.clone();
            if done {
                *held = None;
            }
            true
        }))
    }

    async fn scan_authorizers(&self) -> Result<Vec<StoredAuthorizer>, StoreError> {
        Ok(self.with(|c| {
            c.authorizers
                .values()
                .map(|a| StoredAuthorizer {
                    access: None,
                    lease: None,
                    info: None,
                    ..a.clone()
                })
                .collect()
        }))
    }
}

/// Memory is not at rest: nothing is sealed, so there is nothing to migrate or rotate.
#[async_trait]
impl SealStore for MemoryStore {
    async fn seal_stored_tokens(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn rotate_data_key(&self) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
}
