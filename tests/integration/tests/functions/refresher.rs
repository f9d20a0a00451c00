//! `refresher`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

/// A deadline as far as a 15-minute Lambda's.
fn deadline() -> Timestamp {
    Timestamp::now().plus(Duration::from_secs(900))
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
    let report = refresher::handler::handle(
        &env.services.refresher,
        json!({"job": "reconcile"}),
        deadline(),
    )
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
        async move { dynamo::stored(&env.store, &a).await }
    };
    assert_eq!(
        get("wxhealthy").await.refresh_token.unwrap().expose(),
        "refresh-of-wxhealthy",
        "a usable refresh token from a later authorization than the listing is kept"
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

fn listed(range: std::ops::Range<usize>) -> Vec<serde_json::Value> {
    range
        .map(|i| json!({"authorizer_appid": format!("wxpaged{i:04}"), "refresh_token": format!("listed-{i}"), "auth_time": 1700000000}))
        .collect()
}

#[tokio::test]
async fn a_reconcile_stopped_by_the_deadline_resumes_at_its_position_and_completes() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let settings = wxopen::services::ReconcileSettings {
        safety_margin: Duration::from_secs(2),
        ..Default::default()
    };
    let refresher = wxopen::services::Refresher::new(
        env.services.api.clone(),
        env.services.tokens.clone(),
        std::sync::Arc::new(env.store.clone()),
        settings,
    );
    let page = |range| Reply::json(json!({"total_count": 1200, "list": listed(range)}));
    env.stub.script(
        "api_get_authorizer_list",
        [
            page(0..500).after(Duration::from_millis(1000)),
            page(500..1000),
            page(1000..1200),
        ],
    );
    // Room for one page: after it, less than the safety margin is left.
    let soon = Timestamp::now().plus(Duration::from_millis(2600));
    let job = json!({"job": "reconcile"});
    let first = refresher::handler::handle(&refresher, job.clone(), soon)
        .await
        .unwrap();
    let first = serde_json::to_value(first.reconcile.unwrap()).unwrap();
    assert_eq!(first["outcome"], "paused");
    assert_eq!(
        (first["listed"].clone(), first["pass"]["offset"].clone()),
        (json!(500), json!(500))
    );
    let stored = |i: usize| {
        let env = &env;
        async move {
            let appid = AuthorizerAppid::parse(format!("wxpaged{i:04}")).unwrap();
            env.store.load_authorizer(&appid).await.unwrap()
        }
    };
    assert!(stored(499).await.is_some() && stored(500).await.is_none());

    let second = refresher::handler::handle(&refresher, job, deadline())
        .await
        .unwrap();
    let second = serde_json::to_value(second.reconcile.unwrap()).unwrap();
    assert_eq!(second["outcome"], "complete");
    assert_eq!(second["listed"], 700, "it continued at offset 500");
    assert_eq!(second["pass"]["compared"], 1200);
    assert_eq!(second["pass"]["added"], 1200);
    let offsets: Vec<_> = env
        .stub
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == "api_get_authorizer_list")
        .map(|r| r.body["offset"].clone())
        .collect();
    assert_eq!(offsets, vec![json!(0), json!(500), json!(1000)]);
    for i in [0, 500, 999, 1199] {
        assert!(stored(i).await.is_some(), "wxpaged{i:04} is stored");
    }
}
