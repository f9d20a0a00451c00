//! Publishing events for other services: a port ([`EventPublisher`]) with the EventBridge
//! adapter ([`EventBridgePublisher`]), one that publishes nothing ([`NoBus`], when
//! `EVENT_BUS_NAME` is unset) and one in memory ([`MemoryPublisher`], for service tests).

mod eventbridge;
mod memory;

pub use eventbridge::EventBridgePublisher;
pub use memory::MemoryPublisher;

use crate::clock::Timestamp;
use async_trait::async_trait;
use serde::Serialize;

/// Most entries one `PutEvents` call takes.
pub const MAX_ENTRIES_PER_CALL: usize = 10;

/// One event to publish: `source` is always [`wxopen_models::notifications::EVENT_SOURCE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// `detail-type`.
    pub detail_type: &'static str,
    /// `detail`, JSON.
    pub detail: String,
    /// The event's time.
    pub time: Timestamp,
}

impl Outgoing {
    /// An event of `detail_type` with `detail` serialized.
    pub fn new(detail_type: &'static str, detail: &impl Serialize, time: Timestamp) -> Self {
        Self {
            detail_type,
            detail: serde_json::to_string(detail).expect("event details serialize"),
            time,
        }
    }
}

/// Why an event was not published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// EventBridge could not be reached, or refused the whole call.
    #[error("EventBridge could not publish{}: check EVENT_BUS_NAME and the function's events:PutEvents permission, then retry", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Unavailable {
        /// EventBridge's error code, when it answered with one.
        code: Option<String>,
    },
    /// EventBridge refused this entry.
    #[error("EventBridge refused the event ({code}): {message}")]
    Refused {
        /// EventBridge's entry error code.
        code: String,
        /// Its message.
        message: String,
    },
}

/// Publishes events. Delivery is at least once: a caller retries what failed, and consumers
/// recognise a repeat by the `id` in its detail.
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes `events` (any number; the adapter splits them into calls), returning one
    /// result per event, in order.
    async fn publish(&self, events: &[Outgoing]) -> Vec<Result<(), PublishError>>;
}

/// The publisher for `bus` (`EVENT_BUS_NAME`): EventBridge, or [`NoBus`] when unset.
pub fn publisher_for(
    sdk: &aws_config::SdkConfig,
    bus: Option<&str>,
) -> std::sync::Arc<dyn EventPublisher> {
    match bus {
        Some(bus) => std::sync::Arc::new(EventBridgePublisher::from_sdk(sdk, bus)),
        None => std::sync::Arc::new(NoBus),
    }
}

/// `EVENT_BUS_NAME` is unset: nothing is published, and saying so is not an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBus;

#[async_trait]
impl EventPublisher for NoBus {
    async fn publish(&self, events: &[Outgoing]) -> Vec<Result<(), PublishError>> {
        if !events.is_empty() {
            tracing::debug!(
                count = events.len(),
                "EVENT_BUS_NAME is unset: events not published"
            );
        }
        events.iter().map(|_| Ok(())).collect()
    }
}

/// `EVENT_BUS_NAME` is unset where an event must not be lost (`events`' component pushes): every
/// event is refused, so the push is not acknowledged and WeChat keeps delivering it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unpublishable;

#[async_trait]
impl EventPublisher for Unpublishable {
    async fn publish(&self, events: &[Outgoing]) -> Vec<Result<(), PublishError>> {
        let refused = || PublishError::Unavailable {
            code: Some("EVENT_BUS_NAME unset".into()),
        };
        events.iter().map(|_| Err(refused())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_bus_nobus_drops_quietly_and_unpublishable_refuses_every_event() {
        let events = [
            Outgoing::new("Component Push", &"a", Timestamp::from_secs(1)),
            Outgoing::new("Component Push", &"b", Timestamp::from_secs(2)),
        ];
        assert!(NoBus.publish(&events).await.iter().all(Result::is_ok));
        let refused = Unpublishable.publish(&events).await;
        assert_eq!(refused.len(), 2);
        assert!(refused
            .iter()
            .all(|r| matches!(r, Err(PublishError::Unavailable { .. }))));
    }
}
