//! The HTTP WeChat client against a loopback stand-in: success, each class of errcode,
//! retries, timeouts and bodies that are not what WeChat sends.

use integration_tests::wechat_stub::{Reply, StubWeChat};
use std::time::Duration;
use wxopen::wechat::{HttpWeChat, RetryPolicy, WeChatApi, WeChatError};
use wxopen_models::api::*;
use wxopen_models::authorizer_info::AccountKind;
use wxopen_models::{
    AccessToken, AuthorizationCode, AuthorizerAppid, ComponentAppid, RefreshToken, Secret,
    VerifyTicket,
};

const TOKEN: &str = "component-access-token-SECRET";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

fn client(stub: &StubWeChat) -> HttpWeChat {
    HttpWeChat::new(&stub.base_url, Duration::from_millis(300), fast_retry())
}

fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_appid").unwrap()
}

fn authorizer() -> AuthorizerAppid {
    AuthorizerAppid::parse("wxf8b4f85f3a794e77").unwrap()
}

fn query_auth_req() -> QueryAuthRequest {
    QueryAuthRequest {
        component_appid: component(),
        authorization_code: AuthorizationCode::new("auth-code-SECRET"),
    }
}

fn token() -> AccessToken {
    AccessToken::new(TOKEN)
}

#[tokio::test]
async fn component_token_is_requested_without_a_token_in_the_query() {
    let stub = StubWeChat::start().await;
    let resp = client(&stub)
        .component_token(&ComponentTokenRequest {
            component_appid: component(),
            component_appsecret: Secret::new("app-secret"),
            component_verify_ticket: VerifyTicket::new("ticket@@@1"),
        })
        .await
        .unwrap();
    assert_eq!(resp.expires_in, 7200);
    assert!(resp
        .component_access_token
        .expose()
        .starts_with("component-token-"));
    let req = &stub.requests()[0];
    assert_eq!(req.endpoint, "api_component_token");
    assert!(req.query.is_empty());
    assert_eq!(req.body["component_appsecret"], "app-secret");
    assert_eq!(req.body["component_verify_ticket"], "ticket@@@1");
}

#[tokio::test]
async fn every_endpoint_succeeds_and_sends_the_component_token() {
    let stub = StubWeChat::start().await;
    let c = client(&stub);
    let t = token();
    let pre = c
        .create_pre_auth_code(
            &t,
            &CreatePreAuthCodeRequest {
                component_appid: component(),
            },
        )
        .await
        .unwrap();
    assert!(!pre.pre_auth_code.is_empty());
    let auth = c.query_auth(&t, &query_auth_req()).await.unwrap();
    assert_eq!(auth.authorization_info.authorizer_appid, authorizer());
    let refreshed = c
        .authorizer_token(
            &t,
            &AuthorizerTokenRequest {
                component_appid: component(),
                authorizer_appid: authorizer(),
                authorizer_refresh_token: RefreshToken::new("refresh-1"),
            },
        )
        .await
        .unwrap();
    assert_eq!(refreshed.refresh_token().unwrap().expose(), "refresh-1");
    let info = c
        .get_authorizer_info(
            &t,
            &GetAuthorizerInfoRequest {
                component_appid: component(),
                authorizer_appid: authorizer(),
            },
        )
        .await
        .unwrap();
    assert_eq!(info.authorizer_info.kind(), AccountKind::OfficialAccount);
    let list = c
        .get_authorizer_list(
            &t,
            &GetAuthorizerListRequest {
                component_appid: component(),
                offset: 0,
                count: 500,
            },
        )
        .await
        .unwrap();
    assert_eq!(list.total_count, 0);
    let option = c
        .get_authorizer_option(
            &t,
            &GetAuthorizerOptionRequest {
                component_appid: component(),
                authorizer_appid: authorizer(),
                option_name: OptionName::VoiceRecognize,
            },
        )
        .await
        .unwrap();
    assert_eq!(option.option_value, OptionValue("1".into()));
    c.set_authorizer_option(
        &t,
        &SetAuthorizerOptionRequest {
            component_appid: component(),
            authorizer_appid: authorizer(),
            option_name: OptionName::LocationReport,
            option_value: OptionValue("2".into()),
        },
    )
    .await
    .unwrap();

    let requests = stub.requests();
    assert_eq!(requests.len(), 7);
    for r in &requests {
        assert_eq!(
            r.query.get("component_access_token").map(String::as_str),
            Some(TOKEN),
            "{}",
            r.endpoint
        );
        assert_eq!(r.body["component_appid"], "wx_component_appid");
    }
    assert_eq!(requests[1].body["authorization_code"], "auth-code-SECRET");
    assert_eq!(requests[6].body["option_name"], "location_report");
}

