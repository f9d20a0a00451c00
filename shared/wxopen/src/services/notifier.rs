//! Authorization changes for other services: each history item the table's stream delivers
//! becomes one EventBridge event, at least once, with an `id` that is the same on every
//! delivery. The stream is the outbox: a change that is stored is published even if the
//! function that stored it died right after.

use super::ServiceError;
use crate::clock::Timestamp;
use crate::publish::{EventPublisher, Outgoing};
use crate::store::{HistoryChange, StoreError};
use std::sync::Arc;
use wxopen_models::notifications::{change_detail_type, AuthorizationChange};

/// One record of a stream batch, as read by the edge.
#[derive(Debug, Clone)]
pub struct StreamItem {
    /// What Lambda names the record by in a partial batch failure (its sequence number).
    pub item_id: String,
    /// The history item it carries, `None` for any other item, or why it could not be read.
    pub change: Result<Option<HistoryChange>, StoreError>,
}

/// The stable `id` of a change: the hex SHA-256 of the history item's key, shortened.
pub fn change_id(change: &HistoryChange) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(change.key.as_bytes())[..16])
}

/// The event of a change, or `None` for the changes that stay internal.
pub fn change_event(change: &HistoryChange) -> Option<Outgoing> {
    let detail_type = change_detail_type(change.entry.kind)?;
    let detail = AuthorizationChange {
        id: change_id(change),
        component_appid: change.component_appid.clone(),
        authorizer_appid: change.authorizer_appid.clone(),
        change: change.entry.kind,
        permission_ids: change.entry.permission_ids.clone(),
        at_ms: change.entry.at_ms,
        ext: change.entry.ext.clone(),
    };
    Some(Outgoing::new(
        detail_type,
        &detail,
        Timestamp::from_millis(change.entry.at_ms),
    ))
}

/// The `notifier` use case.
#[derive(Clone)]
pub struct Notifier {
    publisher: Arc<dyn EventPublisher>,
}

impl Notifier {
    /// Publishes through `publisher`.
    pub fn new(publisher: Arc<dyn EventPublisher>) -> Self {
        Self { publisher }
    }

    /// Publishes a batch in order and returns the `item_id`s that failed, for Lambda to deliver
    /// again: one unreadable record or refused event does not hold back the others.
    pub async fn publish(&self, items: &[StreamItem]) -> Result<Vec<String>, ServiceError> {
        let mut failed = Vec::new();
        let mut events = Vec::new();
        let mut owners = Vec::new();
        for item in items {
            match &item.change {
                Ok(Some(change)) => {
                    if let Some(event) = change_event(change) {
                        events.push(event);
                        owners.push(item.item_id.as_str());
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(item = %item.item_id, error = %e, "stream record unreadable; reported as failed");
                    failed.push(item.item_id.clone());
                }
            }
        }
        let results = self.publisher.publish(&events).await;
        for (owner, result) in owners.iter().zip(results) {
            if let Err(e) = result {
                tracing::warn!(item = %owner, error = %e, "event not published; reported as failed");
                failed.push((*owner).to_owned());
            }
        }
        tracing::info!(
            records = items.len(),
            events = events.len(),
            failed = failed.len(),
            "stream batch handled"
        );
        Ok(failed)
    }
}
