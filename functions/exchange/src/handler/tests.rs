//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use serde_json::json;
use wxopen::store::AuthorizerStore;
use wxopen_lambda::testing::*;
use wxopen_models::AuthorizerAppid;

#[tokio::test]
async fn exchange_stores_only_the_granted_permissions_and_returns_no_token() {
    let p = Platform::new().with_ticket().await;
    let answer = json!({"authorization_info": {
        "authorizer_appid": "wxpartial", "authorizer_access_token": "access-PARTIAL", "expires_in": 7200,
        "authorizer_refresh_token": "refresh-PARTIAL",
        "func_info": [{"funcscope_category": {"id": 17}}, {"funcscope_category": {"id": 18}}]
    }});
    p.wechat.script("api_query_auth", [Reply::Json(answer)]);
    let resp = handle(
        &p.core.exchanger(),
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
    let appid = AuthorizerAppid::parse("wxpartial").unwrap();
    let stored = p.core.store.load_authorizer(&appid).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-PARTIAL");
    assert_eq!(stored.access.unwrap().token.expose(), "access-PARTIAL");
}

#[tokio::test]
async fn exchange_errors_are_lambda_errors_with_the_code_as_error_type() {
    let p = Platform::new().with_ticket().await;
    let exchanger = p.core.exchanger();
    let err = handle(&exchanger, direct(json!({}))).await.unwrap_err();
    assert_eq!(err.code, "missing_authorization_code");
    let err = handle(&exchanger, direct(json!({"authorization_code": 5})))
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_payload");
    p.wechat.script("api_query_auth", [Reply::Errcode(61009)]);
    let err = handle(&exchanger, direct(json!({"authorization_code": "used"})))
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
    assert_eq!(p.wechat.count("api_query_auth"), 1, "one call per code");
}

#[tokio::test]
async fn exchange_without_a_ticket_is_ticket_missing_and_calls_no_exchange() {
    let p = Platform::new();
    let err = handle(
        &p.core.exchanger(),
        direct(json!({"authorization_code": "code-wxa"})),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "ticket_missing");
    assert_eq!(p.wechat.count("api_query_auth"), 0);
}
