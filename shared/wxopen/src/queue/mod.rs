//! The rollouts' work queue: one message per target to advance, on SQS in production (its
//! dead-letter queue and alarm in the template), in memory for service tests. A message only
//! names the target: the worker reads what to do from the stored target, so a message
//! delivered twice or late does nothing twice.

mod sqs;

pub use sqs::SqsQueue;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wxopen_models::AuthorizerAppid;

/// SQS delays a message at most 15 minutes.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// A target to advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    /// The rollout.
    pub rollout_id: String,
    /// The Mini Program.
    pub authorizer_appid: AuthorizerAppid,
}

/// The queue could not take the work; nothing was lost (the caller fails and is retried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rollout queue could not take {count} message(s){}: check ROLLOUT_QUEUE_URL and the function's sqs:SendMessage permission, then retry", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct QueueError {
    /// How many were not taken.
    pub count: usize,
    /// SQS's error code, when it answered with one.
    pub code: Option<String>,
}

/// Where work is sent.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Sends `work`, each delivered after `delay` (at most [`MAX_DELAY`]).
    async fn send(&self, work: &[Work], delay: Duration) -> Result<(), QueueError>;
}

/// The queue in memory: what was sent, for tests to deliver.
#[derive(Debug, Clone, Default)]
pub struct MemoryQueue {
    sent: Arc<Mutex<Vec<(Work, Duration)>>>,
}

impl MemoryQueue {
    /// Takes everything sent so far, in order, with its delay.
    pub fn take(&self) -> Vec<(Work, Duration)> {
        std::mem::take(&mut *self.sent.lock().expect("queue lock"))
    }
}

#[async_trait]
impl WorkQueue for MemoryQueue {
    async fn send(&self, work: &[Work], delay: Duration) -> Result<(), QueueError> {
        let mut sent = self.sent.lock().expect("queue lock");
        sent.extend(work.iter().map(|w| (w.clone(), delay.min(MAX_DELAY))));
        Ok(())
    }
}
