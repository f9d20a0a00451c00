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

#[tokio::test]
async fn every_stored_updated_at_is_in_seconds() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::time::Duration;
    use wxopen::clock::Timestamp;
    use wxopen::store::{CachedToken, Lease, TicketStore, TokenKey, TokenStore, TokenWrite};
    use wxopen_models::{AccessToken, VerifyTicket};
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let s = DynamoStore::new(client.clone(), table.clone(), component());
    let now = Timestamp::now();
    s.save_ticket(&VerifyTicket::new("ticket@@@units"), now)
        .await
        .unwrap();
    let lease = Lease {
        owner: "me".into(),
        until: now.plus(Duration::from_secs(10)),
    };
    s.take_lease(&TokenKey::Component, &lease, now)
        .await
        .unwrap();
    let token = CachedToken {
        token: AccessToken::new("component-units"),
        expires_at: now.plus(Duration::from_secs(7200)),
    };
    let write = TokenWrite {
        owner: "me",
        token: &token,
        authorizer: None,
        now,
    };
    assert!(s.write_token(&TokenKey::Component, &write).await.unwrap());
    let authorization =
        wxopen_lambda::testing::stale_authorization("wxunits", "refresh-units", &[1]);
    wxopen_lambda::testing::save(&s, &authorization).await;
    let scan = client.scan().table_name(&table).send().await.unwrap();
    let stamps: Vec<i64> = scan
        .items()
        .iter()
        .filter_map(|item| match item.get("updated_at") {
            Some(AttributeValue::N(v)) => Some(v.parse().unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(
        stamps.len(),
        3,
        "the ticket, the component token and the authorizer"
    );
    for stamp in stamps {
        assert!(
            (now.secs() - 60..=now.secs() + 60).contains(&stamp),
            "updated_at {stamp} is not epoch seconds near {}",
            now.secs()
        );
    }
}
