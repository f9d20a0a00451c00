//! Tokens at rest through the handlers: two accounts authorized through the callback, a token
//! refused and renewed through `authorizer-token`, the refresher's run, then a scan of the whole
//! table shows none of the tokens WeChat issued, while every handler still answers with them.

use super::support::*;

fn query_auth(appid: &str, name: &str) -> Reply {
    Reply::json(json!({"authorization_info": {
        "authorizer_appid": appid,
        "authorizer_access_token": format!("access-{name}-ISSUED"),
        "expires_in": 7200,
        "authorizer_refresh_token": format!("refresh-{name}-ISSUED"),
        "func_info": [{"funcscope_category": {"id": 1}}]
    }}))
}

#[tokio::test]
async fn a_scan_after_authorizations_renewals_and_a_ticket_shows_no_token_wechat_issued() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    env.stub.script(
        "api_query_auth",
        [
            query_auth("wxsealedone", "ONE"),
            query_auth("wxsealedtwo", "TWO"),
        ],
    );
    for code in ["code-one", "code-two"] {
        let state = authorize_state(&env).await;
        let resp = get_callback(
            &env,
            &[("auth_code", code), ("state", &state)],
            "application/json",
        )
        .await;
        assert_eq!(resp.status(), 200, "{}", body_json(&resp));
    }
    // A token its caller saw refused: dropped (its sealed form matched) and renewed.
    let renewed = authorizer_token::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": "wxsealedone", "invalid_token": "access-ONE-ISSUED"})),
    )
    .await
    .unwrap();
    let renewed = body_json(&renewed)["authorizer_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(renewed.starts_with("authorizer-token-"), "{renewed}");
    assert_eq!(env.stub.calls("api_authorizer_token"), 1);
    let report = refresher::handler::handle(
        &env.services.refresher,
        json!({"job": "component_token"}),
        Timestamp::now().plus(Duration::from_secs(900)),
    )
    .await
    .unwrap();
    assert!(report.component_token_expires_at.secs() > now_secs());

    let client = dynamo::client().await;
    let scan = client.scan().table_name(&env.table).send().await.unwrap();
    let table = format!("{:?}", scan.items());
    let component_token = env.stub.requests().iter().find_map(|r| {
        (r.endpoint == "api_create_preauthcode")
            .then(|| r.query.get("component_access_token").cloned())
    });
    let component_token = component_token
        .flatten()
        .expect("the component token was sent");
    for issued in [
        "ticket@@@seeded",
        "access-ONE-ISSUED",
        "refresh-ONE-ISSUED",
        "access-TWO-ISSUED",
        "refresh-TWO-ISSUED",
        renewed.as_str(),
        component_token.as_str(),
    ] {
        assert!(!table.contains(issued), "{issued} is in the table");
    }
    // And every one is still served: the renewed token from the table by another container.
    let (other, _, _) = platform_for(
        &env.table,
        &env.stub.base_url,
        &[("TOKEN_KMS_KEY_ID", &env.vars["TOKEN_KMS_KEY_ID"])],
    )
    .await;
    let served = authorizer_token::handler::handle(
        &other.authorizers,
        direct(json!({"authorizer_appid": "wxsealedone"})),
    )
    .await
    .unwrap();
    assert_eq!(
        body_json(&served)["authorizer_access_token"],
        renewed.as_str()
    );
    let stored = dynamo::stored(&env.store, &AuthorizerAppid::parse("wxsealedtwo").unwrap()).await;
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-TWO-ISSUED");
    assert_eq!(env.stub.calls("api_authorizer_token"), 1);
}
