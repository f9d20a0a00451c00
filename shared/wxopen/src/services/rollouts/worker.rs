//! One target advanced as far as it can go now: commit, submit within the quota and the
//! rollout's audit slots, release as the rollout says. Each step reads the stored target, and
//! a WeChat call is sent only after the write announcing it won; a step that finds a call
//! announced and unsettled (a crash, a lost answer) asks WeChat how it ended.

use super::code::Answer;
use super::Rollouts;
use crate::queue::Work;
use crate::services::ServiceError;
use crate::store::{Call, StoredRollout, StoredTarget};
use serde_json::Value;
use std::time::Duration;
use wxopen_models::rollouts::{failure_hint, render_ext_json, RolloutState, TargetState};

/// What a step leaves to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Read the target again and go on.
    Continue,
    /// Come back after this long (a message delayed on the queue).
    Later(Duration),
    /// Nothing until something happens (an audit result, an operation).
    Idle,
}

/// How many steps one message may take: commit, submit, and the writes between them.
const MAX_STEPS: usize = 8;

/// How long one worker holds the platform's submission lock at most.
pub(super) const SUBMISSION_LOCK: Duration = Duration::from_secs(30);

/// WeChat's clock and ours may differ: an answer this much older than the announcement still
/// counts as the announced call's.
pub(super) const CLOCK_SKEW_SECS: i64 = 120;

pub(super) fn refused_reason(errcode: i64, errmsg: &str) -> String {
    match failure_hint(errcode) {
        Some(hint) => hint.to_owned(),
        None => format!("WeChat refused (errcode {errcode}: {errmsg})"),
    }
}

impl Rollouts {
    /// Advances one target as far as it goes now; an error leaves the message to be delivered
    /// again (nothing is done twice: the stored target says what was done).
    pub async fn advance(&self, work: &Work) -> Result<(), ServiceError> {
        let (id, appid) = (&work.rollout_id, &work.authorizer_appid);
        for _ in 0..MAX_STEPS {
            let Some(rollout) = self.store.rollout(id).await? else {
                tracing::warn!(rollout = %id, "work for a rollout that does not exist: dropped");
                return Ok(());
            };
            let Some(target) = self.store.target(id, appid).await? else {
                tracing::warn!(rollout = %id, authorizer = %appid, "work for a target the rollout does not have: dropped");
                return Ok(());
            };
            if !target.outbox.is_empty() {
                // Written by a worker that stopped before it was published and cleared.
                self.flush(&target).await?;
            }
            match self.step(&rollout, target).await? {
                Step::Continue => continue,
                Step::Later(delay) => {
                    return Ok(self.queue.send(std::slice::from_ref(work), delay).await?)
                }
                Step::Idle => return Ok(()),
            }
        }
        self.enqueue_again(work).await
    }

    async fn enqueue_again(&self, work: &Work) -> Result<(), ServiceError> {
        Ok(self
            .queue
            .send(std::slice::from_ref(work), Duration::ZERO)
            .await?)
    }

    /// `target` with `call` announced (its outbox, published already, emptied).
    pub(super) async fn announce(
        &self,
        target: &StoredTarget,
        call: Call,
    ) -> Result<Option<StoredTarget>, ServiceError> {
        let now = self.now();
        let next = StoredTarget {
            call: Some((call, now)),
            version: target.version + 1,
            updated_at: now,
            outbox: Vec::new(),
            ..target.clone()
        };
        Ok(self.store.write_target(&next).await?.then_some(next))
    }

    /// Back to the state it had, the announced call dropped (WeChat made nothing of it).
    pub(super) async fn unannounce(&self, target: &StoredTarget) -> Result<bool, ServiceError> {
        let next = StoredTarget {
            call: None,
            version: target.version + 1,
            updated_at: self.now(),
            outbox: Vec::new(),
            ..target.clone()
        };
        Ok(self.store.write_target(&next).await?)
    }

