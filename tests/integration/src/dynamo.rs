//! DynamoDB on loopback: the Amazon DynamoDB Local server `make test` starts, and tables created from
//! `template.yaml`'s own definition so that tests and deployment cannot drift.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde_yaml::Value;

/// The template's path.
pub const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");

/// The table as `template.yaml` defines it.
#[derive(Debug, Clone)]
pub struct TableDefinition {
    /// (name, type) of each key attribute.
    pub attributes: Vec<(String, String)>,
    /// (name, HASH or RANGE).
    pub key_schema: Vec<(String, String)>,
    /// The TTL attribute, when enabled.
    pub ttl_attribute: Option<String>,
}

/// Reads the one `AWS::DynamoDB::Table` resource of `template.yaml`.
pub fn table_definition() -> TableDefinition {
    let text = std::fs::read_to_string(TEMPLATE).expect("template.yaml is readable");
    let doc: Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let resources = doc["Resources"]
        .as_mapping()
        .expect("template has Resources");
    let tables: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .collect();
    assert_eq!(
        tables.len(),
        1,
        "template.yaml must define exactly one table"
    );
    let props = &tables[0]["Properties"];
    let pairs = |list: &Value, a: &str, b: &str| -> Vec<(String, String)> {
        list.as_sequence()
            .expect("a list")
            .iter()
            .map(|e| {
                (
                    e[a].as_str().expect("a string").to_owned(),
                    e[b].as_str().expect("a string").to_owned(),
                )
            })
            .collect()
    };
    let ttl = &props["TimeToLiveSpecification"];
    TableDefinition {
        attributes: pairs(
            &props["AttributeDefinitions"],
            "AttributeName",
            "AttributeType",
        ),
        key_schema: pairs(&props["KeySchema"], "AttributeName", "KeyType"),
        ttl_attribute: (ttl["Enabled"].as_bool() == Some(true)).then(|| {
            ttl["AttributeName"]
                .as_str()
                .expect("TTL attribute")
                .to_owned()
        }),
    }
}

/// A fresh SDK configuration for the loopback server, as a new Lambda container would load.
pub async fn sdk_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`, which starts a \
         DynamoDB Local on loopback"
    );
    wxopen::aws::load_sdk_config().await
}

/// A new client with its own configuration and connection pool.
pub async fn client() -> Client {
    Client::new(&sdk_config().await)
}

/// Creates a table with a unique name from the template's definition.
pub async fn create_table(client: &Client) -> String {
    let def = table_definition();
    let name = format!("wxopen-test-{:016x}", rand_u64());
    let mut req = client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attr, kind) in &def.attributes {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .unwrap(),
        );
    }
    for (attr, kind) in &def.key_schema {
        req = req.key_schema(
            KeySchemaElement::builder()
                .attribute_name(attr)
                .key_type(KeyType::from(kind.as_str()))
                .build()
                .unwrap(),
        );
    }
    // The table's stream is left out: no test reads it (the notifier's tests build its records
    // from the history items), and DynamoDB Local's stream bookkeeping would slow every write
    // that the reconcile bench counts and times.
    req.send().await.expect("create the test table");
    if let Some(attr) = def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attr)
                    .enabled(true)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("enable TTL");
    }
    name
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// The stored authorizer `appid`, which the test expects to exist.
pub async fn stored(
    store: &wxopen::store::DynamoStore,
    appid: &wxopen_models::AuthorizerAppid,
) -> wxopen::store::StoredAuthorizer {
    use wxopen::store::AuthorizerStore as _;
    store
        .load_authorizer(appid)
        .await
        .expect("DynamoDB answers")
        .unwrap_or_else(|| panic!("{appid} is stored"))
}
