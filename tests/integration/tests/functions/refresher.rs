//! `refresher`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

#[tokio::test]
async fn refresher_renews_the_component_token_only_under_twenty_minutes() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let set_token = |left: u64| {
        let env = &env;
        async move {
            let now = Timestamp::now();
            let lease = Lease {
                owner: "seed".into(),
                until: now.plus(Duration::from_secs(1)),
            };
            let key = TokenKey::Component;
            env.store.take_lease(&key, &lease, now).await.unwrap();
            let t = CachedToken {
                token: AccessToken::new(format!("component-token-left-{left}")),
                expires_at: now.plus(Duration::from_secs(left)),
            };
            let write = TokenWrite {
                owner: "seed",
                token: &t,
                authorizer: None,
                now,
            };
            assert!(env.store.write_token(&key, &write).await.unwrap());
        }
    };
    set_token(3600).await;
    let report =
        refresher::handler::handle(&env.services.refresher, json!({"source": "aws.events"}))
            .await
            .unwrap();
    assert!(!report.component_token_refreshed);
    assert_eq!(env.stub.calls("api_component_token"), 0);

    set_token(15 * 60).await;
    let fresh = TestEnv::on(
        env.table.clone(),
        integration_tests::wechat_stub::StubWeChat::start().await,
        &[],
    )
    .await;
    let report = refresher::handler::handle(&fresh.services.refresher, json!({}))
        .await
        .unwrap();
    assert!(report.component_token_refreshed);
    assert_eq!(fresh.stub.calls("api_component_token"), 1);
    assert!(report.component_token_expires_at > now_secs() + 7000);
}

#[tokio::test]
async fn refresher_reconciles_authorizers_in_pages_of_500() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    store_authorizer(&env, "wxhealthy").await;
    store_authorizer(&env, "wxrefused").await;
    let refused = env
        .store
        .load_slot(&TokenKey::Authorizer(
            AuthorizerAppid::parse("wxrefused").unwrap(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(env
        .store
        .mark_needs_reauth(&refused.credentials.unwrap(), Timestamp::now())
        .await
        .unwrap());
    let mut first: Vec<serde_json::Value> = (0..498).map(|i| json!({"authorizer_appid": format!("wxlisted{i:03}"), "refresh_token": format!("listed-refresh-{i}"), "auth_time": 1700000000})).collect();
    first.push(json!({"authorizer_appid": "wxhealthy", "refresh_token": "listed-healthy", "auth_time": 1700000000}));
    first.push(json!({"authorizer_appid": "wxrefused", "refresh_token": "listed-refused", "auth_time": now_secs()}));
    env.stub.script("api_get_authorizer_list", [
        Reply::json(json!({"total_count": 501, "list": first})),
        Reply::json(json!({"total_count": 501, "list": [{"authorizer_appid": "wxlast", "refresh_token": "listed-last", "auth_time": 1700000000}]})),
    ]);
    let report = refresher::handler::handle(&env.services.refresher, json!({}))
        .await
        .unwrap();
    assert_eq!(report.authorizers_listed, 501);
    assert_eq!(report.authorizers_added, 499);
    assert_eq!(report.refresh_tokens_restored, 1);
    let offsets: Vec<_> = env
        .stub
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == "api_get_authorizer_list")
        .map(|r| (r.body["offset"].clone(), r.body["count"].clone()))
        .collect();
    assert_eq!(
        offsets,
        vec![(json!(0), json!(500)), (json!(500), json!(500))]
    );
    let get = |a: &str| {
        let env = &env;
        let a = AuthorizerAppid::parse(a).unwrap();
        async move { env.store.load_authorizer(&a).await.unwrap().unwrap() }
    };
    assert_eq!(
        get("wxhealthy").await.refresh_token.unwrap().expose(),
        "refresh-of-wxhealthy",
        "a usable refresh token is kept"
    );
    let refused = get("wxrefused").await;
    assert_eq!(
        (
            refused.record.status,
            refused.refresh_token.unwrap().expose().to_owned()
        ),
        (AuthorizerStatus::Authorized, "listed-refused".to_owned())
    );
    assert_eq!(
        get("wxlast").await.refresh_token.unwrap().expose(),
        "listed-last"
    );
}

#[tokio::test]
async fn refresher_without_a_ticket_fails_with_ticket_missing() {
    let env = TestEnv::new().await;
    let err = refresher::handler::handle(&env.services.refresher, json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.code, "ticket_missing");
}
