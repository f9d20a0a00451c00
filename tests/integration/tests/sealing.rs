//! Tokens sealed at rest (DESIGN, "Tokens at rest") on DynamoDB Local, with data keys wrapped by
//! moto's KMS and WeChat a stand-in on loopback: a scan of the table shows no token WeChat
//! issued, a sealed value moved to another item does not open, a disabled key is a 503 that
//! loses nothing, and a table written before sealing keeps working and is sealed by the job.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::wechat_stub::{Reply, StubWeChat};
use integration_tests::{dynamo, kms};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wxopen::clock::Timestamp;
use wxopen::services::ServiceError;
use wxopen::store::{DynamoStore, SealStore, StoreError, TicketStore, TokenKey, TokenStore};
use wxopen::tokens::{TokenManager, TokenSettings};
use wxopen_lambda::testing::stale_authorization;
use wxopen_lambda::ApiError;
use wxopen_models::{AccessToken, AuthorizerAppid, ComponentAppid, Secret, VerifyTicket};

const TICKET: &str = "ticket@@@SEALED-TICKET";
/// Two accounts and their refresh tokens.
const TWO: [(&str, &str); 2] = [
    ("wxsealaaaa", "refresh-A-ORIGINAL"),
    ("wxsealbbbb", "refresh-B-ORIGINAL"),
];

fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_sealing").unwrap()
}

fn appid(id: &str) -> AuthorizerAppid {
    AuthorizerAppid::parse(id).unwrap()
}

/// The key of the component's item `sk`.
fn item_key(sk: &str) -> std::collections::HashMap<String, AttributeValue> {
    let pk = AttributeValue::S(format!("component#{}", component()));
    [("pk", pk), ("sk", AttributeValue::S(sk.to_owned()))]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

struct World {
    client: aws_sdk_dynamodb::Client,
    table: String,
    key: String,
    stub: StubWeChat,
}

async fn world() -> World {
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    World {
        client,
        table,
        key: kms::create_key().await,
        stub: StubWeChat::start().await,
    }
}

impl World {
    /// A new container: its own store (no data key unwrapped yet) and token manager.
    async fn instance(&self) -> (TokenManager, DynamoStore) {
        let store = DynamoStore::new(
            self.client.clone(),
            &self.table,
            component(),
            kms::vault_on(&self.key).await,
        );
        let wechat = integration_tests::functions::wechat_client(&self.stub.base_url);
        let manager = TokenManager::new(
            Arc::new(store.clone()),
            Arc::new(wechat),
            (component(), Secret::new("appsecret-sealing")),
            TokenSettings::default(),
        );
        (manager, store)
    }

    /// Every item of the table as stored, as one text.
    async fn scan(&self) -> String {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        // Attributes and items in a fixed order, so two scans compare.
        let mut items: Vec<String> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                format!(
                    "{:?}",
                    item.into_iter()
                        .collect::<std::collections::BTreeMap<_, _>>()
                )
            })
            .collect();
        items.sort();
        items.join("\n")
    }

    /// Sets `attribute` of `appid`'s item to `value` as stored, beside the store.
    async fn overwrite(&self, sk: &str, attribute: &str, value: AttributeValue) {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(sk)))
            .update_expression("SET #a = :v")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":v", value)
            .send()
            .await
            .unwrap();
    }

    async fn raw(&self, sk: &str, attribute: &str) -> AttributeValue {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(sk)))
            .send()
            .await
            .unwrap();
        out.item.unwrap()[attribute].clone()
    }
}

/// The ticket and an authorization per `(appid, refresh token)`, stored by `store`.
async fn seed(store: &DynamoStore, accounts: &[(&str, &str)]) {
    store
        .save_ticket(&VerifyTicket::new(TICKET), Timestamp::now())
        .await
        .unwrap();
    for (id, refresh) in accounts {
        wxopen_lambda::testing::save(store, &stale_authorization(id, refresh, &[1])).await;
    }
}

/// The stored ticket, opened.
async fn ticket(store: &DynamoStore) -> String {
    let stored = store.load_ticket().await.unwrap().expect("a ticket");
    stored.ticket.expose().to_owned()
}

