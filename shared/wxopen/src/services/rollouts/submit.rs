//! Submitting for audit: within the platform's audit quota (`queryquota` first, one
//! submission at a time across the platform) and the rollout's audit slots; a submission whose
//! answer was lost is resolved with `get_latest_auditstatus`, never by submitting again.

use super::code::Answer;
use super::worker::{refused_reason, Step, CLOCK_SKEW_SECS, SUBMISSION_LOCK};
use super::Rollouts;
use crate::services::ServiceError;
use crate::store::{Call, OnceKind, StoredRollout, StoredTarget, Use};
use serde_json::Value;
use std::time::Duration;
use wxopen_models::rollouts::TargetState;

impl Rollouts {
    /// Submits within the platform's quota and the rollout's audit slots, one submission at a
    /// time across the platform (the quota is shared by every Mini Program and instance).
    pub(super) async fn submit(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
    ) -> Result<Step, ServiceError> {
        let now = self.now();
        let lock = Use {
            kind: OnceKind::Submission,
            key: "submit_audit",
            until: now.plus(SUBMISSION_LOCK),
            now,
        };
        if !self.once.first_use(&lock).await? {
            return Ok(Step::Later(Duration::from_secs(2)));
        }
        let result = self.submit_locked(rollout, target).await;
        if let Err(e) = self
            .once
            .forget_use(OnceKind::Submission, "submit_audit")
            .await
        {
            tracing::warn!(error = %e, "the submission lock stays until it lapses");
        }
        result
    }

    async fn submit_locked(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
    ) -> Result<Step, ServiceError> {
        let waiting = Step::Later(self.settings.retry_after);
        match self.code.query_quota(&target.appid).await {
            Answer::Done(quota) if quota["rest"].as_i64().unwrap_or(0) > 0 => {
                crate::telemetry::audit_quota_left(quota["rest"].as_i64().unwrap_or(0));
            }
            Answer::Done(_) => {
                crate::telemetry::audit_quota_left(0);
                tracing::warn!(rollout = %rollout.id, "the platform's audit quota is spent: waiting");
                return Ok(Step::Later(self.settings.quota_wait));
            }
            Answer::NotSent {
                reason,
                account: true,
            } => return self.fail(target, None, reason).await,
            _ => return Ok(waiting),
        }
        if !self.store.claim_audit_slot(&rollout.id).await? {
            return Ok(waiting);
        }
        let Some(announced) = self.announce(target, Call::Submit).await? else {
            self.store.free_audit_slot(&rollout.id).await?;
            return Ok(Step::Continue);
        };
        self.store.index_audit(&target.appid, &rollout.id).await?;
        let audit: Value = serde_json::from_str(&rollout.audit).unwrap_or_default();
        crate::telemetry::audit_submitted();
        match self.code.submit_audit(&target.appid, audit).await {
            Answer::Done(answer) => {
                let auditid = answer["auditid"].as_i64();
                self.in_audit(&announced, auditid).await
            }
            Answer::Refused { errcode, errmsg } => {
                self.store.free_audit_slot(&rollout.id).await?;
                match errcode {
                    // WeChat's code check after the commit is still running: wait, never commit again.
                    61039 => {
                        self.unannounce(&announced).await?;
                        Ok(waiting)
                    }
                    85085 => {
                        self.unannounce(&announced).await?;
                        Ok(Step::Later(self.settings.quota_wait))
                    }
                    _ => {
                        self.fail(&announced, Some(errcode), refused_reason(errcode, &errmsg))
                            .await
                    }
                }
            }
            Answer::NotSent { reason, account } => {
                self.store.free_audit_slot(&rollout.id).await?;
                if account {
                    return self.fail(&announced, None, reason).await;
                }
                self.unannounce(&announced).await?;
                Ok(waiting)
            }
            Answer::Unknown(e) => {
                // The slot stays held: the submission may be in audit.
                tracing::warn!(authorizer = %target.appid, error = %e, "submit_audit's answer lost: resolved by get_latest_auditstatus, never by submitting again");
                Ok(waiting)
            }
        }
    }

    async fn in_audit(
        &self,
        target: &StoredTarget,
        auditid: Option<i64>,
    ) -> Result<Step, ServiceError> {
        let due = self.now().plus(self.settings.audit_poll_after);
        let written = self
            .settle(target, TargetState::InAudit, |t| {
                t.auditid = auditid;
                t.due_at = due;
            })
            .await?;
        Ok(if written.is_some() {
            Step::Idle
        } else {
            Step::Continue
        })
    }

    /// A submission announced and never settled: the latest audit says whether WeChat took it.
    pub(super) async fn resolve_submit(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
        at: crate::clock::Timestamp,
    ) -> Result<Step, ServiceError> {
        match self.code.latest_audit(&target.appid).await {
            Answer::Done(latest) => {
                let ours = latest["user_version"].as_str() == Some(rollout.user_version.as_str())
                    && latest["submit_audit_time"].as_i64().unwrap_or(0)
                        >= at.secs() - CLOCK_SKEW_SECS;
                if ours {
                    tracing::info!(authorizer = %target.appid, "an unsettled submission had reached WeChat");
                    return self.in_audit(target, latest["auditid"].as_i64()).await;
                }
                self.not_submitted(rollout, target).await
            }
            // 85058: WeChat has no audit for the Mini Program at all.
            Answer::Refused { errcode: 85058, .. } => self.not_submitted(rollout, target).await,
            _ => Ok(Step::Later(self.settings.retry_after)),
        }
    }

    async fn not_submitted(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
    ) -> Result<Step, ServiceError> {
        if self.unannounce(target).await? {
            self.store.free_audit_slot(&rollout.id).await?;
        }
        Ok(Step::Continue)
    }
}
