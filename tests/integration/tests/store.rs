//! The DynamoDB store against a real DynamoDB server on loopback: the shared behaviour suite
//! (the same one the memory store passes), plus what only a real server can show.

use integration_tests::dynamo;
use wxopen::store::behaviour::component;
use wxopen::store::{AuthorizerStore, DynamoStore, StoreError};
use wxopen_models::AuthorizerAppid;

async fn store() -> DynamoStore {
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    DynamoStore::new(client, table, component())
}

wxopen::store_behaviour_suite!(store());

#[tokio::test]
async fn a_store_failure_is_one_sentence_without_the_sdk_dump() {
    let client = dynamo::client().await;
    let s = DynamoStore::new(client, "no-such-table", component());
    let err = s
        .load_authorizer(&AuthorizerAppid::parse("wxany").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("DynamoDB could not read an authorizer (ResourceNotFoundException)"),
        "{message}"
    );
    for leak in ["headers", "body", "Response", "raw", "\n"] {
        assert!(!message.contains(leak), "{leak:?} in {message}");
    }
    assert!(message.len() < 200, "{message}");
}
