//! WeChat's access points on loopback: a closed primary moves every call to the fallback (the
//! skip that follows is `AccessPoints`' unit test), a primary that took the code exchange and hangs is not replayed
//! elsewhere, a replayable call whose answer was lost is, and with no fallback the failure is
//! the named error it always was.

use integration_tests::wechat_stub::{closed, hanging, StubWeChat};
use std::sync::atomic::Ordering;
use std::time::Duration;
use wxopen::wechat::{AccessPoints, HttpWeChat, RetryPolicy, WeChatApi, WeChatError};
use wxopen_models::api::{AuthorizerTokenRequest, QueryAuthRequest};
use wxopen_models::{
    AccessToken, AuthorizationCode, AuthorizerAppid, ComponentAppid, RefreshToken,
};

fn client(primary: &str, fallbacks: &[&str]) -> HttpWeChat {
    let fallbacks: Vec<String> = fallbacks.iter().map(|f| f.to_string()).collect();
    let retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
    };
    let points = AccessPoints::new(primary, &fallbacks);
    HttpWeChat::with_points(points, Duration::from_millis(400), retry)
}

fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_appid").unwrap()
}

fn exchange() -> QueryAuthRequest {
    QueryAuthRequest {
        component_appid: component(),
        authorization_code: AuthorizationCode::new("auth-code-SECRET"),
    }
}

fn refresh() -> AuthorizerTokenRequest {
    AuthorizerTokenRequest {
        component_appid: component(),
        authorizer_appid: AuthorizerAppid::parse("wxf8b4f85f3a794e77").unwrap(),
        authorizer_refresh_token: RefreshToken::new("refresh-SECRET"),
    }
}

fn token() -> AccessToken {
    AccessToken::new("component-token")
}

#[tokio::test]
async fn a_closed_primary_moves_every_call_to_the_fallback() {
    let stub = StubWeChat::start().await;
    let c = client(&closed(), &[&stub.base_url]);
    c.query_auth(&token(), &exchange()).await.unwrap();
    c.authorizer_token(&token(), &refresh()).await.unwrap();
    assert_eq!(
        (
            stub.calls("api_query_auth"),
            stub.calls("api_authorizer_token")
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn a_primary_that_took_the_code_exchange_and_hangs_is_not_replayed_at_the_fallback() {
    let stub = StubWeChat::start().await;
    let (primary, received) = hanging().await;
    let c = client(&primary, &[&stub.base_url]);
    let err = c.query_auth(&token(), &exchange()).await.unwrap_err();
    assert!(
        matches!(
            err,
            WeChatError::Timeout {
                endpoint: "api_query_auth",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        received.load(Ordering::SeqCst),
        1,
        "sent once, to the primary"
    );
    assert_eq!(
        stub.calls("api_query_auth"),
        0,
        "the code was not sent elsewhere"
    );
}

#[tokio::test]
async fn a_replayable_call_whose_answer_was_lost_moves_to_the_fallback() {
    let stub = StubWeChat::start().await;
    let (primary, received) = hanging().await;
    let c = client(&primary, &[&stub.base_url]);
    c.authorizer_token(&token(), &refresh()).await.unwrap();
    assert_eq!(
        (
            received.load(Ordering::SeqCst),
            stub.calls("api_authorizer_token")
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn without_a_fallback_a_closed_primary_is_the_named_connect_error() {
    let c = client(&closed(), &[]);
    let err = c.authorizer_token(&token(), &refresh()).await.unwrap_err();
    assert!(
        matches!(err, WeChatError::Connect { attempts: 2, .. }),
        "{err:?}"
    );
}
