//! `authorizer-token`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

#[tokio::test]
async fn authorizer_token_returns_a_valid_token_with_its_expiry() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    store_authorizer(&env, SEED_APPID).await;
    let resp = authorizer_token::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": SEED_APPID})),
    )
    .await
    .unwrap();
    let body = body_json(&resp);
    assert_eq!(body["authorizer_appid"], SEED_APPID);
    let token = body["authorizer_access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("authorizer-token-"));
    let expires_at = body["expires_at"].as_i64().unwrap();
    assert!(expires_at > now_secs() + 7000 && expires_at <= now_secs() + 7200);
    // Reporting the token as rejected gets a new one.
    let resp = authorizer_token::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": SEED_APPID, "invalid_token": token})),
    )
    .await
    .unwrap();
    assert_ne!(body_json(&resp)["authorizer_access_token"], json!(token));
    assert_eq!(env.stub.calls("api_authorizer_token"), 2);
}

#[tokio::test]
async fn authorizer_token_failures_are_named_lambda_errors() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let err = authorizer_token::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": "wxnobody"})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (404, "unknown_authorizer"));
    let err = authorizer_token::handler::handle(&env.services.authorizers, direct(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.code, "missing_authorizer_appid");
    store_authorizer(&env, "wxrefused").await;
    env.stub
        .script("api_authorizer_token", [Reply::errcode(61023)]);
    let err = authorizer_token::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": "wxrefused"})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (409, "authorizer_needs_reauth")
    );
    let resp = authorizer_token::handler::handle(
        &env.services.authorizers,
        http_event("GET", "/authorizer-token", &[], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 404, "tokens are not served over HTTP");
}
