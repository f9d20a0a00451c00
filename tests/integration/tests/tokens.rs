//! The token manager with DynamoDB Local and a loopback WeChat stand-in: storms across
//! instances, lease takeover, refresh-token rotation, failed writes, 61023 and 40001.

use integration_tests::dynamo;
use integration_tests::logs;
use integration_tests::wechat_stub::{Reply, StubWeChat};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wxopen::clock::Timestamp;
use wxopen::services::ServiceError;
use wxopen::store::{
    AuthorizerStore, AuthorizerTokenWrite, CachedToken, DynamoStore, HistoryReader, Lease,
    TicketStore, TokenKey, TokenStore, TokenWrite,
};
use wxopen::tokens::{AuthorizerError, RefreshError, TokenManager, TokenSettings};
use wxopen::wechat::WeChatError;
use wxopen_lambda::testing::stale_authorization;
use wxopen_models::records::{AuthorizerStatus, HistoryKind};
use wxopen_models::{
    AccessToken, AuthorizerAppid, ComponentAppid, RefreshToken, Secret, VerifyTicket,
};

const APPSECRET: &str = "appsecret-VALUE-never-logged";

fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_tokens").unwrap()
}

fn app() -> AuthorizerAppid {
    AuthorizerAppid::parse("wxf8b4f85f3a794e77").unwrap()
}

fn settings() -> TokenSettings {
    TokenSettings {
        lease: Duration::from_secs(5),
        wait: Duration::from_secs(10),
        poll: Duration::from_millis(20),
        ..TokenSettings::default()
    }
}

/// One simulated Lambda instance: its own SDK client, store, WeChat client and memory cache.
async fn instance(
    table: &str,
    stub: &StubWeChat,
    settings: TokenSettings,
) -> (Arc<TokenManager>, DynamoStore) {
    let store = DynamoStore::new(
        dynamo::client().await,
        table,
        component(),
        integration_tests::kms::shared_vault().await,
    );
    let wechat = integration_tests::functions::wechat_client(&stub.base_url);
    let manager = TokenManager::new(
        Arc::new(store.clone()),
        Arc::new(wechat),
        (component(), Secret::new(APPSECRET)),
        settings,
    );
    (Arc::new(manager), store)
}

struct World {
    table: String,
    stub: StubWeChat,
    store: DynamoStore,
}

/// A table with a ticket, a fresh component token, and an authorizer whose token has expired.
async fn world() -> World {
    logs::capture();
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let store = DynamoStore::new(
        client,
        &table,
        component(),
        integration_tests::kms::shared_vault().await,
    );
    let stub = StubWeChat::start().await;
    store
        .save_ticket(&VerifyTicket::new("ticket@@@VALUE"), Timestamp::now())
        .await
        .unwrap();
    let authorization = stale_authorization(app().as_str(), "refresh-ORIGINAL", &[1, 2]);
    wxopen_lambda::testing::save(&store, &authorization).await;
    World { table, stub, store }
}

/// The component token as stored now.
async fn stored_component_token(store: &DynamoStore) -> AccessToken {
    let slot = store.load_slot(&TokenKey::Component).await.unwrap();
    slot.and_then(|s| s.token)
        .expect("a component token is stored")
        .token
}

/// Takes the authorizer's refresh lease for `owner`, as another instance would, for `lasting`.
async fn hold_lease(store: &DynamoStore, owner: &str, lasting: Duration) {
    let now = Timestamp::now();
    let lease = Lease {
        owner: owner.into(),
        until: now.plus(lasting),
    };
    let key = TokenKey::Authorizer(app());
    assert!(store.take_lease(&key, &lease, now).await.unwrap().is_some());
}

