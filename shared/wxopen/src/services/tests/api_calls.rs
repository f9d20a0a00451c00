use super::*;
use wxopen_models::calls::{ApiAnswer, ApiCall};

fn call(v: serde_json::Value) -> ApiCall {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn a_refused_authorizer_token_is_replaced_once_and_the_call_sent_again() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxcaller", Timestamp::now()).await;
    *w.wechat.refuse_token_once.lock().unwrap() = Some("at-wxcaller".into());
    let calls = AuthorizerCalls::new(i.api.clone());
    let answer = calls
        .call(
            &appid("wxcaller"),
            &call(serde_json::json!({"path": "/cgi-bin/menu/get", "method": "GET"})),
        )
        .await
        .unwrap();
    let ApiAnswer::Json { status: 200, body } = answer else {
        panic!("a JSON answer: {answer:?}");
    };
    assert_eq!(body["errcode"], 0);
    assert_eq!(
        body["token"], "access_token",
        "the authorizer's token, in access_token"
    );
    assert_eq!(w.wechat.count("call_raw"), 2, "refused, then sent again");
    assert_eq!(
        w.wechat.count("api_authorizer_token"),
        1,
        "exactly one refresh"
    );
}

#[tokio::test]
async fn a_hostile_call_is_refused_by_name_and_nothing_is_sent() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxcaller", Timestamp::now()).await;
    let calls = AuthorizerCalls::new(i.api.clone());
    for (v, code) in [
        (
            serde_json::json!({"path": "https://evil.example/cgi-bin/x"}),
            "invalid_path",
        ),
        (serde_json::json!({"path": "/cgi-bin/../x"}), "invalid_path"),
        (
            serde_json::json!({"path": "//evil.example/x"}),
            "invalid_path",
        ),
        (
            serde_json::json!({"path": "/cgi-bin/x", "query": {"access_token": "mine"}}),
            "token_in_request",
        ),
        (
            serde_json::json!({"path": "/cgi-bin/component/x", "body": {"component_access_token": "mine"}}),
            "token_in_request",
        ),
    ] {
        let err = calls.call(&appid("wxcaller"), &call(v)).await.unwrap_err();
        assert!(
            matches!(err, ServiceError::Invalid { code: c, .. } if c == code),
            "{err:?}"
        );
    }
    assert_eq!(w.wechat.count("call_raw"), 0);
}

#[tokio::test]
async fn component_calls_carry_the_component_token_and_unknown_authorizers_fail_by_name() {
    let w = World::new().await;
    let i = w.instance();
    let component = i.component_calls();
    let answer = component
        .call(&call(serde_json::json!({"path": "/cgi-bin/component/api_get_authorizer_option", "body": {"authorizer_appid": "wx1", "option_name": "voice_recognize"}})))
        .await
        .unwrap();
    let ApiAnswer::Json { body, .. } = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(body["token"], "component_access_token");
    let err = AuthorizerCalls::new(i.api.clone())
        .call(
            &appid("wxnobody"),
            &call(serde_json::json!({"path": "/cgi-bin/x"})),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ServiceError::Authorizer(crate::tokens::AuthorizerError::Unknown(_))
    ));
    let url = component
        .oauth_url(
            &appid("wxoa"),
            &url::Url::parse("https://shop.example/back").unwrap(),
            "snsapi_base",
            "s1",
        )
        .unwrap();
    assert_eq!(
        url,
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxoa&redirect_uri=https%3A%2F%2Fshop.example%2Fback&response_type=code&scope=snsapi_base&state=s1&component_appid=wx_component_svc#wechat_redirect"
    );
    assert!(component
        .oauth_url(
            &appid("wxoa"),
            &url::Url::parse("https://shop.example/back").unwrap(),
            "snsapi_all",
            "s1"
        )
        .is_err());
}

#[tokio::test]
async fn a_quota_reset_sends_the_platforms_secret_without_a_token_and_only_once() {
    let w = World::new().await;
    let i = w.instance();
    let calls = i.component_calls();
    calls.clear_quota(Some(&appid("wxoa"))).await.unwrap();
    calls.clear_quota(None).await.unwrap();
    let resets = w.wechat.quota_resets.lock().unwrap().clone();
    assert_eq!(resets.len(), 2);
    assert_eq!(resets[0].component_appid, component());
    assert_eq!(resets[0].appsecret.expose(), "appsecret");
    assert_eq!(resets[0].appid, Some(appid("wxoa")));
    assert_eq!(resets[1].appid, None);
    assert_eq!(
        serde_json::to_value(&resets[1]).unwrap(),
        serde_json::json!({"component_appid": component().as_str(), "appsecret": "appsecret"}),
        "no appid: the platform's own quotas"
    );
    assert_eq!(w.wechat.count("clear_quota/v2"), 2);
    assert_eq!(
        w.wechat.count("api_component_token"),
        0,
        "no token is needed"
    );
    // Four more for the same account the same day, from another instance: refused, none sent.
    let other = w.instance();
    let calls = other.component_calls();
    for _ in 0..4 {
        let err = calls.clear_quota(Some(&appid("wxoa"))).await.unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Forbidden {
                    code: "quota_reset_budget",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert_eq!(
        w.wechat.count("clear_quota/v2"),
        2,
        "one reset a day per account"
    );
}