#[tokio::test]
async fn a_scan_of_the_table_shows_no_token_or_ticket_wechat_issued() {
    let w = world().await;
    let (manager, store) = w.instance().await;
    seed(&store, &TWO).await;
    w.stub.script(
        "api_authorizer_token",
        [Reply::json(json!({
            "authorizer_access_token": "authorizer-token-A-NEW",
            "expires_in": 7200,
            "authorizer_refresh_token": "refresh-A-ROTATED"
        }))],
    );
    let a = manager
        .authorizer_token(&appid("wxsealaaaa"))
        .await
        .unwrap();
    let b = manager
        .authorizer_token(&appid("wxsealbbbb"))
        .await
        .unwrap();
    let component_token = manager.component_token().await.unwrap();
    assert_eq!(a.token.expose(), "authorizer-token-A-NEW");
    assert_eq!(w.stub.calls("api_component_token"), 1);

    let table = w.scan().await;
    for issued in [
        TICKET,
        "refresh-A-ORIGINAL",
        "refresh-A-ROTATED",
        "refresh-B-ORIGINAL",
        "access-EXPIRED",
        a.token.expose(),
        b.token.expose(),
        component_token.token.expose(),
    ] {
        assert!(!table.contains(issued), "{issued} is in the table: {table}");
    }
    assert!(table.matches("wxs1:").count() >= 6, "{table}");

    // A new container opens what the first sealed, and WeChat is not asked again.
    let (cold, cold_store) = w.instance().await;
    assert_eq!(
        cold.authorizer_token(&appid("wxsealaaaa"))
            .await
            .unwrap()
            .token,
        a.token
    );
    assert_eq!(
        cold.component_token().await.unwrap().token,
        component_token.token
    );
    let stored = dynamo::stored(&cold_store, &appid("wxsealaaaa")).await;
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-A-ROTATED");
    assert_eq!(ticket(&cold_store).await, TICKET);
    assert_eq!(w.stub.calls("api_authorizer_token"), 2);
    assert_eq!(w.stub.calls("api_component_token"), 1);
}

#[tokio::test]
async fn a_sealed_refresh_token_copied_onto_another_account_does_not_open_and_is_never_sent() {
    let w = world().await;
    let (manager, store) = w.instance().await;
    seed(&store, &TWO).await;
    let sealed_a = w.raw("authorizer#wxsealaaaa", "refresh_token").await;
    w.overwrite("authorizer#wxsealbbbb", "refresh_token", sealed_a)
        .await;

    let err = manager
        .authorizer_token(&appid("wxsealbbbb"))
        .await
        .unwrap_err();
    match &err {
        ServiceError::Store(StoreError::Unsealable { key, attribute, .. }) => {
            assert_eq!(
                (key.as_str(), attribute.as_str()),
                ("authorizer#wxsealbbbb", "refresh_token")
            );
        }
        other => panic!("expected a named unsealable error, got {other:?}"),
    }
    let api = ApiError::from(err);
    assert_eq!((api.status, api.code.as_str()), (500, "token_unsealable"));
    assert!(!api.message.contains("refresh-A"), "{}", api.message);
    assert_eq!(
        w.stub.calls("api_authorizer_token"),
        0,
        "nothing was sent with A's token"
    );
    // A itself is untouched.
    let stored = dynamo::stored(&store, &appid("wxsealaaaa")).await;
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-A-ORIGINAL");
}

#[tokio::test]
async fn a_disabled_key_is_a_503_key_unavailable_and_nothing_is_lost() {
    let w = world().await;
    let (_, store) = w.instance().await;
    seed(&store, &[("wxsealaaaa", "refresh-A-ORIGINAL")]).await;
    let before = w.scan().await;

    kms::set_enabled(&w.key, false).await;
    let (cold, cold_store) = w.instance().await;
    let err = cold
        .authorizer_token(&appid("wxsealaaaa"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Store(StoreError::KeyUnavailable(_))),
        "{err:?}"
    );
    let api = ApiError::from(err);
    assert_eq!((api.status, api.code.as_str()), (503, "key_unavailable"));
    let newer = VerifyTicket::new("ticket@@@NEWER");
    let saved = cold_store.save_ticket(&newer, Timestamp::now()).await;
    assert!(
        matches!(saved, Err(StoreError::KeyUnavailable(_))),
        "{saved:?}"
    );
    assert_eq!(w.stub.calls("api_component_token"), 0);
    assert_eq!(w.stub.calls("api_authorizer_token"), 0);
    assert_eq!(
        w.scan().await,
        before,
        "nothing was written while the key was disabled"
    );

    kms::set_enabled(&w.key, true).await;
    let token = cold.authorizer_token(&appid("wxsealaaaa")).await.unwrap();
    assert!(token.token.expose().starts_with("authorizer-token-"));
    let stored = dynamo::stored(&cold_store, &appid("wxsealaaaa")).await;
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-A-ORIGINAL");
    assert_eq!(ticket(&cold_store).await, TICKET);
}

