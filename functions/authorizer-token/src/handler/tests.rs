//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use serde_json::json;
use wxopen::clock::now_secs;
use wxopen_lambda::testing::*;

#[tokio::test]
async fn authorizer_token_returns_a_valid_token_with_its_expiry_and_replaces_a_refused_one() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let authorizers = p.core.authorizers();
    let resp = handle(
        &authorizers,
        direct(json!({"authorizer_appid": SEED_APPID})),
    )
    .await
    .unwrap();
    let body = body_json(&resp);
    assert_eq!(body["authorizer_appid"], SEED_APPID);
    let token = body["authorizer_access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("at-"), "{token}");
    let expires_at = body["expires_at"].as_i64().unwrap();
    assert!(expires_at > now_secs() + 7000 && expires_at <= now_secs() + 7200);
    // Asked again, the stored token answers without WeChat.
    let again = handle(
        &authorizers,
        direct(json!({"authorizer_appid": SEED_APPID})),
    )
    .await
    .unwrap();
    assert_eq!(body_json(&again)["authorizer_access_token"], json!(token));
    assert_eq!(p.wechat.count("api_authorizer_token"), 1);
    // Reporting the token as rejected gets a new one.
    let payload = json!({"authorizer_appid": SEED_APPID, "invalid_token": token});
    let resp = handle(&authorizers, direct(payload)).await.unwrap();
    assert_ne!(body_json(&resp)["authorizer_access_token"], json!(token));
    assert_eq!(p.wechat.count("api_authorizer_token"), 2);
}

#[tokio::test]
async fn authorizer_token_failures_are_named_lambda_errors() {
    let p = Platform::new().with_ticket().await;
    let authorizers = p.core.authorizers();
    let err = handle(
        &authorizers,
        direct(json!({"authorizer_appid": "wxnobody"})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (404, "unknown_authorizer"));
    let err = handle(&authorizers, direct(json!({}))).await.unwrap_err();
    assert_eq!(err.code, "missing_authorizer_appid");
    p.authorized("wxrefused").await;
    p.wechat
        .script("api_authorizer_token", [Reply::Errcode(61023)]);
    let err = handle(
        &authorizers,
        direct(json!({"authorizer_appid": "wxrefused"})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (409, "authorizer_needs_reauth")
    );
    let req = http_event("GET", "/authorizer-token", &[], &[], None);
    let resp = handle(&authorizers, req).await.unwrap();
    assert_eq!(resp.status(), 404, "tokens are not served over HTTP");
}

#[tokio::test]
async fn a_remembered_token_is_served_until_it_nears_its_expiry_and_then_renewed_once() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let authorizers = p.core.authorizers();
    let ask = || {
        handle(
            &authorizers,
            direct(json!({"authorizer_appid": SEED_APPID})),
        )
    };
    let first = body_json(&ask().await.unwrap())["authorizer_access_token"].clone();
    // An hour later the token (valid two hours) is still served, from memory.
    p.clock.advance(std::time::Duration::from_secs(3600));
    assert_eq!(
        body_json(&ask().await.unwrap())["authorizer_access_token"],
        first
    );
    assert_eq!(p.wechat.count("api_authorizer_token"), 1);
    // Within the refresh margin of its expiry it is renewed, once.
    p.clock.advance(std::time::Duration::from_secs(3500));
    let renewed = body_json(&ask().await.unwrap())["authorizer_access_token"].clone();
    assert_ne!(renewed, first);
    assert_eq!(
        body_json(&ask().await.unwrap())["authorizer_access_token"],
        renewed
    );
    assert_eq!(p.wechat.count("api_authorizer_token"), 2);
}
