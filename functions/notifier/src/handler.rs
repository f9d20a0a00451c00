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
    #[serde(rename = "eventSourceARN", default)]
    event_source_arn: Option<String>,
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
    let mut items = Vec::with_capacity(event.records.len());
    for (n, record) in event.records.into_iter().enumerate() {
        // A record that cannot be named for redelivery fails the whole batch, so that Lambda
        // delivers it again rather than it being dropped (Lambda's records always carry one).
        let Some((data, item_id)) = record
            .dynamodb
            .and_then(|data| Some((data.new_image, data.sequence_number?)))
        else {
            tracing::error!(
                record = n,
                "stream record without a sequence number; the batch fails whole"
            );
            return Err(ApiError::bad_request(
                "invalid_stream_event",
                format!("stream record {n} has no dynamodb.SequenceNumber: the batch is delivered again"),
            ));
        };
        let change = match (record.event_name.as_deref(), &data) {
            (Some("INSERT"), Some(image)) => history_change(image),
            // Only inserts are changes: history items are never modified.
            _ => Ok(None),
        };
        items.push(StreamItem {
            item_id,
            source_arn: record.event_source_arn,
            change,
        });
    }
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
