//! Rollouts and their targets. A target is written whole, conditional on the version read, so
//! of two workers advancing the same target one wins and the other reads again: a WeChat call
//! is made only after the write that announces it (`call`) has won.

use super::StoreError;
use crate::clock::Timestamp;
use async_trait::async_trait;
use wxopen_models::rollouts::{ReleaseMode, RolloutState, TargetState};
use wxopen_models::AuthorizerAppid;

/// A stored rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRollout {
    /// Its id.
    pub id: String,
    /// The template.
    pub template_id: String,
    /// The version shown to users.
    pub user_version: String,
    /// Its description.
    pub user_desc: String,
    /// `ext_json` before rendering, JSON.
    pub ext_json: String,
    /// The body of `submit_audit`, JSON.
    pub audit: String,
    /// How approved targets are released.
    pub release: ReleaseMode,
    /// At most this many targets in audit at once.
    pub max_in_audit: u32,
    /// Where it stands.
    pub state: RolloutState,
    /// Targets holding an audit slot now.
    pub in_audit: u32,
    /// How many targets it has.
    pub targets: u32,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A WeChat call a target's write announced, and when: found still set after a crash or a lost
/// answer, it is resolved by asking WeChat, never by calling again blindly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `commit`.
    Commit,
    /// `submit_audit` (an audit slot is held).
    Submit,
    /// `release`.
    Release,
    /// `grayrelease` to a step's percentage.
    Gray(u8),
    /// `revertcoderelease`.
    Revert,
}

impl Call {
    /// The stored name.
    pub fn as_str(self) -> String {
        match self {
            Self::Commit => "commit".into(),
            Self::Submit => "submit".into(),
            Self::Release => "release".into(),
            Self::Gray(p) => format!("gray:{p}"),
            Self::Revert => "revert".into(),
        }
    }

    /// The call named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "commit" => Self::Commit,
            "submit" => Self::Submit,
            "release" => Self::Release,
            "revert" => Self::Revert,
            other => Self::Gray(other.strip_prefix("gray:")?.parse().ok()?),
        })
    }
}

/// A stored target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTarget {
    /// Its rollout.
    pub rollout_id: String,
    /// The Mini Program.
    pub appid: AuthorizerAppid,
    /// Its customer (the authorizer's `ext`), for `ext_json`.
    pub ext: String,
    /// Where it stands.
    pub state: TargetState,
    /// The call announced and not yet settled, with when.
    pub call: Option<(Call, Timestamp)>,
    /// The audit, once submitted.
    pub auditid: Option<i64>,
    /// WeChat's reason, or what to do.
    pub reason: Option<String>,
    /// WeChat's errcode, for a failure.
    pub errcode: Option<i64>,
    /// The gray step reached (an index into the rollout's steps).
    pub gray_step: Option<u8>,
    /// When a sweep should look at it next (an overdue audit, a wait).
    pub due_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Bumped by every write.
    pub version: u64,
    /// Events written with a change and not yet published (JSON details), oldest first.
    pub outbox: Vec<String>,
}

/// Rollouts, bound to one component.
#[async_trait]
pub trait RolloutStore: Send + Sync {
    /// Stores a new rollout and its targets (each at version 1).
    async fn create_rollout(
        &self,
        rollout: &StoredRollout,
        targets: &[StoredTarget],
    ) -> Result<(), StoreError>;

    /// One rollout.
    async fn rollout(&self, id: &str) -> Result<Option<StoredRollout>, StoreError>;

    /// The rollouts still running.
    async fn running_rollouts(&self) -> Result<Vec<StoredRollout>, StoreError>;

    /// Moves a rollout from `from` to `to`; `false` when it was not in `from`.
    async fn set_rollout_state(
        &self,
        id: &str,
        from: RolloutState,
        to: RolloutState,
    ) -> Result<bool, StoreError>;

    /// Takes one of the rollout's audit slots unless `max_in_audit` are taken; `false` then.
    async fn claim_audit_slot(&self, id: &str) -> Result<bool, StoreError>;

    /// Gives an audit slot back.
    async fn free_audit_slot(&self, id: &str) -> Result<(), StoreError>;

    /// One target.
    async fn target(
        &self,
        id: &str,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredTarget>, StoreError>;

    /// A page of the rollout's targets in AppID order, after `after`; the next cursor.
    async fn targets(
        &self,
        id: &str,
        after: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<(Vec<StoredTarget>, Option<AuthorizerAppid>), StoreError>;

    /// Writes `target` (its `version` already the next one) if the stored one is still at
    /// `version - 1`; `false` when another write came first.
    async fn write_target(&self, target: &StoredTarget) -> Result<bool, StoreError>;

    /// Records that `appid`'s audit belongs to rollout `id` (audit results name the account only).
    async fn index_audit(&self, appid: &AuthorizerAppid, id: &str) -> Result<(), StoreError>;

    /// The rollout whose audit `appid` last entered.
    async fn audit_rollout(&self, appid: &AuthorizerAppid) -> Result<Option<String>, StoreError>;
}
