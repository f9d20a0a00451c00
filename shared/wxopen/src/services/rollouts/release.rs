//! Releasing an approved target as its rollout says (at once, in gray steps, or when the
//! platform asks), and rolling a release back.

use super::code::Answer;
use super::worker::{refused_reason, Step};
use super::Rollouts;
use crate::services::ServiceError;
use crate::store::{Call, StoredRollout, StoredTarget};
use wxopen_models::rollouts::{ReleaseMode, TargetState};

impl Rollouts {
    /// An approved target released as the rollout says: at once, in gray steps, or not until
    /// `release` (manual).
    pub(super) async fn release_approved(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
    ) -> Result<Step, ServiceError> {
        let call = match &rollout.release {
            ReleaseMode::Manual => return Ok(Step::Idle),
            ReleaseMode::Auto => Call::Release,
            ReleaseMode::Gray(steps) => match steps.first() {
                Some(100) | None => Call::Release,
                Some(p) => Call::Gray(*p),
            },
        };
        match self.announce(target, call).await? {
            Some(_) => Ok(Step::Continue),
            None => Ok(Step::Continue),
        }
    }

    pub(super) async fn release_now(&self, target: &StoredTarget) -> Result<Step, ServiceError> {
        match self.code.release(&target.appid).await {
            Answer::Done(_) => {
                self.settle(target, TargetState::Released, |_| {}).await?;
                Ok(Step::Idle)
            }
            Answer::Refused { errcode, errmsg } => {
                self.fail(target, Some(errcode), refused_reason(errcode, &errmsg))
                    .await
            }
            _ => Ok(Step::Later(self.settings.retry_after)),
        }
    }

    pub(super) async fn gray(
        &self,
        rollout: &StoredRollout,
        target: &StoredTarget,
        percentage: u8,
    ) -> Result<Step, ServiceError> {
        let step = match &rollout.release {
            ReleaseMode::Gray(steps) => steps.iter().position(|p| *p == percentage),
            _ => None,
        };
        match self.code.gray_release(&target.appid, percentage).await {
            Answer::Done(_) => {
                self.settle(target, TargetState::Gray, |t| {
                    t.gray_step = step.map(|s| s as u8)
                })
                .await?;
                Ok(Step::Idle)
            }
            Answer::Refused { errcode, errmsg } => {
                self.fail(target, Some(errcode), refused_reason(errcode, &errmsg))
                    .await
            }
            _ => Ok(Step::Later(self.settings.retry_after)),
        }
    }

    pub(super) async fn revert(&self, target: &StoredTarget) -> Result<Step, ServiceError> {
        // A gray release is reverted by its own call (revertcoderelease answers 87011 then).
        let answer = match target.state {
            TargetState::Gray => self.code.revert_gray(&target.appid).await,
            _ => self.code.revert(&target.appid).await,
        };
        match answer {
            Answer::Done(_) => {
                self.settle(target, TargetState::RolledBack, |_| {}).await?;
                Ok(Step::Idle)
            }
            Answer::Refused { errcode, errmsg } => {
                // The release stays: the target keeps its state, with why it was not reverted.
                self.settle(target, target.state, |t| {
                    t.errcode = Some(errcode);
                    t.reason = Some(format!(
                        "not rolled back: {}",
                        refused_reason(errcode, &errmsg)
                    ));
                })
                .await?;
                Ok(Step::Idle)
            }
            _ => Ok(Step::Later(self.settings.retry_after)),
        }
    }
}
