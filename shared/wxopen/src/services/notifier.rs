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
use wxopen_models::ComponentAppid;

/// One record of a stream batch, as read by the edge.
#[derive(Debug, Clone)]
pub struct StreamItem {
    /// What Lambda names the record by in a partial batch failure (its sequence number).
    pub item_id: String,
    /// The stream it came from (the record's `eventSourceARN`).
    pub source_arn: Option<String>,
    /// The history item it carries, `None` for any other item, or why it could not be read.
    pub change: Result<Option<HistoryChange>, StoreError>,
}

/// Where the notifier's records come from: its own table's stream, its own component's items.
/// Anything else (a record from another stream mapped to the function, an item of another
/// component sharing the table) is refused, never published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOrigin {
    /// The table whose stream feeds the notifier (`TABLE_NAME`).
    pub table_name: String,
    /// The component whose changes it publishes.
    pub component: ComponentAppid,
}

impl StreamOrigin {
    /// A stream ARN (`arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>`)
    /// of this table, in any partition (`aws-cn` included).
    pub fn is_own_stream(&self, arn: Option<&str>) -> bool {
        let Some(arn) = arn else { return false };
        let mut parts = arn.splitn(6, ':');
        let (arn_, _partition, service, resource) =
            (parts.next(), parts.next(), parts.next(), parts.nth(2));
        let expected = format!("table/{}/stream/", self.table_name);
        arn_ == Some("arn")
            && service == Some("dynamodb")
            && resource.is_some_and(|r| r.starts_with(&expected) && r.len() > expected.len())
    }
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
    origin: StreamOrigin,
}

impl Notifier {
    /// Publishes the changes of `origin` through `publisher`.
    pub fn new(publisher: Arc<dyn EventPublisher>, origin: StreamOrigin) -> Self {
        Self { publisher, origin }
    }

    /// Publishes a batch in order and returns the `item_id`s that failed, for Lambda to deliver
    /// again: one unreadable record or refused event does not hold back the others.
    pub async fn publish(&self, items: &[StreamItem]) -> Result<Vec<String>, ServiceError> {
        let mut failed = Vec::new();
        let mut events = Vec::new();
        let mut owners = Vec::new();
        let mut refused = 0;
        for item in items {
            if !self.origin.is_own_stream(item.source_arn.as_deref()) {
                tracing::error!(item = %item.item_id, source = item.source_arn.as_deref(), table = %self.origin.table_name, "stream record from another source than this table's stream; not published");
                refused += 1;
                continue;
            }
            match &item.change {
                Ok(Some(change)) if change.component_appid != self.origin.component => {
                    tracing::error!(item = %item.item_id, component = %change.component_appid, "history item of another component; not published");
                    refused += 1;
                }
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
            refused,
            "stream batch handled"
        );
        Ok(failed)
    }
}