#[tokio::test]
async fn each_class_of_errcode_becomes_its_variant_without_retry() {
    type IsExpected = fn(&WeChatError) -> bool;
    let cases: Vec<(i64, IsExpected)> = vec![
        (40001, |e| {
            matches!(e, WeChatError::AccessTokenInvalid { errcode: 40001, .. })
        }),
        (42001, |e| e.is_token_invalid()),
        (45009, |e| matches!(e, WeChatError::QuotaExceeded { .. })),
        (61004, |e| matches!(e, WeChatError::IpNotWhitelisted { .. })),
        (61005, |e| matches!(e, WeChatError::TicketExpired)),
        (61009, |e| matches!(e, WeChatError::AuthCodeInvalid)),
        (61010, |e| matches!(e, WeChatError::AuthCodeExpired)),
        (61023, |e| matches!(e, WeChatError::RefreshTokenInvalid)),
        (48001, |e| {
            matches!(e, WeChatError::Api { errcode: 48001, .. })
        }),
    ];
    for (code, is_expected) in cases {
        let stub = StubWeChat::start().await;
        stub.script("api_query_auth", [Reply::errcode(code)]);
        let err = client(&stub)
            .query_auth(&token(), &query_auth_req())
            .await
            .unwrap_err();
        assert!(is_expected(&err), "{code}: {err:?}");
        assert_eq!(err.errcode(), Some(code));
        assert_eq!(
            stub.calls("api_query_auth"),
            1,
            "{code} must not be retried"
        );
    }
}

#[tokio::test]
async fn busy_then_success_is_retried_transparently() {
    let stub = StubWeChat::start().await;
    stub.script("api_query_auth", [Reply::errcode(-1), Reply::errcode(-1)]);
    let auth = client(&stub)
        .query_auth(&token(), &query_auth_req())
        .await
        .unwrap();
    assert_eq!(auth.authorization_info.authorizer_appid, authorizer());
    assert_eq!(stub.calls("api_query_auth"), 3);
}

#[tokio::test]
async fn retries_stop_after_three_attempts() {
    let stub = StubWeChat::start().await;
    stub.script("api_query_auth", (0..5).map(|_| Reply::errcode(-1)));
    let err = client(&stub)
        .query_auth(&token(), &query_auth_req())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        WeChatError::Busy {
            endpoint: "api_query_auth",
            attempts: 3
        }
    );
    assert_eq!(stub.calls("api_query_auth"), 3);

    let stub = StubWeChat::start().await;
    stub.script(
        "api_query_auth",
        (0..5).map(|_| Reply::raw(502, "<html>bad gateway</html>")),
    );
    let err = client(&stub)
        .query_auth(&token(), &query_auth_req())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WeChatError::Http {
                status: 502,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(stub.calls("api_query_auth"), 3);
}

