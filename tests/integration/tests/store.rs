//! The DynamoDB store against a real DynamoDB server on loopback: the shared behaviour suite
//! (the same one the memory store passes), plus what only a real server can show.

use integration_tests::{dynamo, kms};
use wxopen::store::behaviour::component;
use wxopen::store::{AuthorizerStore, DynamoStore, StoreError};
use wxopen_models::AuthorizerAppid;

async fn store() -> DynamoStore {
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    DynamoStore::new(client, table, component(), kms::shared_vault().await)
}

wxopen::store_behaviour_suite!(store());

/// A new table, its client, and a store on it.
async fn table_and_store() -> (aws_sdk_dynamodb::Client, String, DynamoStore) {
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let vault = kms::shared_vault().await;
    let s = DynamoStore::new(client.clone(), table.clone(), component(), vault);
    (client, table, s)
}

#[tokio::test]
async fn a_store_failure_is_one_sentence_without_the_sdk_dump() {
    let client = dynamo::client().await;
    let s = DynamoStore::new(
        client,
        "no-such-table",
        component(),
        kms::shared_vault().await,
    );
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
    let (client, table, s) = table_and_store().await;
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

#[tokio::test]
async fn every_token_the_adapter_writes_is_sealed_whichever_write_stores_it() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::time::Duration;
    use wxopen::clock::Timestamp;
    use wxopen::store::{
        AuthorizerTokenWrite, CachedToken, Known, Lease, Recovery, TicketStore, TokenKey,
        TokenStore, TokenWrite,
    };
    use wxopen_models::api::AuthorizerListItem;
    use wxopen_models::{AccessToken, PermissionId, RefreshToken, VerifyTicket};
    let (client, table, s) = table_and_store().await;
    let now = Timestamp::now();
    s.save_ticket(&VerifyTicket::new("ticket@@@w"), now)
        .await
        .unwrap();
    let authorization = wxopen_lambda::testing::stale_authorization("wxsealed", "refresh-1", &[1]);
    wxopen_lambda::testing::save(&s, &authorization).await;
    // Every write that stores a token: the component's, an authorizer's with a new refresh
    // token, a recovery that replaces one and a recovery that adds an authorizer.
    let lease = Lease {
        owner: "me".into(),
        until: now.plus(Duration::from_secs(10)),
    };
    let token = CachedToken {
        token: AccessToken::new("access-w"),
        expires_at: now.plus(Duration::from_secs(7200)),
    };
    for key in [
        TokenKey::Component,
        TokenKey::Authorizer(AuthorizerAppid::parse("wxsealed").unwrap()),
    ] {
        let slot = s.take_lease(&key, &lease, now).await.unwrap().unwrap();
        let version = slot.credentials.as_ref().map_or(0, |c| c.record.version);
        let permission_ids = [PermissionId(1)];
        let rotated = RefreshToken::new("refresh-2");
        let authorizer = matches!(key, TokenKey::Authorizer(_)).then_some(AuthorizerTokenWrite {
            expected_version: version,
            replaced_refresh_token: Some(&rotated),
            permission_ids: &permission_ids,
        });
        let write = TokenWrite {
            owner: "me",
            token: &token,
            authorizer,
            now,
        };
        assert!(s.write_token(&key, &write).await.unwrap(), "{key:?}");
    }
    for appid in ["wxsealed", "wxadded"] {
        let listed = AuthorizerListItem {
            authorizer_appid: AuthorizerAppid::parse(appid).unwrap(),
            refresh_token: RefreshToken::new("refresh-listed"),
            auth_time: now.secs(),
        };
        let recovery = Recovery {
            listed: &listed,
            known: Known::Unknown,
            permission_ids: &[PermissionId(1)],
        };
        s.recover_refresh_token(&recovery, now).await.unwrap();
    }
    let scan = client.scan().table_name(&table).send().await.unwrap();
    let mut sealed = 0;
    for item in scan.items() {
        for attribute in ["refresh_token", "access_token", "ticket"] {
            match item.get(attribute) {
                None => {}
                Some(AttributeValue::S(v)) if v.starts_with("wxs1:") => sealed += 1,
                Some(other) => panic!("{attribute} stored unsealed: {other:?}"),
            }
        }
    }
    // The ticket, the component's access token, and each authorizer's refresh token (the
    // recovery removes the access token it no longer matches).
    assert_eq!(sealed, 4, "{:?}", scan.items());
}