async fn seed_component_token(w: &World) {
    let now = Timestamp::now();
    let lease = Lease {
        owner: "seed".into(),
        until: now.plus(Duration::from_secs(1)),
    };
    w.store
        .take_lease(&TokenKey::Component, &lease, now)
        .await
        .unwrap();
    let token = CachedToken {
        token: AccessToken::new("component-token-SEEDED"),
        expires_at: Timestamp::now().plus(Duration::from_secs(7200)),
    };
    assert!(w
        .store
        .write_token(
            &TokenKey::Component,
            &TokenWrite {
                owner: "seed",
                token: &token,
                authorizer: None,
                now,
            }
        )
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_requests_on_four_instances_refresh_an_authorizer_token_once() {
    let w = world().await;
    seed_component_token(&w).await;
    w.stub
        .delay("api_authorizer_token", Duration::from_millis(300));
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(instance(&w.table, &w.stub, settings()).await.0);
    }
    let mut tasks = Vec::new();
    for i in 0..64 {
        let manager = instances[i % 4].clone();
        tasks.push(tokio::spawn(async move {
            manager.authorizer_token(&app()).await
        }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().expect("every request gets a token").token);
    }
    assert_eq!(
        w.stub.calls("api_authorizer_token"),
        1,
        "exactly one refresh across all instances"
    );
    assert_eq!(tokens.len(), 64);
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all 64 requests receive the same token"
    );
    assert_ne!(tokens[0], AccessToken::new("access-EXPIRED"));
    let stored = dynamo::stored(&w.store, &app()).await;
    assert_eq!(stored.access.unwrap().token, tokens[0]);
    assert_eq!(stored.lease, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_requests_on_four_instances_refresh_the_component_token_once() {
    let w = world().await;
    w.stub
        .delay("api_component_token", Duration::from_millis(300));
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(instance(&w.table, &w.stub, settings()).await.0);
    }
    let mut tasks = Vec::new();
    for i in 0..64 {
        let manager = instances[i % 4].clone();
        tasks.push(tokio::spawn(async move { manager.component_token().await }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().expect("every request gets a token").token);
    }
    assert_eq!(w.stub.calls("api_component_token"), 1);
    assert!(tokens.iter().all(|t| t == &tokens[0]));
    let request = &w.stub.requests()[0];
    assert_eq!(request.body["component_verify_ticket"], "ticket@@@VALUE");
}

#[tokio::test]
async fn a_lease_whose_holder_died_is_taken_over_after_it_lapses() {
    let w = world().await;
    seed_component_token(&w).await;
    hold_lease(&w.store, "dead-instance", Duration::from_millis(1500)).await;
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let started = Instant::now();
    let token = manager.authorizer_token(&app()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "it waited for the lease to lapse"
    );
    assert_eq!(w.stub.calls("api_authorizer_token"), 1);
    assert_eq!(
        dynamo::stored(&w.store, &app()).await.access.unwrap().token,
        token.token
    );
}

#[tokio::test]
async fn a_held_lease_that_outlasts_the_wait_is_a_clear_busy_error() {
    let w = world().await;
    hold_lease(&w.store, "slow-instance", Duration::from_secs(60)).await;
    let (manager, _) = instance(
        &w.table,
        &w.stub,
        TokenSettings {
            wait: Duration::from_millis(300),
            ..settings()
        },
    )
    .await;
    let err = manager.authorizer_token(&app()).await.unwrap_err();
    assert!(
        matches!(err, ServiceError::Refresh(RefreshError::Busy { .. })),
        "{err:?}"
    );
    assert_eq!(w.stub.calls("api_authorizer_token"), 0);
}

#[tokio::test]
async fn a_new_refresh_token_from_wechat_is_in_dynamodb_before_the_token_is_handed_out() {
    let w = world().await;
    seed_component_token(&w).await;
    w.stub.script(
        "api_authorizer_token",
        [Reply::json(json!({
            "authorizer_access_token": "authorizer-token-ROTATED",
            "expires_in": 7200,
            "authorizer_refresh_token": "refresh-ROTATED"
        }))],
    );
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let token = manager.authorizer_token(&app()).await.unwrap();
    assert_eq!(token.token, AccessToken::new("authorizer-token-ROTATED"));
    let stored = dynamo::stored(&w.store, &app()).await;
    assert_eq!(
        stored.refresh_token,
        Some(RefreshToken::new("refresh-ROTATED"))
    );
    let request = w
        .stub
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "api_authorizer_token")
        .unwrap();
    assert_eq!(request.body["authorizer_refresh_token"], "refresh-ORIGINAL");
    assert_eq!(
        request.query["component_access_token"],
        "component-token-SEEDED"
    );
    let history = w.store.history(&app()).await.unwrap();
    assert_eq!(
        history.last().unwrap().kind,
        HistoryKind::RefreshTokenReplaced
    );
}

#[tokio::test]
async fn a_refresh_whose_write_fails_hands_out_no_token_and_keeps_the_old_refresh_token() {
    let w = world().await;
    seed_component_token(&w).await;
    w.stub.script(
        "api_authorizer_token",
        [Reply::json(json!({
            "authorizer_access_token": "authorizer-token-NEVER-HANDED-OUT",
            "expires_in": 7200,
            "authorizer_refresh_token": "refresh-NEVER-STORED"
        }))
        .after(Duration::from_millis(600))],
    );
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let pending = tokio::spawn({
        let manager = manager.clone();
        async move { manager.authorizer_token(&app()).await }
    });
    // While WeChat answers, the item changes underneath (as a concurrent re-authorization would
    // change it): the conditional write must fail.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(w.stub.calls("api_authorizer_token"), 1);
    dynamo::client()
        .await
        .update_item()
        .table_name(&w.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("component#{}", component())),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("authorizer#{}", app())),
        )
        .update_expression("SET #v = #v + :one")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(
            ":one",
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        )
        .send()
        .await
        .unwrap();
    let err = pending.await.unwrap().unwrap_err();
    assert!(
        matches!(err, ServiceError::Refresh(RefreshError::Conflict { .. })),
        "{err:?}"
    );
    let stored = dynamo::stored(&w.store, &app()).await;
    assert_eq!(
        stored.refresh_token,
        Some(RefreshToken::new("refresh-ORIGINAL"))
    );
    assert_eq!(
        stored.access.unwrap().token,
        AccessToken::new("access-EXPIRED")
    );
    assert_eq!(stored.lease, None, "the lease is released");
}

