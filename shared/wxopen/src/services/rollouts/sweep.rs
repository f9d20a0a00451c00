//! Audit results, from WeChat's `weapp_audit_*` push (through the bus) or from asking WeChat
//! when the push is overdue (pushes are sometimes lost), and the sweep a schedule runs: it polls
//! overdue audits, resumes targets that stopped moving, and finishes rollouts.

use super::code::Answer;
use super::Rollouts;
use crate::publish::Outgoing;
use crate::queue::Work;
use crate::services::ServiceError;
use crate::store::{StoredRollout, StoredTarget};
use serde::Serialize;
use std::collections::BTreeMap;
use wxopen_models::rollouts::{RolloutFinishedDetail, RolloutState, TargetState, ROLLOUT_FINISHED};
use wxopen_models::AuthorizerAppid;

/// What an audit came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditResult {
    /// Approved: release as the rollout says.
    Approved,
    /// Rejected, with WeChat's reason.
    Rejected(String),
    /// Still in review, or delayed: ask again later.
    Pending,
    /// Withdrawn outside the rollout.
    Withdrawn,
}

impl AuditResult {
    /// The result a `weapp_audit_*` event at the message URL says (`Reason` for a rejection).
    pub fn of_event(event: &str, reason: Option<&str>) -> Option<Self> {
        match event {
            "weapp_audit_success" => Some(Self::Approved),
            "weapp_audit_fail" => Some(Self::Rejected(clean(reason.unwrap_or_default()))),
            "weapp_audit_delay" => Some(Self::Pending),
            _ => None,
        }
    }

    /// The result `get_auditstatus` answers.
    fn of_status(answer: &serde_json::Value) -> Self {
        match answer["status"].as_i64() {
            Some(0) => Self::Approved,
            Some(1) => Self::Rejected(clean(answer["reason"].as_str().unwrap_or_default())),
            Some(3) => Self::Withdrawn,
            _ => Self::Pending,
        }
    }
}

/// WeChat's reasons are HTML with `<br>` between lines.
fn clean(reason: &str) -> String {
    reason
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .trim()
        .to_owned()
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Running rollouts looked at.
    pub rollouts: usize,
    /// Overdue audits WeChat was asked about.
    pub polled: usize,
    /// Targets sent to the queue again.
    pub resumed: usize,
    /// Rollouts finished.
    pub finished: usize,
}

impl Rollouts {
    /// An audit result for `appid`'s Mini Program (from the bus): applied to the target whose
    /// audit it is. A result for an audit no rollout made, or already applied, is ignored.
    pub async fn audit_result(
        &self,
        appid: &AuthorizerAppid,
        result: AuditResult,
    ) -> Result<(), ServiceError> {
        let Some(id) = self.store.audit_rollout(appid).await? else {
            tracing::info!(authorizer = %appid, "an audit result for no rollout of this platform");
            return Ok(());
        };
        let Some(target) = self.store.target(&id, appid).await? else {
            return Ok(());
        };
        self.apply_audit(&target, result).await
    }

    async fn apply_audit(
        &self,
        target: &StoredTarget,
        result: AuditResult,
    ) -> Result<(), ServiceError> {
        if target.state != TargetState::InAudit || target.call.is_some() {
            return Ok(());
        }
        let (state, reason) = match result {
            AuditResult::Approved => (TargetState::Approved, None),
            AuditResult::Rejected(reason) => (TargetState::Rejected, Some(reason)),
            AuditResult::Withdrawn => (
                TargetState::Failed,
                Some("the audit was withdrawn outside the rollout (undocodeaudit)".to_owned()),
            ),
            AuditResult::Pending => {
                let due = self.now().plus(self.settings.audit_poll_after);
                let later = StoredTarget {
                    due_at: due,
                    version: target.version + 1,
                    ..target.clone()
                };
                self.store.write_target(&later).await?;
                return Ok(());
            }
        };
        let written = self.settle(target, state, |t| t.reason = reason).await?;
        if written.is_some() {
            self.store.free_audit_slot(&target.rollout_id).await?;
            if state == TargetState::Approved {
                let work = Work {
                    rollout_id: target.rollout_id.clone(),
                    authorizer_appid: target.appid.clone(),
                };
                self.advance(&work).await?;
            }
        }
        Ok(())
    }

    /// Polls overdue audits, resumes targets that stopped moving, finishes rollouts whose every
    /// target reached an end. One `Query` of targets per running rollout.
    pub async fn sweep(&self) -> Result<SweepReport, ServiceError> {
        let mut report = SweepReport::default();
        let now = self.now();
        for rollout in self.store.running_rollouts().await? {
            report.rollouts += 1;
            let targets = self.all_targets(&rollout.id).await?;
            let mut stuck = Vec::new();
            for t in &targets {
                if t.state == TargetState::InAudit && t.call.is_none() {
                    if t.due_at <= now {
                        report.polled += 1;
                        crate::telemetry::audit_overdue();
                        self.poll_audit(t).await?;
                    }
                } else if !t.state.is_end()
                    && (t.call.is_some()
                        || matches!(t.state, TargetState::Pending | TargetState::Committed))
                    && t.updated_at.plus(self.settings.stuck_after) <= now
                {
                    stuck.push(t.clone());
                }
            }
            report.resumed += stuck.len();
            self.enqueue(&rollout.id, &stuck, std::time::Duration::ZERO)
                .await?;
            if !targets.is_empty() && targets.iter().all(|t| t.state.is_end()) {
                self.finish(&rollout, &targets).await?;
                report.finished += 1;
            }
        }
        Ok(report)
    }

    async fn poll_audit(&self, target: &StoredTarget) -> Result<(), ServiceError> {
        let Some(auditid) = target.auditid else {
            return self.apply_audit(target, AuditResult::Pending).await;
        };
        match self.code.audit_status(&target.appid, auditid).await {
            Answer::Done(answer) => {
                let result = AuditResult::of_status(&answer);
                if result != AuditResult::Pending {
                    tracing::info!(authorizer = %target.appid, auditid, "an audit result found by polling (its push was lost or late)");
                }
                self.apply_audit(target, result).await
            }
            other => {
                tracing::warn!(authorizer = %target.appid, answer = ?other, "get_auditstatus failed: asked again at the next sweep");
                Ok(())
            }
        }
    }

    /// Publishes `Rollout Finished`, then marks the rollout finished (a failed publish is tried
    /// again by the next sweep, with the same `id`).
    async fn finish(
        &self,
        rollout: &StoredRollout,
        targets: &[StoredTarget],
    ) -> Result<(), ServiceError> {
        let mut counts = BTreeMap::new();
        for t in targets {
            *counts.entry(t.state).or_insert(0) += 1;
        }
        let detail = RolloutFinishedDetail {
            id: format!("{}:finished", rollout.id),
            component_appid: self.component.clone(),
            rollout_id: rollout.id.clone(),
            counts,
        };
        let event = Outgoing::new(ROLLOUT_FINISHED, &detail, self.now());
        for result in self.publisher.publish(&[event]).await {
            result?;
        }
        self.store
            .set_rollout_state(&rollout.id, RolloutState::Running, RolloutState::Finished)
            .await?;
        tracing::info!(rollout = %rollout.id, "rollout finished");
        Ok(())
    }
}
