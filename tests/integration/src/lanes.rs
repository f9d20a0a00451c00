//! What Lambda does for the `rollouts` function in AWS, played on moto: its event source
//! mapping (a batch from the rollout queue becomes one invocation `{"Records": [...]}`, the
//! messages it names as failed stay for redelivery, the others are deleted) and the bus rule on
//! audit results (each matching event becomes one invocation, as the template's rule targets
//! it). The invocation itself is the caller's: the handler in process, or `cargo lambda invoke`.

use aws_sdk_sqs::Client;
use serde_json::{json, Value};
use std::future::Future;

/// The template's rule on audit results, for the bus.
pub const AUDIT_PATTERN: &str = r#"{"source": ["wxopen"], "detail-type": ["Authorizer Message"], "detail": {"event": ["weapp_audit_success", "weapp_audit_fail", "weapp_audit_delay"]}}"#;

/// The rollout queue and the queue the audit rule delivers to.
pub struct Lanes {
    sqs: Client,
    /// `ROLLOUT_QUEUE_URL`.
    pub work_url: String,
    audit_url: String,
}

async fn queue(sqs: &Client, name: &str, visibility: &str) -> String {
    let out = sqs
        .create_queue()
        .queue_name(name)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            visibility,
        )
        .send()
        .await
        .expect("create a queue");
    out.queue_url.unwrap()
}

impl Lanes {
    /// A rollout queue (failed work visible again after a second), and a rule on `bus` sending
    /// audit results to a queue of their own.
    pub async fn create(bus: &crate::bus::Bus) -> Self {
        let sdk = crate::dynamo::sdk_config().await;
        let sqs = Client::new(&sdk);
        let suffix = format!("{:08x}", rand_suffix());
        let work_url = queue(&sqs, &format!("rollout-work-{suffix}"), "1").await;
        let audit_url = queue(&sqs, &format!("rollout-audits-{suffix}"), "30").await;
        bus.rule_to_queue("rollout-audits", AUDIT_PATTERN, &audit_url)
            .await;
        Self {
            sqs,
            work_url,
            audit_url,
        }
    }

    async fn take(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        out.messages.unwrap_or_default()
    }

    async fn delete(&self, url: &str, m: &aws_sdk_sqs::types::Message) {
        let handle = m.receipt_handle.clone().unwrap();
        self.sqs
            .delete_message()
            .queue_url(url)
            .receipt_handle(handle)
            .send()
            .await
            .unwrap();
    }

    /// One round: a batch of work and the audit results waiting, each invoked through `invoke`.
    /// How many messages were handled.
    pub async fn pump<F, Fut>(&self, invoke: F) -> usize
    where
        F: Fn(Value) -> Fut,
        Fut: Future<Output = Result<Value, String>>,
    {
        let batch = self.take(&self.work_url).await;
        let mut handled = 0;
        if !batch.is_empty() {
            let records: Vec<Value> = batch
                .iter()
                .map(|m| json!({"messageId": m.message_id, "body": m.body, "eventSource": "aws:sqs"}))
                .collect();
            let answer = invoke(json!({ "Records": records })).await;
            let failed: Vec<String> = match &answer {
                Ok(a) => a["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                    .collect(),
                // The whole batch failed: every message is delivered again.
                Err(_) => batch.iter().filter_map(|m| m.message_id.clone()).collect(),
            };
            for m in &batch {
                if !failed.iter().any(|f| Some(f) == m.message_id.as_ref()) {
                    self.delete(&self.work_url, m).await;
                    handled += 1;
                }
            }
        }
        for m in self.take(&self.audit_url).await {
            let event: Value = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
            if invoke(event).await.is_ok() {
                self.delete(&self.audit_url, &m).await;
                handled += 1;
            }
        }
        handled
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
