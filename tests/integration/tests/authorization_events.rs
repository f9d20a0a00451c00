//! Authorization changes reach other services as EventBridge events: the simulator authorizes,
//! updates and revokes an account through the functions, the history items the table's stream
//! would carry go through the notifier, and a rule on moto's bus delivers them to SQS.

use async_trait::async_trait;
use integration_tests::bus::{history_stream_records, Bus};
use integration_tests::functions::*;
use integration_tests::stack::stack_with;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wechat_sim::accounts::OFFICIAL_ACCOUNT_APPID;
use wxopen::publish::{EventBridgePublisher, EventPublisher, Outgoing, PublishError};
use wxopen::services::Notifier;

async fn publisher(bus: &Bus) -> EventBridgePublisher {
    EventBridgePublisher::from_sdk(&integration_tests::dynamo::sdk_config().await, &bus.name)
}

/// Authorizes, updates and revokes the Official Account through the simulator; returns the
/// table's name.
async fn authorize_update_revoke(bus: &Bus) -> (integration_tests::stack::Stack, String) {
    let s = stack_with(&[("EVENT_BUS_NAME", bus.name.as_str())]).await;
    let callback = s.authorize_on_page(OFFICIAL_ACCOUNT_APPID).await;
    assert_eq!(s.get(&callback).await.status(), 200);
    for (path, body) in [
        (
            "updateauthorized",
            json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "permissions": [1, 2, 3, 15]}),
        ),
        (
            "unauthorized",
            json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID}),
        ),
    ] {
        let (_, resp) = s
            .post_json(&format!("{}/_sim/push/{path}", s.sim.base_url), &body)
            .await;
        assert_eq!(resp["delivered"], true, "{path}: {resp}");
    }
    let table = s.env_store.table().to_owned();
    (s, table)
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["detail-type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_update_and_revoke_arrive_as_exactly_three_events_in_order() {
    let bus = Bus::create().await;
    let (s, table) = authorize_update_revoke(&bus).await;
    let records = history_stream_records(&table, COMPONENT, OFFICIAL_ACCOUNT_APPID, 1).await;
    assert_eq!(records.len(), 3, "one history item per change");
    let origin = integration_tests::bus::stream_origin(&table, COMPONENT);
    let notifier = Notifier::new(Arc::new(publisher(&bus).await), origin);
    let answer = notifier::handler::handle(&notifier, json!({ "Records": records }))
        .await
        .unwrap();
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");

    let events = bus.received(3, Duration::from_secs(10)).await;
    assert_eq!(
        kinds(&events),
        [
            "Authorizer Authorized",
            "Authorizer Updated",
            "Authorizer Revoked"
        ]
    );
    let details: Vec<&Value> = events.iter().map(|e| &e["detail"]).collect();
    for d in &details {
        assert_eq!(d["component_appid"], COMPONENT);
        assert_eq!(d["authorizer_appid"], OFFICIAL_ACCOUNT_APPID);
        assert!(d["at_ms"].as_i64().unwrap() > 0);
        assert_eq!(d["id"].as_str().unwrap().len(), 32);
    }
    assert_eq!(details[0]["change"], "authorized");
    assert_eq!(details[0]["permission_ids"], json!([1, 2, 3]));
    assert_eq!(details[1]["change"], "permissions_changed");
    assert_eq!(details[1]["permission_ids"], json!([1, 2, 3, 15]));
    assert_eq!(details[2]["change"], "revoked");
    assert!(details[0]["at_ms"].as_i64() <= details[1]["at_ms"].as_i64());
    assert!(details[1]["at_ms"].as_i64() <= details[2]["at_ms"].as_i64());
    // Each event's time is the change's.
    assert!(events.iter().all(|e| e["source"] == "wxopen"));
    // No token, code or secret in any of them.
    let text = serde_json::to_string(&events).unwrap();
    for secret in [
        "sim-authorizer-token",
        "sim-refresh-token",
        "queryauthcode",
        "token",
        APPSECRET,
    ] {
        assert!(!text.contains(secret), "{secret:?} in {text}");
    }
    drop(s);
}

/// EventBridge refuses every entry of the first call after the first one, as a throttled
/// `PutEvents` does; later calls go through.
struct RefusesPartOfTheFirstCall {
    inner: EventBridgePublisher,
    refused: AtomicBool,
}

#[async_trait]
impl EventPublisher for RefusesPartOfTheFirstCall {
    async fn publish(&self, events: &[Outgoing]) -> Vec<Result<(), PublishError>> {
        if self.refused.swap(true, Ordering::SeqCst) {
            return self.inner.publish(events).await;
        }
        let mut results = self.inner.publish(&events[..1]).await;
        results.extend(events[1..].iter().map(|_| {
            Err(PublishError::Refused {
                code: "ThrottlingException".into(),
                message: "Rate exceeded".into(),
            })
        }));
        results
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_part_way_is_redelivered_and_every_change_keeps_its_id() {
    let bus = Bus::create().await;
    let (_s, table) = authorize_update_revoke(&bus).await;
    let records = history_stream_records(&table, COMPONENT, OFFICIAL_ACCOUNT_APPID, 100).await;
    let flaky = RefusesPartOfTheFirstCall {
        inner: publisher(&bus).await,
        refused: AtomicBool::new(false),
    };
    let origin = integration_tests::bus::stream_origin(&table, COMPONENT);
    let notifier = Notifier::new(Arc::new(flaky), origin);
    let first = notifier::handler::handle(&notifier, json!({ "Records": records }))
        .await
        .unwrap();
    let failed: Vec<&str> = first
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let sequence = |r: &Value| r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned();
    assert_eq!(failed, [sequence(&records[1]), sequence(&records[2])]);

    // Lambda delivers the batch again from the first failed record.
    let retried = notifier::handler::handle(&notifier, json!({ "Records": records[1..] }))
        .await
        .unwrap();
    assert!(retried.batch_item_failures.is_empty());
    // And once more, as at-least-once delivery allows: a consumer sees the same ids.
    notifier::handler::handle(&notifier, json!({ "Records": records }))
        .await
        .unwrap();

    let events = bus.received(6, Duration::from_secs(10)).await;
    let mut by_change: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for e in &events {
        by_change
            .entry(e["detail"]["change"].as_str().unwrap().to_owned())
            .or_default()
            .insert(e["detail"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        by_change.keys().cloned().collect::<Vec<_>>(),
        ["authorized", "permissions_changed", "revoked"],
        "every change delivered at least once"
    );
    assert!(
        by_change.values().all(|ids| ids.len() == 1),
        "each delivery of one change carries the same id: {by_change:?}"
    );
    assert_eq!(events.len(), 6, "1 + 2 + 3 deliveries");
}

#[tokio::test]
async fn a_stream_batch_that_is_not_one_is_a_named_error() {
    let origin = integration_tests::bus::stream_origin("wxopen-state", COMPONENT);
    let notifier = Notifier::new(Arc::new(wxopen::publish::NoBus), origin);
    let err = notifier::handler::handle(&notifier, json!({"Records": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_stream_event");
}
