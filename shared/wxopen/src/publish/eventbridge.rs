//! [`EventPublisher`] on EventBridge's `PutEvents`, ten entries a call.

use super::{EventPublisher, Outgoing, PublishError, MAX_ENTRIES_PER_CALL};
use async_trait::async_trait;
use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use wxopen_models::notifications::EVENT_SOURCE;

/// The production publisher, on one bus.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    /// A publisher to `bus` (`EVENT_BUS_NAME`, a name or an ARN).
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    /// A publisher to `bus` with the container's SDK configuration
    /// (`AWS_ENDPOINT_URL_EVENTBRIDGE` points it elsewhere, as tests do).
    pub fn from_sdk(sdk: &aws_config::SdkConfig, bus: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), bus)
    }

    async fn put(&self, events: &[Outgoing]) -> Vec<Result<(), PublishError>> {
        let entries = events
            .iter()
            .map(|e| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(EVENT_SOURCE)
                    .detail_type(e.detail_type)
                    .detail(&e.detail)
                    .time(DateTime::from_millis(e.time.millis()))
                    .build()
            })
            .collect();
        let out = match self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let code = e.code().map(str::to_owned);
                tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "PutEvents failed");
                return events
                    .iter()
                    .map(|_| Err(PublishError::Unavailable { code: code.clone() }))
                    .collect();
            }
        };
        let results = out.entries.unwrap_or_default();
        (0..events.len())
            .map(|i| match results.get(i) {
                Some(r) if r.error_code.is_none() && r.event_id.is_some() => Ok(()),
                Some(r) => Err(PublishError::Refused {
                    code: r.error_code.clone().unwrap_or_default(),
                    message: r.error_message.clone().unwrap_or_default(),
                }),
                None => Err(PublishError::Unavailable { code: None }),
            })
            .collect()
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[Outgoing]) -> Vec<Result<(), PublishError>> {
        let mut results = Vec::with_capacity(events.len());
        for chunk in events.chunks(MAX_ENTRIES_PER_CALL) {
            results.extend(self.put(chunk).await);
        }
        results
    }
}