#[tokio::test]
async fn refresh_token_refused_marks_needs_reauth_and_deletes_nothing() {
    let w = world().await;
    seed_component_token(&w).await;
    w.stub
        .script("api_authorizer_token", [Reply::errcode(61023)]);
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let err = manager.authorizer_token(&app()).await.unwrap_err();
    assert_eq!(
        err,
        ServiceError::Authorizer(AuthorizerError::NeedsReauth(app()))
    );
    let stored = dynamo::stored(&w.store, &app()).await;
    assert_eq!(stored.record.status, AuthorizerStatus::NeedsReauth);
    assert_eq!(
        stored.refresh_token,
        Some(RefreshToken::new("refresh-ORIGINAL"))
    );
    assert_eq!(
        w.store.history(&app()).await.unwrap().last().unwrap().kind,
        HistoryKind::NeedsReauth
    );
    // Later requests fail at once, without calling WeChat.
    assert_eq!(
        manager.authorizer_token(&app()).await.unwrap_err(),
        ServiceError::Authorizer(AuthorizerError::NeedsReauth(app()))
    );
    assert_eq!(w.stub.calls("api_authorizer_token"), 1);
}

#[tokio::test]
async fn an_invalid_component_token_is_dropped_refetched_and_the_call_retried_once() {
    let w = world().await;
    seed_component_token(&w).await;
    w.stub
        .script("api_authorizer_token", [Reply::errcode(40001)]);
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let token = manager.authorizer_token(&app()).await.unwrap();
    assert!(token.token.expose().starts_with("authorizer-token-"));
    assert_eq!(
        w.stub.calls("api_component_token"),
        1,
        "the seeded component token was replaced once"
    );
    assert_eq!(w.stub.calls("api_authorizer_token"), 2);
    assert_ne!(
        stored_component_token(&w.store).await,
        AccessToken::new("component-token-SEEDED")
    );
}

