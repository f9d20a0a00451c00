//! Rollouts and their targets in memory, each write conditional as on DynamoDB.

use super::MemoryStore;
use crate::store::{RolloutStore, StoreError, StoredRollout, StoredTarget};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use wxopen_models::rollouts::RolloutState;
use wxopen_models::AuthorizerAppid;

/// Rollouts by id, targets by rollout and AppID, and which rollout each account's audit is in.
#[derive(Debug, Default)]
pub(super) struct Rollouts {
    rollouts: BTreeMap<String, StoredRollout>,
    targets: BTreeMap<(String, AuthorizerAppid), StoredTarget>,
    audits: HashMap<AuthorizerAppid, String>,
}

#[async_trait]
impl RolloutStore for MemoryStore {
    async fn create_rollout(
        &self,
        rollout: &StoredRollout,
        targets: &[StoredTarget],
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let r = &mut c.rollouts;
            r.rollouts.insert(rollout.id.clone(), rollout.clone());
            for t in targets {
                let key = (rollout.id.clone(), t.appid.clone());
                r.targets.insert(
                    key,
                    StoredTarget {
                        version: 1,
                        ..t.clone()
                    },
                );
            }
        });
        Ok(())
    }

    async fn rollout(&self, id: &str) -> Result<Option<StoredRollout>, StoreError> {
        Ok(self.with(|c| c.rollouts.rollouts.get(id).cloned()))
    }

    async fn running_rollouts(&self) -> Result<Vec<StoredRollout>, StoreError> {
        Ok(self.with(|c| {
            let all = c.rollouts.rollouts.values();
            all.filter(|r| r.state == RolloutState::Running)
                .cloned()
                .collect()
        }))
    }

    async fn set_rollout_state(
        &self,
        id: &str,
        from: RolloutState,
        to: RolloutState,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|c| match c.rollouts.rollouts.get_mut(id) {
            Some(r) if r.state == from => {
                r.state = to;
                true
            }
            _ => false,
        }))
    }

    async fn claim_audit_slot(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.with(|c| match c.rollouts.rollouts.get_mut(id) {
            Some(r) if r.in_audit < r.max_in_audit => {
                r.in_audit += 1;
                true
            }
            _ => false,
        }))
    }

    async fn free_audit_slot(&self, id: &str) -> Result<(), StoreError> {
        self.with(|c| {
            if let Some(r) = c.rollouts.rollouts.get_mut(id) {
                r.in_audit = r.in_audit.saturating_sub(1);
            }
        });
        Ok(())
    }

    async fn target(
        &self,
        id: &str,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredTarget>, StoreError> {
        let key = (id.to_owned(), appid.clone());
        Ok(self.with(|c| c.rollouts.targets.get(&key).cloned()))
    }

    async fn targets(
        &self,
        id: &str,
        after: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<(Vec<StoredTarget>, Option<AuthorizerAppid>), StoreError> {
        Ok(self.with(|c| {
            let of_rollout = c.rollouts.targets.values().filter(|t| t.rollout_id == id);
            let mut page: Vec<StoredTarget> = of_rollout
                .filter(|t| after.is_none_or(|a| &t.appid > a))
                .take(limit as usize + 1)
                .cloned()
                .collect();
            let next = (page.len() > limit as usize).then(|| {
                page.truncate(limit as usize);
                page.last().map(|t| t.appid.clone())
            });
            (page, next.flatten())
        }))
    }

    async fn write_target(&self, target: &StoredTarget) -> Result<bool, StoreError> {
        let key = (target.rollout_id.clone(), target.appid.clone());
        Ok(self.with(|c| match c.rollouts.targets.get_mut(&key) {
            Some(stored) if stored.version + 1 == target.version => {
                *stored = target.clone();
                true
            }
            _ => false,
        }))
    }

    async fn index_audit(&self, appid: &AuthorizerAppid, id: &str) -> Result<(), StoreError> {
        self.with(|c| c.rollouts.audits.insert(appid.clone(), id.to_owned()));
        Ok(())
    }

    async fn audit_rollout(&self, appid: &AuthorizerAppid) -> Result<Option<String>, StoreError> {
        Ok(self.with(|c| c.rollouts.audits.get(appid).cloned()))
    }
}
