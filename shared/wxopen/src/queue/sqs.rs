//! [`WorkQueue`] on SQS: `SendMessageBatch`, ten messages a call.

use super::{QueueError, Work, WorkQueue, MAX_DELAY};
use async_trait::async_trait;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;
use std::time::Duration;

/// The production queue (`ROLLOUT_QUEUE_URL`).
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`, with the container's SDK configuration (`AWS_ENDPOINT_URL_SQS`
    /// points it elsewhere, as tests do).
    pub fn from_sdk(sdk: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        Self {
            client: Client::new(sdk),
            url: url.into(),
        }
    }
}

#[async_trait]
impl WorkQueue for SqsQueue {
    async fn send(&self, work: &[Work], delay: Duration) -> Result<(), QueueError> {
        let delay = delay.min(MAX_DELAY).as_secs() as i32;
        for chunk in work.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(serde_json::to_string(w).expect("work serializes"))
                        .delay_seconds(delay)
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "SQS refused a batch");
                    QueueError {
                        count: chunk.len(),
                        code: e.code().map(str::to_owned),
                    }
                })?;
            if !out.failed.is_empty() {
                return Err(QueueError {
                    count: out.failed.len(),
                    code: out.failed.first().map(|f| f.code.clone()),
                });
            }
        }
        Ok(())
    }
}