#[tokio::test]
async fn twenty_refusals_in_a_minute_across_two_instances_renew_the_token_once() {
    // A caller looping on an endpoint that always answers 40001, through two instances: the
    // first refusal renews the token, the next nineteen go back as WeChat's answer.
    let w = world().await;
    seed_component_token(&w).await;
    let settings = TokenSettings {
        replacement_wait: Duration::from_millis(200),
        ..settings()
    };
    let (a, _) = instance(&w.table, &w.stub, settings).await;
    let (b, _) = instance(&w.table, &w.stub, settings).await;
    a.authorizer_token(&app()).await.unwrap();
    let renewals_before = w.stub.calls("api_authorizer_token");
    let key = TokenKey::Authorizer(app());
    let sent = std::sync::atomic::AtomicU32::new(0);
    let always_refused = |_token: AccessToken| {
        sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async {
            Err::<(), _>(WeChatError::AccessTokenInvalid {
                endpoint: "always_refused",
                errcode: 40001,
            })
        }
    };
    let refused = |r: &Result<(), WeChatError>| matches!(r, Err(e) if e.is_token_invalid());
    for n in 0..20 {
        let manager = if n % 2 == 0 { &a } else { &b };
        let answer = manager
            .with_token_refused_when(&key, always_refused, refused)
            .await
            .unwrap();
        assert!(matches!(
            answer,
            Err(WeChatError::AccessTokenInvalid { errcode: 40001, .. })
        ));
    }
    assert_eq!(
        w.stub.calls("api_authorizer_token") - renewals_before,
        1,
        "one renewal for twenty refusals in a minute"
    );
    // The first call and its one retry, then one call each: nothing else was sent.
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 21);
}

#[tokio::test]
async fn a_refusal_after_another_instance_renewed_uses_its_token_without_renewing() {
    let w = world().await;
    seed_component_token(&w).await;
    let (a, _) = instance(&w.table, &w.stub, settings()).await;
    let (b, _) = instance(&w.table, &w.stub, settings()).await;
    let old = a.authorizer_token(&app()).await.unwrap();
    b.authorizer_token(&app()).await.unwrap();
    // B renews (its refusal), A still holds the old token in memory.
    b.invalidate(&TokenKey::Authorizer(app()), &old.token)
        .await
        .unwrap();
    let new = b.authorizer_token(&app()).await.unwrap();
    assert_ne!(new.token, old.token);
    let renewals_before = w.stub.calls("api_authorizer_token");
    let key = TokenKey::Authorizer(app());
    let old_token = old.token.clone();
    let refuses_old = |token: AccessToken| {
        let refused = token == old_token;
        async move {
            if refused {
                Err(WeChatError::AccessTokenInvalid {
                    endpoint: "refuses_old",
                    errcode: 40001,
                })
            } else {
                Ok(token)
            }
        }
    };
    let refused =
        |r: &Result<AccessToken, WeChatError>| matches!(r, Err(e) if e.is_token_invalid());
    let answer = a
        .with_token_refused_when(&key, refuses_old, refused)
        .await
        .unwrap();
    assert_eq!(answer.unwrap(), new.token, "A retried with B's token");
    assert_eq!(w.stub.calls("api_authorizer_token"), renewals_before);
}

#[tokio::test]
async fn an_invalidation_of_an_old_token_does_not_drop_the_newer_one() {
    let w = world().await;
    seed_component_token(&w).await;
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    manager
        .invalidate(
            &TokenKey::Component,
            &AccessToken::new("component-token-OLDER"),
        )
        .await
        .unwrap();
    assert_eq!(
        stored_component_token(&w.store).await,
        AccessToken::new("component-token-SEEDED")
    );
    // A caller reporting the current authorizer token gets a new one on its next request.
    let first = manager.authorizer_token(&app()).await.unwrap();
    manager
        .invalidate(&TokenKey::Authorizer(app()), &first.token)
        .await
        .unwrap();
    let second = manager.authorizer_token(&app()).await.unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(w.stub.calls("api_authorizer_token"), 2);
}

