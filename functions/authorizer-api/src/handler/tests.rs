//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use serde_json::{json, Value};
use wxopen_lambda::testing::*;

async fn invoke(p: &Platform, payload: Value) -> Result<Value, wxopen_lambda::ApiError> {
    let resp = handle(&p.core.authorizer_calls(), direct(payload)).await?;
    Ok(body_json(&resp))
}

#[tokio::test]
async fn a_call_goes_out_with_the_authorizers_token_and_wechats_answer_comes_back_as_sent() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let payload = json!({"authorizer_appid": SEED_APPID, "path": "/cgi-bin/menu/get"});
    let answer = invoke(&p, payload.clone()).await.unwrap();
    assert_eq!(answer["status"], 200);
    let body = &answer["body"];
    assert_eq!(
        (body["errcode"].clone(), body["token"].clone()),
        (json!(0), json!("access_token"))
    );
    assert_eq!(body["path"], "/cgi-bin/menu/get");
    let token = body["sent_with"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with("at-"),
        "the stale token was refreshed first: {token}"
    );
    // A second call reuses the token.
    let again = invoke(&p, payload).await.unwrap();
    assert_eq!(again["body"]["sent_with"], json!(token));
    assert_eq!(p.wechat.count("api_authorizer_token"), 1);
}

#[tokio::test]
async fn a_token_wechat_refuses_is_replaced_once_and_the_call_sent_again() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let payload = json!({"authorizer_appid": SEED_APPID, "path": "/cgi-bin/menu/get"});
    let first = invoke(&p, payload.clone()).await.unwrap();
    let token = first["body"]["sent_with"].as_str().unwrap().to_owned();
    *p.wechat.refuse_token_once.lock().unwrap() = Some(token.clone());
    let answer = invoke(&p, payload).await.unwrap();
    assert_eq!(answer["body"]["errcode"], 0);
    assert_ne!(answer["body"]["sent_with"], json!(token));
    assert_eq!(
        p.wechat.count("api_authorizer_token"),
        2,
        "one refresh for the refusal"
    );
    assert_eq!(p.wechat.count("call_raw"), 3);
}

#[tokio::test]
async fn bad_invocations_are_named_errors_and_send_nothing() {
    let p = Platform::new().with_ticket().await;
    for (payload, status, code) in [
        (
            json!({"path": "/cgi-bin/menu/get"}),
            400,
            "missing_authorizer_appid",
        ),
        (
            json!({"authorizer_appid": "wxnobody", "path": "/cgi-bin/menu/get"}),
            404,
            "unknown_authorizer",
        ),
        (
            json!({"authorizer_appid": SEED_APPID, "path": "https://evil.example/x"}),
            400,
            "invalid_path",
        ),
        (
            json!({"authorizer_appid": SEED_APPID, "path": "/cgi-bin/../x"}),
            400,
            "invalid_path",
        ),
        (
            json!({"authorizer_appid": SEED_APPID, "path": "/cgi-bin/x", "query": {"access_token": "mine"}}),
            400,
            "token_in_request",
        ),
        (
            json!({"authorizer_appid": SEED_APPID, "path": "/cgi-bin/component/api_query_auth"}),
            403,
            "credential_endpoint",
        ),
        (
            json!({"authorizer_appid": SEED_APPID, "path": "/cgi-bin/clear_quota"}),
            403,
            "credential_endpoint",
        ),
        (
            json!({"authorizer_appid": SEED_APPID, "path": "/cgi-bin/component/setprivacysetting"}),
            403,
            "component_endpoint",
        ),
    ] {
        let err = invoke(&p, payload.clone()).await.unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (status, code), "{payload}");
    }
    let req = http_event("POST", "/authorizer-api", &[], &[], Some("{}"));
    let resp = handle(&p.core.authorizer_calls(), req).await.unwrap();
    assert_eq!(resp.status(), 404, "not served over HTTP");
    assert_eq!(p.wechat.count("call_raw"), 0);
}
