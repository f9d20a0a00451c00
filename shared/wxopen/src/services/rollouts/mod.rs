//! Rollouts: one code template shipped to many authorized Mini Programs, on AWS's own engines.
//! The rollout and its targets live in the table; the work is messages on the rollouts queue
//! (one per target to advance, delayed when WeChat asks to wait); audit results come from the
//! bus (the `weapp_audit_*` messages `messages` publishes) or, when WeChat's push is lost, from
//! the sweep a schedule runs, which also resumes anything stuck and finishes rollouts.
//!
//! Every WeChat call is made once per intent: the target's write that announces it (`call`)
//! wins a conditional write before the call is sent; a call found announced and unsettled is
//! resolved by asking WeChat (`getversioninfo`, `get_latest_auditstatus`), never by sending it
//! again blindly. A submission holds one of the rollout's audit slots (`max_in_audit`) and the
//! platform's submission lock, and is sent only while `queryquota` leaves some.

mod code;
mod control;
mod ops;
mod release;
mod submit;
pub mod sweep;
mod worker;

pub use code::{Answer, Code};
pub use ops::{CreateAnswer, StatusAnswer, TargetView};
pub use sweep::SweepReport;

use super::ServiceError;
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::publish::{EventPublisher, Outgoing};
use crate::queue::{Work, WorkQueue};
use crate::store::{AuthorizerListing, AuthorizerStore, OnceStore, RolloutStore, StoredTarget};
use crate::tokens::ComponentApi;
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::rollouts::{TargetState, TargetUpdatedDetail, ROLLOUT_TARGET_UPDATED};
use wxopen_models::ComponentAppid;

/// How long the rollouts wait, each a default a deployment may change.
#[derive(Debug, Clone, Copy)]
pub struct RolloutSettings {
    /// Before trying again after WeChat asked to wait (61039: its code check is still running),
    /// or while `max_in_audit` targets are in audit.
    pub retry_after: Duration,
    /// Before trying again when the platform's audit quota is spent.
    pub quota_wait: Duration,
    /// After a submission, when its result is overdue and the sweep asks WeChat.
    pub audit_poll_after: Duration,
    /// When a target that should be moving has not changed for this long, the sweep resumes it.
    pub stuck_after: Duration,
    /// `max_in_audit` when a rollout gives none.
    pub default_max_in_audit: u32,
}

impl Default for RolloutSettings {
    fn default() -> Self {
        Self {
            retry_after: Duration::from_secs(60),
            quota_wait: Duration::from_secs(900),
            audit_poll_after: Duration::from_secs(3600),
            stuck_after: Duration::from_secs(900),
            default_max_in_audit: 5,
        }
    }
}

/// The `rollouts` use case.
#[derive(Clone)]
pub struct Rollouts {
    component: ComponentAppid,
    code: Code,
    store: Arc<dyn RolloutStore>,
    authorizers: (Arc<dyn AuthorizerStore>, Arc<dyn AuthorizerListing>),
    once: Arc<dyn OnceStore>,
    queue: Arc<dyn WorkQueue>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    settings: RolloutSettings,
}

impl Rollouts {
    /// Rollouts calling WeChat through `api`, stored in `store`, targets read from
    /// `authorizers`, submissions locked in `once`, work sent to `queue`, events to `publisher`.
    pub fn new(
        api: ComponentApi,
        store: Arc<dyn RolloutStore>,
        authorizers: (Arc<dyn AuthorizerStore>, Arc<dyn AuthorizerListing>),
        once: Arc<dyn OnceStore>,
        (queue, publisher): (Arc<dyn WorkQueue>, Arc<dyn EventPublisher>),
    ) -> Self {
        Self {
            component: api.component(),
            code: Code::new(api),
            store,
            authorizers,
            once,
            queue,
            publisher,
            clock: Arc::new(SystemClock),
            settings: RolloutSettings::default(),
        }
    }

    /// The same, reading time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// The same, waiting as `settings` say.
    pub fn with_settings(self, settings: RolloutSettings) -> Self {
        Self { settings, ..self }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// `target` moved to `state` (with what else `change` sets), its event in the outbox,
    /// written if nobody wrote it meanwhile; the target as written, or `None` when another
    /// write came first.
    async fn settle(
        &self,
        target: &StoredTarget,
        state: TargetState,
        change: impl FnOnce(&mut StoredTarget),
    ) -> Result<Option<StoredTarget>, ServiceError> {
        let now = self.now();
        let mut next = target.clone();
        next.state = state;
        next.call = None;
        next.version = target.version + 1;
        next.updated_at = now;
        next.due_at = now;
        change(&mut next);
        let detail = TargetUpdatedDetail {
            id: format!("{}:{}:{}", next.rollout_id, next.appid, next.version),
            component_appid: self.component.clone(),
            rollout_id: next.rollout_id.clone(),
            authorizer_appid: next.appid.clone(),
            state,
            previous: target.state,
            auditid: next.auditid,
            reason: next.reason.clone(),
            errcode: next.errcode,
        };
        next.outbox = vec![serde_json::to_string(&detail).expect("serializes")];
        if !self.store.write_target(&next).await? {
            return Ok(None);
        }
        tracing::info!(rollout = %next.rollout_id, authorizer = %next.appid, from = %target.state, to = %state, "rollout target moved");
        crate::telemetry::rollout_target(state.as_str());
        // Published, then cleared; a worker stopped in between leaves it for the next read.
        self.flush(&next).await?;
        let cleared = StoredTarget {
            outbox: Vec::new(),
            version: next.version + 1,
            ..next
        };
        // Lost to another write: that one replaced the outbox anyway.
        self.store.write_target(&cleared).await?;
        Ok(Some(cleared))
    }

    /// Publishes the target's outbox (its latest change): an error leaves the work to be
    /// delivered again, which publishes it then (the same `id`).
    async fn flush(&self, target: &StoredTarget) -> Result<(), ServiceError> {
        let events: Vec<Outgoing> = target
            .outbox
            .iter()
            .map(|detail| Outgoing {
                detail_type: ROLLOUT_TARGET_UPDATED,
                detail: detail.clone(),
                time: target.updated_at,
            })
            .collect();
        for result in self.publisher.publish(&events).await {
            result?;
        }
        Ok(())
    }

    /// Sends `targets` of rollout `id` to the queue, after `delay`.
    async fn enqueue(
        &self,
        id: &str,
        targets: impl IntoIterator<Item = &StoredTarget>,
        delay: Duration,
    ) -> Result<(), ServiceError> {
        let work: Vec<Work> = targets
            .into_iter()
            .map(|t| Work {
                rollout_id: id.to_owned(),
                authorizer_appid: t.appid.clone(),
            })
            .collect();
        Ok(self.queue.send(&work, delay).await?)
    }
}
