//! A batch of the table's stream (`{"Records": [...]}`), answered with the partial batch
//! response `{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}]}` naming the
//! records Lambda must deliver again.

use serde::{Deserialize, Serialize};
use wxopen::services::{Notifier, StreamItem};
use wxopen::store::history_change;
use wxopen_lambda::ApiError;

#[derive(Debug, Deserialize)]
struct StreamEvent {
    #[serde(rename = "Records", default)]
    records: Vec<Record>,
}

#[derive(Debug, Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: Option<String>,
    #[serde(default)]
    dynamodb: Option<StreamData>,
}

#[derive(Debug, Deserialize)]
struct StreamData {
    #[serde(rename = "NewImage", default)]
    new_image: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(rename = "SequenceNumber", default)]
    sequence_number: Option<String>,
}

/// The partial batch response.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// The records to deliver again.
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

/// One record to deliver again.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFailure {
    /// Its sequence number.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// Handles one batch.
pub async fn handle(
    notifier: &Notifier,
    event: serde_json::Value,
) -> Result<BatchResponse, ApiError> {
    let event: StreamEvent = serde_json::from_value(event).map_err(|e| {
        ApiError::bad_request(
            "invalid_stream_event",
            format!("the event is not a DynamoDB stream batch: {e}"),
        )
    })?;
    let items: Vec<StreamItem> = event
        .records
        .into_iter()
        .filter_map(|record| {
            let data = record.dynamodb?;
            // Without a sequence number a record cannot be named for redelivery; Lambda's
            // stream records always carry one.
            let item_id = data.sequence_number?;
            let change = match (record.event_name.as_deref(), &data.new_image) {
                (Some("INSERT"), Some(image)) => history_change(image),
                // Only inserts are changes: history items are never modified.
                _ => Ok(None),
            };
            Some(StreamItem { item_id, change })
        })
        .collect();
    let failed = notifier.publish(&items).await.map_err(ApiError::from)?;
    Ok(BatchResponse {
        batch_item_failures: failed
            .into_iter()
            .map(|item_identifier| ItemFailure { item_identifier })
            .collect(),
    })
}

#[cfg(test)]
mod tests;
