//! The handler on a bus in memory, with stream records as Lambda delivers them.

use super::{handle, BatchResponse, ItemFailure};
use serde_json::{json, Value};
use std::sync::Arc;
use wxopen::publish::MemoryPublisher;
use wxopen::services::{Notifier, StreamOrigin};
use wxopen_lambda::testing::{COMPONENT, SEED_APPID};
use wxopen_models::ComponentAppid;

/// A stream record of a history item, as DynamoDB Streams delivers a new image.
fn record(seq: &str, kind: &str, ext: Option<&str>) -> Value {
    let mut image = json!({
        "pk": {"S": format!("component#{COMPONENT}#history#{SEED_APPID}")},
        "sk": {"S": format!("1700000000000#{kind}#0000{seq}")},
        "kind": {"S": kind},
        "at_ms": {"N": "1700000000000"},
        "permission_ids": {"L": [{"N": "1"}, {"N": "18"}]},
    });
    if let Some(ext) = ext {
        image["ext"] = json!({"S": ext});
    }
    json!({"eventName": "INSERT", "eventSourceARN": OWN_STREAM, "dynamodb": {"NewImage": image, "SequenceNumber": seq}})
}

const OWN_STREAM: &str =
    "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/wxopen-state/stream/2026-12-01T00:00:00.000";

fn notifier() -> (Notifier, MemoryPublisher) {
    let bus = MemoryPublisher::default();
    let origin = StreamOrigin {
        table_name: "wxopen-state".into(),
        component: ComponentAppid::parse(COMPONENT).unwrap(),
    };
    (Notifier::new(Arc::new(bus.clone()), origin), bus)
}

#[tokio::test]
async fn history_items_are_published_as_authorization_events_in_order() {
    let (notifier, bus) = notifier();
    let event = json!({"Records": [record("1", "authorized", Some("customer-42")), record("2", "revoked", None)]});
    let answer = handle(&notifier, event).await.unwrap();
    assert_eq!(answer, BatchResponse::default());
    let published = bus.published();
    let kinds: Vec<_> = published.iter().map(|e| e.detail_type).collect();
    assert_eq!(kinds, ["Authorizer Authorized", "Authorizer Revoked"]);
    let detail: Value = serde_json::from_str(&published[0].detail).unwrap();
    assert_eq!(detail["authorizer_appid"], SEED_APPID);
    assert_eq!(detail["component_appid"], COMPONENT);
    assert_eq!(detail["ext"], "customer-42");
    assert_eq!(detail["permission_ids"], json!([1, 18]));
}

#[tokio::test]
async fn a_refused_event_is_named_for_redelivery_and_the_others_still_go_out() {
    let (notifier, bus) = notifier();
    bus.refuse_matching(Some("customer-refused"));
    let event = json!({"Records": [
        record("1", "authorized", Some("customer-refused")),
        record("2", "authorized", Some("customer-ok")),
    ]});
    let answer = handle(&notifier, event).await.unwrap();
    let failed = vec![ItemFailure {
        item_identifier: "1".into(),
    }];
    assert_eq!(answer.batch_item_failures, failed);
    assert_eq!(bus.published().len(), 1);
}

#[tokio::test]
async fn other_items_and_modifications_are_not_events_and_a_non_batch_is_refused() {
    let (notifier, bus) = notifier();
    let mut modify = record("1", "authorized", None);
    modify["eventName"] = json!("MODIFY");
    let mut token_item = record("2", "authorized", None);
    token_item["dynamodb"]["NewImage"]["pk"] = json!({"S": format!("component#{COMPONENT}")});
    let answer = handle(&notifier, json!({"Records": [modify, token_item]}))
        .await
        .unwrap();
    assert!(answer.batch_item_failures.is_empty());
    assert!(bus.published().is_empty());
    let err = handle(&notifier, json!({"Records": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (400, "invalid_stream_event")
    );
}

#[tokio::test]
async fn only_records_of_its_own_tables_stream_and_component_are_published() {
    let (notifier, bus) = notifier();
    let mut elsewhere = record("1", "authorized", Some("forged"));
    elsewhere["eventSourceARN"] =
        json!("arn:aws:dynamodb:us-east-1:123456789012:table/another-table/stream/2026-12-01T00:00:00.000");
    let mut prefix = record("2", "authorized", Some("forged"));
    prefix["eventSourceARN"] =
        json!("arn:aws:dynamodb:us-east-1:123456789012:table/wxopen-state-2/stream/x");
    let mut unnamed = record("3", "authorized", Some("forged"));
    unnamed.as_object_mut().unwrap().remove("eventSourceARN");
    let mut other_component = record("4", "authorized", Some("forged"));
    other_component["dynamodb"]["NewImage"]["pk"] =
        json!({"S": format!("component#wx_other_component#history#{SEED_APPID}")});
    let own = record("5", "authorized", Some("customer-42"));
    let event = json!({"Records": [elsewhere, prefix, unnamed, other_component, own]});
    let answer = handle(&notifier, event).await.unwrap();
    assert!(
        answer.batch_item_failures.is_empty(),
        "refused, not redelivered"
    );
    let published = bus.published();
    assert_eq!(published.len(), 1, "only its own record: {published:?}");
    assert!(published[0].detail.contains("customer-42"));
}

#[tokio::test]
async fn a_record_without_a_sequence_number_fails_the_batch_rather_than_being_dropped() {
    let (notifier, bus) = notifier();
    let mut unnamed = record("1", "authorized", None);
    unnamed["dynamodb"]
        .as_object_mut()
        .unwrap()
        .remove("SequenceNumber");
    let event = json!({"Records": [record("2", "authorized", None), unnamed]});
    let err = handle(&notifier, event).await.unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (400, "invalid_stream_event")
    );
    assert!(bus.published().is_empty(), "nothing of the batch went out");
}
