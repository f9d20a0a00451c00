//! `exchange`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

#[tokio::test]
async fn exchange_stores_only_the_granted_permissions_and_returns_no_token() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    env.stub.script("api_query_auth", [Reply::json(json!({"authorization_info": {
        "authorizer_appid": "wxpartial", "authorizer_access_token": "access-PARTIAL", "expires_in": 7200,
        "authorizer_refresh_token": "refresh-PARTIAL",
        "func_info": [{"funcscope_category": {"id": 17}}, {"funcscope_category": {"id": 18}}]
    }}))]);
    let resp = exchange::handler::handle(
        &env.services.exchanger,
        direct(json!({"authorization_code": "code@@@1"})),
    )
    .await
    .unwrap();
    let text = body_text(&resp);
    assert!(!text.contains("PARTIAL"), "no token in the answer: {text}");
    let body = body_json(&resp);
    assert_eq!(body["authorizer_appid"], "wxpartial");
    assert_eq!(body["status"], "authorized");
    assert_eq!(body["permission_ids"], json!([17, 18]));
    let stored = dynamo::stored(&env.store, &AuthorizerAppid::parse("wxpartial").unwrap()).await;
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-PARTIAL");
    assert_eq!(stored.access.unwrap().token.expose(), "access-PARTIAL");
}

#[tokio::test]
async fn exchange_errors_are_lambda_errors_with_the_code_as_error_type() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let err = exchange::handler::handle(&env.services.exchanger, direct(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.code, "missing_authorization_code");
    let err = exchange::handler::handle(
        &env.services.exchanger,
        direct(json!({"authorization_code": 5})),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "invalid_payload");
    env.stub.script("api_query_auth", [Reply::errcode(61009)]);
    let err = exchange::handler::handle(
        &env.services.exchanger,
        direct(json!({"authorization_code": "used"})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.wechat_errcode),
        ("auth_code_invalid", Some(61009))
    );
    let diagnostic = lambda_http::lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "auth_code_invalid");
    let object: serde_json::Value = serde_json::from_str(&diagnostic.error_message).unwrap();
    assert_eq!(object["error"]["wechat_errcode"], 61009);
}