    /// Ends the target `failed`, with WeChat's errcode and what to do.
    pub(super) async fn fail(
        &self,
        target: &StoredTarget,
        errcode: Option<i64>,
        reason: String,
    ) -> Result<Step, ServiceError> {
        tracing::warn!(rollout = %target.rollout_id, authorizer = %target.appid, errcode, reason = %reason, "rollout target failed");
        let written = self
            .settle(target, TargetState::Failed, |t| {
                t.errcode = errcode;
                t.reason = Some(reason);
            })
            .await?;
        Ok(match written {
            Some(_) => Step::Idle,
            None => Step::Continue,
        })
    }

    /// One step.
    async fn step(
        &self,
        rollout: &StoredRollout,
        target: StoredTarget,
    ) -> Result<Step, ServiceError> {
        use TargetState::*;
        let cancelled = rollout.state == RolloutState::Cancelled;
        match (target.state, target.call) {
            (state, None) if state.is_end() => Ok(Step::Idle),
            (Pending | Committed, None) if cancelled => {
                let written = self.settle(&target, Cancelled, |_| {}).await?;
                Ok(if written.is_some() {
                    Step::Idle
                } else {
                    Step::Continue
                })
            }
            (Pending, None) => match self.announce(&target, Call::Commit).await? {
                Some(announced) => self.commit(rollout, &announced).await,
                None => Ok(Step::Continue),
            },
            (Pending, Some((Call::Commit, at))) => self.resolve_commit(rollout, &target, at).await,
            (Committed, None) => self.submit(rollout, &target).await,
            (Committed, Some((Call::Submit, at))) => {
                self.resolve_submit(rollout, &target, at).await
            }
            (Approved, None) if !cancelled => self.release_approved(rollout, &target).await,
            (Approved | Gray, Some((Call::Release, _))) => self.release_now(&target).await,
            (Approved | Gray, Some((Call::Gray(percentage), _))) => {
                self.gray(rollout, &target, percentage).await
            }
            (Released | Gray, Some((Call::Revert, _))) => self.revert(&target).await,
            _ => Ok(Step::Idle),
        }
    }

    async fn commit(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
    ) -> Result<Step, ServiceError> {
        let template: serde_json::Map<String, Value> =
            serde_json::from_str(&rollout.ext_json).unwrap_or_default();
        let ext_json = render_ext_json(&template, target.appid.as_str(), &target.ext);
        let template_id: Value = rollout
            .template_id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(rollout.template_id.clone()));
        let body = serde_json::json!({
            "template_id": template_id,
            "ext_json": ext_json.to_string(),
            "user_version": rollout.user_version,
            "user_desc": rollout.user_desc,
        });
        match self.code.commit(&target.appid, body).await {
            Answer::Done(_) => self.committed(target).await,
            Answer::Refused { errcode, errmsg } => {
                self.fail(target, Some(errcode), refused_reason(errcode, &errmsg))
                    .await
            }
            Answer::NotSent {
                reason,
                account: true,
            } => self.fail(target, None, reason).await,
            Answer::NotSent { .. } => {
                self.unannounce(target).await?;
                Ok(Step::Later(self.settings.retry_after))
            }
            Answer::Unknown(e) => {
                tracing::warn!(authorizer = %target.appid, error = %e, "commit's answer lost: asked again later");
                Ok(Step::Later(self.settings.retry_after))
            }
        }
    }

    pub(super) async fn committed(&self, target: &StoredTarget) -> Result<Step, ServiceError> {
        self.settle(target, TargetState::Committed, |_| {}).await?;
        Ok(Step::Continue)
    }

    /// A commit announced and never settled: the experience version says whether it landed.
    async fn resolve_commit(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
        at: crate::clock::Timestamp,
    ) -> Result<Step, ServiceError> {
        match self.code.version_info(&target.appid).await {
            Answer::Done(info) => {
                let exp = &info["exp_info"];
                let landed = exp["exp_version"].as_str() == Some(rollout.user_version.as_str())
                    && exp["exp_time"].as_i64().unwrap_or(0) >= at.secs() - CLOCK_SKEW_SECS;
                if landed {
                    tracing::info!(authorizer = %target.appid, "an unsettled commit had landed");
                    return self.committed(target).await;
                }
                self.commit(rollout, target).await
            }
            _ => Ok(Step::Later(self.settings.retry_after)),
        }
    }
}
