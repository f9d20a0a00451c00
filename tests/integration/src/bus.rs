//! EventBridge and SQS on moto: a bus with a rule sending every `wxopen` event to a queue, as a
//! consumer would wire it, and the table's history items as the stream delivers them.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A bus whose `source: wxopen` events land in a queue.
pub struct Bus {
    /// The bus name (`EVENT_BUS_NAME`).
    pub name: String,
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

impl Bus {
    /// Creates a bus, a queue and a rule `{"source": ["wxopen"]}` from the one to the other.
    pub async fn create() -> Self {
        assert!(
            std::env::var("AWS_ENDPOINT_URL_EVENTBRIDGE").is_ok(),
            "AWS_ENDPOINT_URL_EVENTBRIDGE is not set: run the tests with `make test`, which \
             starts moto on loopback"
        );
        let sdk = crate::dynamo::sdk_config().await;
        let events = aws_sdk_eventbridge::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let suffix = format!("{:016x}", {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(std::time::SystemTime::now())
        });
        let name = format!("wxopen-test-{suffix}");
        events
            .create_event_bus()
            .name(&name)
            .send()
            .await
            .expect("create the bus");
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("wxopen-events-{suffix}"))
            .send()
            .await
            .expect("create the queue")
            .queue_url
            .unwrap();
        let bus = Self {
            name,
            queue_url,
            sqs,
        };
        let queue_url = bus.queue_url.clone();
        bus.rule_to_queue("all-wxopen", r#"{"source": ["wxopen"]}"#, &queue_url)
            .await;
        bus
    }

    /// A rule named `rule` on this bus sending the events `pattern` matches to the queue at
    /// `queue_url`, as a rule targeting a function would deliver them.
    pub async fn rule_to_queue(&self, rule: &str, pattern: &str, queue_url: &str) {
        let sdk = crate::dynamo::sdk_config().await;
        let events = aws_sdk_eventbridge::Client::new(&sdk);
        let arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        let put = events.put_rule().name(rule).event_bus_name(&self.name);
        put.event_pattern(pattern)
            .send()
            .await
            .expect("create the rule");
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("queue")
            .arn(arn);
        events
            .put_targets()
            .rule(rule)
            .event_bus_name(&self.name)
            .targets(target.build().unwrap())
            .send()
            .await
            .expect("target the queue");
    }

    /// The events received (the whole EventBridge envelope of each), waiting up to `wait` for
    /// `at_least` of them, then briefly for any more.
    pub async fn received(&self, at_least: usize, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = Instant::now() + wait;
        let mut quiet_since: Option<Instant> = None;
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive from the queue")
                .messages
                .unwrap_or_default();
            if got.is_empty() {
                let since = *quiet_since.get_or_insert_with(Instant::now);
                let settled = out.len() >= at_least && since.elapsed() > Duration::from_millis(300);
                if settled || Instant::now() > deadline {
                    return out;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            quiet_since = None;
            for m in got {
                out.push(serde_json::from_str(m.body.as_deref().unwrap()).expect("JSON events"));
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

fn attribute_json(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::L(items) => {
            json!({"L": items.iter().map(attribute_json).collect::<Vec<_>>()})
        }
        AttributeValue::M(map) => {
            json!({"M": map.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect::<serde_json::Map<_, _>>()})
        }
        other => panic!("no JSON for {other:?}"),
    }
}

/// The table's history items of `appid`, oldest first, as the DynamoDB stream delivers them to
/// the notifier (one `INSERT` record each, with its `NewImage`), numbered from `first_sequence`.
pub async fn history_stream_records(
    table: &str,
    component: &str,
    appid: &str,
    first_sequence: u64,
) -> Vec<Value> {
    let client = crate::dynamo::client().await;
    let items = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(format!("component#{component}#history#{appid}")),
        )
        .send()
        .await
        .expect("query the history")
        .items
        .unwrap_or_default();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let image: serde_json::Map<String, Value> = item
                .iter()
                .map(|(k, v)| (k.clone(), attribute_json(v)))
                .collect();
            let sequence = format!("{:021}", first_sequence + i as u64);
            json!({
                "eventID": format!("event-{sequence}"),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"pk": image["pk"], "sk": image["sk"]},
                    "NewImage": image,
                    "SequenceNumber": sequence,
                    "SizeBytes": 200,
                    "StreamViewType": "NEW_IMAGE"
                },
                "eventSourceARN": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-12-01T00:00:00.000")
            })
        })
        .collect()
}

/// The notifier's origin for `table`'s stream (as [`history_stream_records`] names it) and
/// `component`.
pub fn stream_origin(table: &str, component: &str) -> wxopen::services::StreamOrigin {
    wxopen::services::StreamOrigin {
        table_name: table.to_owned(),
        component: wxopen_models::ComponentAppid::parse(component).unwrap(),
    }
}