#[tokio::test]
async fn plaintext_tokens_from_before_sealing_are_served_and_the_seal_job_seals_every_one() {
    let w = world().await;
    let (_, store) = w.instance().await;
    seed(&store, &[("wxsealaaaa", "refresh-A-PLAIN")]).await;
    // The items as the version before sealing wrote them: every token in plaintext.
    let fresh = Timestamp::now()
        .plus(Duration::from_secs(7200))
        .secs()
        .to_string();
    let plain = |v: &str| AttributeValue::S(v.to_owned());
    w.overwrite("ticket", "ticket", plain(TICKET)).await;
    w.overwrite(
        "authorizer#wxsealaaaa",
        "refresh_token",
        plain("refresh-A-PLAIN"),
    )
    .await;
    w.overwrite(
        "authorizer#wxsealaaaa",
        "access_token",
        plain("access-A-PLAIN"),
    )
    .await;
    w.overwrite(
        "authorizer#wxsealaaaa",
        "token_expires_at",
        AttributeValue::N(fresh.clone()),
    )
    .await;
    w.overwrite("component_token", "access_token", plain("component-PLAIN"))
        .await;
    w.overwrite(
        "component_token",
        "token_expires_at",
        AttributeValue::N(fresh),
    )
    .await;
    let table = w.scan().await;
    assert!(table.contains("refresh-A-PLAIN") && table.contains("component-PLAIN"));

    // Served as they are, by a container that has never seen them.
    let (cold, cold_store) = w.instance().await;
    let a = appid("wxsealaaaa");
    assert_eq!(
        cold.authorizer_token(&a).await.unwrap().token.expose(),
        "access-A-PLAIN"
    );
    assert_eq!(
        cold.component_token().await.unwrap().token.expose(),
        "component-PLAIN"
    );
    assert_eq!(ticket(&cold_store).await, TICKET);

    // The job seals the four, with writes conditional on the plaintext; a second run finds none.
    assert_eq!(cold_store.seal_stored_tokens().await.unwrap(), 4);
    assert_eq!(cold_store.seal_stored_tokens().await.unwrap(), 0);
    let table = w.scan().await;
    for issued in [
        TICKET,
        "refresh-A-PLAIN",
        "access-A-PLAIN",
        "component-PLAIN",
    ] {
        assert!(!table.contains(issued), "{issued} is still in the table");
    }
    let (after, after_store) = w.instance().await;
    assert_eq!(
        after.authorizer_token(&a).await.unwrap().token.expose(),
        "access-A-PLAIN"
    );
    assert_eq!(
        after.component_token().await.unwrap().token.expose(),
        "component-PLAIN"
    );
    let stored = dynamo::stored(&after_store, &a).await;
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-A-PLAIN");
    // Conditions still compare stored tokens: a refused token is dropped only if it is the
    // one stored, sealed or not.
    let key = TokenKey::Component;
    let other = AccessToken::new("component-OTHER");
    assert!(!after_store.drop_token(&key, &other).await.unwrap());
    let refused = AccessToken::new("component-PLAIN");
    assert!(after_store.drop_token(&key, &refused).await.unwrap());
    let slot = after_store.load_slot(&key).await.unwrap().unwrap();
    assert!(slot.token.is_none());
    assert_eq!(w.stub.calls("api_authorizer_token"), 0);
    assert_eq!(w.stub.calls("api_component_token"), 0);
}

#[tokio::test]
async fn a_rotation_seals_new_writes_and_every_stored_token_under_the_new_key_while_old_ones_open()
{
    let w = world().await;
    let (_, store) = w.instance().await;
    seed(&store, &[("wxsealaaaa", "refresh-A-OLDKEY")]).await;
    let old_id = match w.raw("ticket", "ticket").await {
        AttributeValue::S(v) => v.split(':').nth(1).unwrap().to_owned(),
        other => panic!("{other:?}"),
    };
    // A running container (it has unwrapped the old key) and the rotation, by the refresher's
    // job, in another container, under another KMS key (TOKEN_KMS_KEY_ID changed).
    let (running, running_store) = w.instance().await;
    assert!(running_store.load_ticket().await.unwrap().is_some());
    let rotating = DynamoStore::new(w.client.clone(), &w.table, component(), kms::vault().await);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let new_id = rotating.rotate_data_key().await.unwrap().unwrap();
    assert_ne!(new_id, old_id);
    assert_eq!(
        rotating.seal_stored_tokens().await.unwrap(),
        3,
        "ticket, refresh and access token"
    );
    assert_eq!(rotating.seal_stored_tokens().await.unwrap(), 0);
    let table = w.scan().await;
    assert!(!table.contains(&format!("wxs1:{old_id}:")), "{table}");
    // The running container opens the new key's values (one unwrap) and its old key still
    // opens anything it meets; every token is what it was.
    let a = appid("wxsealaaaa");
    let stored = dynamo::stored(&running_store, &a).await;
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-A-OLDKEY");
    assert_eq!(ticket(&running_store).await, TICKET);
    let token = running.authorizer_token(&a).await.unwrap();
    assert!(token.token.expose().starts_with("authorizer-token-"));
    // A new container seals its writes under the new key.
    let (_, cold_store) = w.instance().await;
    cold_store
        .save_ticket(&VerifyTicket::new("ticket@@@AFTER"), Timestamp::now())
        .await
        .unwrap();
    match w.raw("ticket", "ticket").await {
        AttributeValue::S(v) => assert!(v.starts_with(&format!("wxs1:{new_id}:")), "{v}"),
        other => panic!("{other:?}"),
    }
}