#[tokio::test]
async fn no_ticket_is_a_clear_error_and_the_lease_is_released() {
    logs::capture();
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let stub = StubWeChat::start().await;
    let (manager, store) = instance(&table, &stub, settings()).await;
    let err = manager.component_token().await.unwrap_err();
    assert_eq!(err, ServiceError::Refresh(RefreshError::TicketMissing));
    assert!(err.to_string().contains("event URL"));
    assert_eq!(stub.calls("api_component_token"), 0);
    assert_eq!(
        store
            .load_slot(&TokenKey::Component)
            .await
            .unwrap()
            .unwrap()
            .lease,
        None
    );
    // As soon as a ticket arrives, the next request succeeds without waiting for a lease.
    store
        .save_ticket(&VerifyTicket::new("ticket@@@LATE"), Timestamp::now())
        .await
        .unwrap();
    let started = Instant::now();
    manager.component_token().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn unknown_and_revoked_authorizers_get_named_errors_without_calling_wechat() {
    let w = world().await;
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let unknown = AuthorizerAppid::parse("wxnobody").unwrap();
    assert_eq!(
        manager.authorizer_token(&unknown).await.unwrap_err(),
        ServiceError::Authorizer(AuthorizerError::Unknown(unknown))
    );
    w.store
        .revoke_authorizer(
            &app(),
            Timestamp::now().plus(Duration::from_secs(1)),
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        manager.authorizer_token(&app()).await.unwrap_err(),
        ServiceError::Authorizer(AuthorizerError::Revoked(app()))
    );
    assert_eq!(w.stub.calls("api_authorizer_token"), 0);
}

#[tokio::test]
async fn a_warm_instance_answers_from_memory_without_any_network_call() {
    let w = world().await;
    seed_component_token(&w).await;
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let first = manager.authorizer_token(&app()).await.unwrap();
    // Take DynamoDB away entirely: a warm hit must not need it, nor WeChat.
    dynamo::client()
        .await
        .delete_table()
        .table_name(&w.table)
        .send()
        .await
        .unwrap();
    let calls_before = w.stub.requests().len();
    for _ in 0..100 {
        assert_eq!(manager.authorizer_token(&app()).await.unwrap(), first);
    }
    assert_eq!(w.stub.requests().len(), calls_before);
}

#[tokio::test]
async fn a_token_inside_the_margin_is_refreshed_ahead_of_expiry() {
    let w = world().await;
    seed_component_token(&w).await;
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    // Five minutes left, with a ten-minute margin: refresh now.
    hold_lease(&w.store, "seed", Duration::from_millis(1000)).await;
    let version = dynamo::stored(&w.store, &app()).await.record.version;
    let near = CachedToken {
        token: AccessToken::new("access-NEAR-EXPIRY"),
        expires_at: Timestamp::now().plus(Duration::from_secs(300)),
    };
    assert!(w
        .store
        .write_token(
            &TokenKey::Authorizer(app()),
            &TokenWrite {
                owner: "seed",
                token: &near,
                authorizer: Some(AuthorizerTokenWrite {
                    expected_version: version,
                    replaced_refresh_token: None,
                    permission_ids: &[],
                }),
                now: Timestamp::now(),
            }
        )
        .await
        .unwrap());
    let token = manager.authorizer_token(&app()).await.unwrap();
    assert_ne!(token.token, near.token);
    assert_eq!(w.stub.calls("api_authorizer_token"), 1);
}

#[tokio::test]
async fn no_token_or_secret_value_appears_in_the_logs() {
    let w = world().await;
    seed_component_token(&w).await;
    w.stub.script(
        "api_authorizer_token",
        [
            Reply::errcode(40001),
            Reply::errcode(-1),
            Reply::json(json!({
                "authorizer_access_token": "authorizer-token-LOGCHECK",
                "expires_in": 7200,
                "authorizer_refresh_token": "refresh-LOGCHECK"
            })),
        ],
    );
    let (manager, _) = instance(&w.table, &w.stub, settings()).await;
    let token = manager.authorizer_token(&app()).await.unwrap();
    manager
        .invalidate(&TokenKey::Authorizer(app()), &token.token)
        .await
        .unwrap();
    w.stub
        .script("api_authorizer_token", [Reply::errcode(61023)]);
    let _ = manager.authorizer_token(&app()).await;

    let logs = logs::captured();
    assert!(
        logs.contains("authorizer token refreshed"),
        "the capture works"
    );
    assert!(logs.contains("component token refreshed"));
    assert!(
        logs.contains("aws_smithy"),
        "the AWS SDK's debug output is captured too"
    );
    assert!(
        logs.contains("hyper") || logs.contains("reqwest"),
        "the HTTP stack's debug output is captured too"
    );
    for secret in [
        APPSECRET,
        "ticket@@@VALUE",
        "component-token-",
        "authorizer-token-",
        "refresh-ORIGINAL",
        "refresh-LOGCHECK",
        "access-EXPIRED",
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
}