#[tokio::test]
async fn a_client_error_status_is_not_retried() {
    let stub = StubWeChat::start().await;
    stub.script(
        "api_query_auth",
        [Reply::raw(404, "<html>not found</html>")],
    );
    let err = client(&stub)
        .query_auth(&token(), &query_auth_req())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WeChatError::Http {
                status: 404,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(stub.calls("api_query_auth"), 1);
}

fn info_req() -> GetAuthorizerInfoRequest {
    GetAuthorizerInfoRequest {
        component_appid: component(),
        authorizer_appid: authorizer(),
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    // A read may be sent again when its answer is lost.
    let stub = StubWeChat::start().await;
    let ok = Reply::raw(
        200,
        integration_tests::wechat_stub::INFO_OFFICIAL_ACCOUNT_EXAMPLE,
    );
    stub.script(
        "api_get_authorizer_info",
        [ok.clone().after(Duration::from_secs(2)), ok],
    );
    let info = client(&stub)
        .get_authorizer_info(&token(), &info_req())
        .await
        .unwrap();
    assert_eq!(info.authorizer_info.kind(), AccountKind::OfficialAccount);
    assert_eq!(stub.calls("api_get_authorizer_info"), 2);

    let stub = StubWeChat::start().await;
    stub.delay("api_get_authorizer_info", Duration::from_secs(2));
    let err = client(&stub)
        .get_authorizer_info(&token(), &info_req())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        WeChatError::Timeout {
            endpoint: "api_get_authorizer_info",
            attempts: 3
        }
    );
    assert_eq!(stub.calls("api_get_authorizer_info"), 3);
}

#[tokio::test]
async fn a_code_exchange_whose_answer_was_lost_is_not_sent_again() {
    // WeChat may have spent the code on the first request: a replay would answer 61009 and
    // lose the first answer's tokens.
    let stub = StubWeChat::start().await;
    let ok = Reply::raw(200, integration_tests::wechat_stub::QUERY_AUTH_EXAMPLE);
    stub.script(
        "api_query_auth",
        [ok.clone().after(Duration::from_secs(2)), ok],
    );
    let err = client(&stub)
        .query_auth(&token(), &query_auth_req())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        WeChatError::Timeout {
            endpoint: "api_query_auth",
            attempts: 1
        }
    );
    assert_eq!(stub.calls("api_query_auth"), 1);
}

#[tokio::test]
async fn a_quota_reset_carries_the_secret_without_a_token_and_a_lost_answer_is_not_sent_again() {
    // Each reset spends one of the month's ten: a replay after a lost answer would spend two.
    let stub = StubWeChat::start().await;
    let ok = Reply::json(serde_json::json!({"errcode": 0, "errmsg": "ok"}));
    stub.script(
        "clear_quota/v2",
        [ok.clone().after(Duration::from_secs(2)), ok],
    );
    let request = ClearQuotaRequest {
        component_appid: component(),
        appsecret: Secret::new("app-secret"),
        appid: Some(authorizer()),
    };
    let c = client(&stub);
    let err = c.clear_quota(&request).await.unwrap_err();
    assert_eq!(
        err,
        WeChatError::Timeout {
            endpoint: "clear_quota/v2",
            attempts: 1
        }
    );
    assert_eq!(stub.calls("clear_quota/v2"), 1);
    c.clear_quota(&request).await.unwrap();
    let sent = &stub.requests()[1];
    assert!(sent.query.is_empty(), "no token: {:?}", sent.query);
    assert_eq!(
        sent.body,
        serde_json::json!({"component_appid": "wx_component_appid", "appsecret": "app-secret", "appid": authorizer().as_str()})
    );
}

#[tokio::test]
async fn non_json_and_empty_success_bodies_are_named_errors() {
    let stub = StubWeChat::start().await;
    stub.script(
        "api_query_auth",
        [Reply::raw(
            200,
            "<html><body>Service Unavailable</body></html>",
        )],
    );
    let err = client(&stub)
        .query_auth(&token(), &query_auth_req())
        .await
        .unwrap_err();
    assert!(
        matches!(err, WeChatError::NotJson { ref snippet, .. } if snippet.contains("Service Unavailable")),
        "{err:?}"
    );
    assert_eq!(stub.calls("api_query_auth"), 1);

    stub.script(
        "api_query_auth",
        [Reply::json(
            serde_json::json!({"errcode": 0, "errmsg": "ok"}),
        )],
    );
    let err = client(&stub)
        .query_auth(&token(), &query_auth_req())
        .await
        .unwrap_err();
    assert!(
        matches!(err, WeChatError::UnexpectedShape { ref reason, .. } if reason.contains("authorization_info")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unreachable_host_is_a_connect_error_that_never_shows_the_token() {
    // Bind then drop to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = HttpWeChat::new(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_millis(300),
        fast_retry(),
    );
    let err = c.query_auth(&token(), &query_auth_req()).await.unwrap_err();
    assert!(
        matches!(err, WeChatError::Connect { attempts: 3, .. }),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SECRET"), "{text}");
}
