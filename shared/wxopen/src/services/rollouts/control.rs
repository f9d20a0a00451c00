//! The operations on a running rollout: `status`, `release`, `cancel`, `rollback`.

use super::ops::{StatusAnswer, TargetView};
use super::Rollouts;
use crate::services::ServiceError;
use crate::store::{Call, StoredRollout, StoredTarget};
use std::collections::BTreeMap;
use std::time::Duration;
use wxopen_models::rollouts::{ReleaseMode, RolloutState, TargetState};
use wxopen_models::AuthorizerAppid;

fn view(t: &StoredTarget) -> TargetView {
    TargetView {
        authorizer_appid: t.appid.clone(),
        state: t.state,
        auditid: t.auditid,
        reason: t.reason.clone(),
        errcode: t.errcode,
        updated_at: t.updated_at.secs(),
    }
}

impl Rollouts {
    pub(super) async fn stored(&self, id: &str) -> Result<StoredRollout, ServiceError> {
        self.store
            .rollout(id.trim())
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                code: "unknown_rollout",
                message: format!(
                    "no rollout {:?}: pass the rollout_id create answered",
                    id.chars().take(64).collect::<String>()
                ),
            })
    }

    /// Every target of rollout `id`, page after page.
    pub(super) async fn all_targets(&self, id: &str) -> Result<Vec<StoredTarget>, ServiceError> {
        let (mut all, mut cursor) = self.store.targets(id, None, 1000).await?;
        while let Some(after) = cursor {
            let (page, next) = self.store.targets(id, Some(&after), 1000).await?;
            all.extend(page);
            cursor = next;
        }
        Ok(all)
    }

    /// Where rollout `id` stands, with a page of its targets after `cursor`.
    pub async fn status(
        &self,
        id: &str,
        cursor: Option<&AuthorizerAppid>,
    ) -> Result<StatusAnswer, ServiceError> {
        let rollout = self.stored(id).await?;
        let all = self.all_targets(&rollout.id).await?;
        let mut counts = BTreeMap::new();
        for t in &all {
            *counts.entry(t.state).or_insert(0) += 1;
        }
        let after: Vec<&StoredTarget> = all
            .iter()
            .filter(|t| cursor.is_none_or(|c| &t.appid > c))
            .collect();
        let page: Vec<TargetView> = after.iter().take(100).map(|t| view(t)).collect();
        let next_cursor = (after.len() > 100)
            .then(|| page.last().map(|v| v.authorizer_appid.clone()))
            .flatten();
        Ok(StatusAnswer {
            rollout_id: rollout.id,
            state: rollout.state,
            counts,
            targets: page,
            next_cursor,
        })
    }

    /// The targets of `rollout` named by `appids` (all when `None`) in `states`.
    async fn chosen(
        &self,
        rollout: &StoredRollout,
        appids: Option<&[AuthorizerAppid]>,
        states: &[TargetState],
    ) -> Result<Vec<StoredTarget>, ServiceError> {
        let all = self.all_targets(&rollout.id).await?;
        if let Some(unknown) =
            appids.and_then(|a| a.iter().find(|a| !all.iter().any(|t| &t.appid == *a)))
        {
            return Err(ServiceError::invalid(
                "unknown_target",
                format!("{unknown} is not a target of rollout {}", rollout.id),
            ));
        }
        Ok(all
            .into_iter()
            .filter(|t| t.call.is_none() && states.contains(&t.state))
            .filter(|t| appids.is_none_or(|a| a.contains(&t.appid)))
            .collect())
    }

    /// Announces `call_of` on each target and sends it to the queue; how many moved.
    async fn announce_all(
        &self,
        rollout: &StoredRollout,
        targets: Vec<StoredTarget>,
        call_of: impl Fn(&StoredTarget) -> Call,
    ) -> Result<usize, ServiceError> {
        let mut moved = Vec::new();
        for t in targets {
            if let Some(announced) = self.announce(&t, call_of(&t)).await? {
                moved.push(announced);
            }
        }
        self.enqueue(&rollout.id, &moved, Duration::ZERO).await?;
        Ok(moved.len())
    }

    /// Releases approved targets (manual), or moves gray ones to their next step.
    pub async fn release(
        &self,
        id: &str,
        appids: Option<&[AuthorizerAppid]>,
    ) -> Result<usize, ServiceError> {
        let rollout = self.stored(id).await?;
        let steps = match &rollout.release {
            ReleaseMode::Gray(steps) => steps.clone(),
            _ => vec![100],
        };
        let targets = self
            .chosen(
                &rollout,
                appids,
                &[TargetState::Approved, TargetState::Gray],
            )
            .await?;
        self.announce_all(&rollout, targets, |t| {
            let next = match (t.state, t.gray_step) {
                (TargetState::Gray, Some(step)) => {
                    steps.get(step as usize + 1).copied().unwrap_or(100)
                }
                _ => steps.first().copied().unwrap_or(100),
            };
            if next >= 100 {
                Call::Release
            } else {
                Call::Gray(next)
            }
        })
        .await
    }

    /// Stops the rollout: targets not yet submitted end `cancelled`; those in audit finish their
    /// audit but are not released. How many were cancelled.
    pub async fn cancel(&self, id: &str) -> Result<usize, ServiceError> {
        let rollout = self.stored(id).await?;
        self.store
            .set_rollout_state(&rollout.id, RolloutState::Running, RolloutState::Cancelled)
            .await?;
        let targets = self
            .chosen(
                &rollout,
                None,
                &[TargetState::Pending, TargetState::Committed],
            )
            .await?;
        let mut cancelled = 0;
        for t in targets {
            if self
                .settle(&t, TargetState::Cancelled, |_| {})
                .await?
                .is_some()
            {
                cancelled += 1;
            }
        }
        Ok(cancelled)
    }

    /// Reverts released (or gray) targets to the version released before.
    pub async fn rollback(
        &self,
        id: &str,
        appids: Option<&[AuthorizerAppid]>,
    ) -> Result<usize, ServiceError> {
        let rollout = self.stored(id).await?;
        let targets = self
            .chosen(
                &rollout,
                appids,
                &[TargetState::Released, TargetState::Gray],
            )
            .await?;
        self.announce_all(&rollout, targets, |_| Call::Revert).await
    }
}
