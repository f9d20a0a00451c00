//! Each function's handler with real events (API Gateway HTTP API v2 and direct payloads)
//! against moto and a loopback WeChat stand-in: every success path and every listed failure,
//! checking the response and DynamoDB afterwards.

use integration_tests::functions::*;
use integration_tests::wechat_stub::{Reply, INFO_MINI_PROGRAM_EXAMPLE};
use serde_json::json;
use std::collections::HashMap;
use wxopen::clock::{now_ms, now_secs};
use wxopen::store::{CachedToken, NewAuthorization, Store};
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::{AccessToken, AuthorizerAppid, PermissionId, RefreshToken};

const SEED_APPID: &str = "wxf8b4f85f3a794e77";

fn seed_app() -> AuthorizerAppid {
    AuthorizerAppid::parse(SEED_APPID).unwrap()
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn store_authorizer(env: &TestEnv, appid: &str) {
    env.store
        .save_authorization(
            &component(),
            &NewAuthorization {
                authorizer_appid: AuthorizerAppid::parse(appid).unwrap(),
                refresh_token: Some(RefreshToken::new(format!("refresh-of-{appid}"))),
                access: Some(CachedToken {
                    token: AccessToken::new("access-stale"),
                    expires_at: now_secs() - 1,
                }),
                permission_ids: vec![PermissionId(1), PermissionId(15)],
            },
            now_secs(),
            now_ms(),
        )
        .await
        .unwrap();
}

/// Runs authorize and returns the state it put in the redirect URI.
async fn authorize_state(env: &TestEnv) -> String {
    let resp = authorize::handler::handle(
        &env.platform,
        http_event("GET", "/wechat/authorize", &[], &[], None),
    )
    .await
    .unwrap();
    let page = header(&resp, "location").unwrap();
    let redirect = query_of(&page)["redirect_uri"].clone();
    query_of(&redirect)["state"].clone()
}

// ---------- authorize ----------

#[tokio::test]
async fn authorize_redirects_to_the_pc_authorization_page_with_a_signed_state() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let resp = authorize::handler::handle(
        &env.platform,
        http_event("GET", "/wechat/authorize", &[], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 302);
    let location = header(&resp, "location").unwrap();
    assert!(
        location.starts_with("https://mp.weixin.qq.com/cgi-bin/componentloginpage?"),
        "{location}"
    );
    let q = query_of(&location);
    assert_eq!(q["component_appid"], COMPONENT);
    assert!(q["pre_auth_code"].starts_with("preauthcode@@@"));
    assert_eq!(q["auth_type"], "3");
    let redirect = &q["redirect_uri"];
    assert!(
        redirect.starts_with(&format!("{CALLBACK_URL}?state=")),
        "{redirect}"
    );
    assert_eq!(env.stub.calls("api_create_preauthcode"), 1);
    assert_eq!(env.stub.calls("api_component_token"), 1);
}

#[tokio::test]
async fn authorize_supports_mobile_auth_type_biz_appid_and_ext() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let req = http_event(
        "GET",
        "/wechat/authorize",
        &[("mobile", "1"), ("auth_type", "2"), ("ext", "tenant-42")],
        &[],
        None,
    );
    let location = header(
        &authorize::handler::handle(&env.platform, req)
            .await
            .unwrap(),
        "location",
    )
    .unwrap();
    assert!(
        location.starts_with(
            "https://mp.weixin.qq.com/safe/bindcomponent?action=bindcomponent&no_scan=1&"
        ),
        "{location}"
    );
    assert!(location.ends_with("#wechat_redirect"));
    assert_eq!(query_of(&location)["auth_type"], "2");

    let req = http_event(
        "GET",
        "/wechat/authorize",
        &[("biz_appid", SEED_APPID), ("auth_type", "1")],
        &[],
        None,
    );
    let q = query_of(
        &header(
            &authorize::handler::handle(&env.platform, req)
                .await
                .unwrap(),
            "location",
        )
        .unwrap(),
    );
    assert_eq!(q["biz_appid"], SEED_APPID);
    assert!(!q.contains_key("auth_type"), "biz_appid excludes auth_type");

    let resp = authorize::handler::handle(&env.platform, direct(json!({"auth_type": 1})))
        .await
        .unwrap();
    let url = body_json(&resp)["authorization_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(query_of(&url)["auth_type"], "1");
}

#[tokio::test]
async fn authorize_refuses_bad_parameters_and_reports_a_missing_ticket() {
    let env = TestEnv::new().await;
    for (name, value, code) in [
        ("auth_type", "5", "invalid_auth_type"),
        ("auth_type", "x", "invalid_auth_type"),
        ("biz_appid", "wx bad", "invalid_biz_appid"),
    ] {
        let resp = authorize::handler::handle(
            &env.platform,
            http_event("GET", "/wechat/authorize", &[(name, value)], &[], None),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), 400, "{name}={value}");
        assert_eq!(body_json(&resp)["error"]["code"], code);
    }
    let long_ext = "e".repeat(300);
    env.seed_ticket().await;
    let resp = authorize::handler::handle(
        &env.platform,
        http_event("GET", "/wechat/authorize", &[("ext", &long_ext)], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (400, json!("invalid_ext"))
    );

    let env = TestEnv::new().await;
    let resp = authorize::handler::handle(
        &env.platform,
        http_event("GET", "/wechat/authorize", &[], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(body_json(&resp)["error"]["code"], "ticket_missing");
    assert_eq!(env.stub.calls("api_create_preauthcode"), 0);
}

// ---------- callback ----------

#[tokio::test]
async fn callback_exchanges_stores_and_shows_the_account_and_its_permissions() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let state = authorize_state(&env).await;
    let req = http_event(
        "GET",
        "/wechat/callback",
        &[
            ("auth_code", "queryauthcode@@@1"),
            ("expires_in", "600"),
            ("state", &state),
        ],
        &[("accept", "text/html,application/xhtml+xml")],
        None,
    );
    let resp = callback::handler::handle(&env.platform, req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let page = body_text(&resp);
    assert!(page.contains("Authorization complete"), "{page}");
    assert!(
        page.contains("WeixinSDK Demo Special"),
        "the account's name: {page}"
    );
    assert!(page.contains(SEED_APPID));
    for name in ["Message management", "User management", "Account services"] {
        assert!(page.contains(name), "{name} in {page}");
    }
    let stored = env
        .store
        .load_authorizer(&component(), &seed_app())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.record.status, AuthorizerStatus::Authorized);
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        "dTo-YCXPL4llX-u1W1pPpnp8Hgm4wpJtlR6iV0doKdY"
    );
    assert_eq!(
        stored.record.permission_ids,
        vec![PermissionId(1), PermissionId(2), PermissionId(3)]
    );
    assert!(
        stored.info.is_some(),
        "the profile fetched for the page is kept as a snapshot"
    );
    let exchange = env
        .stub
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "api_query_auth")
        .unwrap();
    assert_eq!(exchange.body["authorization_code"], "queryauthcode@@@1");
}

#[tokio::test]
async fn callback_redirects_to_the_success_url_with_the_appid_and_ext() {
    let env = TestEnv::with(&[("AUTH_SUCCESS_URL", "https://console.example/done?tab=1")]).await;
    env.seed_ticket().await;
    let req = http_event(
        "GET",
        "/wechat/authorize",
        &[("ext", "tenant-42")],
        &[],
        None,
    );
    let location = header(
        &authorize::handler::handle(&env.platform, req)
            .await
            .unwrap(),
        "location",
    )
    .unwrap();
    let state = query_of(&query_of(&location)["redirect_uri"])["state"].clone();
    let req = http_event(
        "GET",
        "/wechat/callback",
        &[("auth_code", "c1"), ("state", &state)],
        &[],
        None,
    );
    let resp = callback::handler::handle(&env.platform, req).await.unwrap();
    assert_eq!(resp.status(), 302);
    let q = query_of(&header(&resp, "location").unwrap());
    assert_eq!(q["tab"], "1");
    assert_eq!(q["authorizer_appid"], SEED_APPID);
    assert_eq!(q["ext"], "tenant-42");
}

#[tokio::test]
async fn callback_refuses_missing_forged_and_expired_state_before_calling_wechat() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let expired = wxopen::state::StateSigner::new(wxopen_models::Secret::new(STATE_SECRET))
        .issue(None, now_secs() - 1)
        .unwrap();
    let forged = wxopen::state::StateSigner::new(wxopen_models::Secret::new(
        "another-secret-0123456789abcdefgh",
    ))
    .issue(None, now_secs() + 600)
    .unwrap();
    for (state, code) in [
        (None, "missing_state"),
        (Some(forged.as_str()), "invalid_state"),
        (Some(expired.as_str()), "expired_state"),
    ] {
        let mut q = vec![("auth_code", "c1")];
        if let Some(s) = state {
            q.push(("state", s));
        }
        let resp = callback::handler::handle(
            &env.platform,
            http_event(
                "GET",
                "/wechat/callback",
                &q,
                &[("accept", "application/json")],
                None,
            ),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), 403, "{code}");
        assert_eq!(body_json(&resp)["error"]["code"], code);
        let page = callback::handler::handle(
            &env.platform,
            http_event(
                "GET",
                "/wechat/callback",
                &q,
                &[("accept", "text/html")],
                None,
            ),
        )
        .await
        .unwrap();
        assert_eq!(page.status(), 403);
        assert!(
            body_text(&page).contains("start the authorization again"),
            "{}",
            body_text(&page)
        );
    }
    assert_eq!(env.stub.calls("api_query_auth"), 0);
}

#[tokio::test]
async fn callback_failures_have_the_right_status_for_each_cause() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let state = authorize_state(&env).await;
    let call = |q: Vec<(&'static str, String)>| {
        let env = &env;
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            callback::handler::handle(
                &env.platform,
                http_event(
                    "GET",
                    "/wechat/callback",
                    &q,
                    &[("accept", "application/json")],
                    None,
                ),
            )
            .await
            .unwrap()
        }
    };
    let resp = call(vec![("state", state.clone())]).await;
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (400, json!("missing_auth_code"))
    );

    for (errcode, code) in [(61010, "auth_code_expired"), (61009, "auth_code_invalid")] {
        env.stub.script("api_query_auth", [Reply::errcode(errcode)]);
        let resp = call(vec![("auth_code", "old".into()), ("state", state.clone())]).await;
        assert_eq!(resp.status(), 400);
        let body = body_json(&resp);
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["wechat_errcode"], errcode);
    }

    env.stub.script(
        "api_query_auth",
        (0..3).map(|_| Reply::raw(503, "<html>down</html>")),
    );
    let resp = call(vec![("auth_code", "c".into()), ("state", state.clone())]).await;
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (502, json!("wechat_http_error"))
    );

    integration_tests::dynamo::client()
        .await
        .delete_table()
        .table_name(&env.table)
        .send()
        .await
        .unwrap();
    let resp = call(vec![("auth_code", "c".into()), ("state", state.clone())]).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(body_json(&resp)["error"]["code"], "store_unavailable");
}

#[tokio::test]
async fn an_expired_auth_code_shows_a_page_telling_the_person_to_start_again() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let state = authorize_state(&env).await;
    env.stub.script("api_query_auth", [Reply::errcode(61010)]);
    let req = http_event(
        "GET",
        "/wechat/callback",
        &[("auth_code", "c"), ("state", &state)],
        &[("accept", "text/html")],
        None,
    );
    let resp = callback::handler::handle(&env.platform, req).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        header(&resp, "content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let page = body_text(&resp);
    assert!(page.contains("has expired"), "{page}");
    assert!(page.contains("start the authorization again"), "{page}");
}

// ---------- exchange ----------

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
        &env.platform,
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
    let stored = env
        .store
        .load_authorizer(&component(), &AuthorizerAppid::parse("wxpartial").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose(), "refresh-PARTIAL");
    assert_eq!(stored.access.unwrap().token.expose(), "access-PARTIAL");
}

#[tokio::test]
async fn exchange_errors_are_lambda_errors_with_the_code_as_error_type() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let err = exchange::handler::handle(&env.platform, direct(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.code, "missing_authorization_code");
    let err = exchange::handler::handle(&env.platform, direct(json!({"authorization_code": 5})))
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_payload");
    env.stub.script("api_query_auth", [Reply::errcode(61009)]);
    let err =
        exchange::handler::handle(&env.platform, direct(json!({"authorization_code": "used"})))
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

// ---------- authorizer-info ----------

#[tokio::test]
async fn info_merges_live_wechat_info_with_the_stored_record_and_saves_a_snapshot() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    store_authorizer(&env, SEED_APPID).await;
    let resp = authorizer_info::handler::handle(
        &env.platform,
        http_event_with_path_param(&format!("/authorizers/{SEED_APPID}"), SEED_APPID, &[]),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let body = body_json(&resp);
    assert_eq!(body["authorizer_appid"], SEED_APPID);
    assert_eq!(body["status"], "authorized");
    assert_eq!(body["permission_ids"], json!([1, 15]));
    assert_eq!(
        body["permissions"][1],
        json!({"id": 15, "name": "Custom menu"})
    );
    assert_eq!(body["account_kind"], "official_account");
    assert_eq!(
        body["authorizer_info"]["nick_name"],
        "WeixinSDK Demo Special"
    );
    assert_eq!(body["authorizer_info"]["service_type_info"]["id"], 2);
    assert_eq!(body["info_source"], "live");
    assert!(
        !body_text(&resp).contains("refresh-of"),
        "no token in the answer"
    );
    assert!(env
        .store
        .load_authorizer(&component(), &seed_app())
        .await
        .unwrap()
        .unwrap()
        .info
        .is_some());

    // Within max_age the snapshot answers, without WeChat.
    let calls = env.stub.calls("api_get_authorizer_info");
    let resp = authorizer_info::handler::handle(
        &env.platform,
        direct(json!({"authorizer_appid": SEED_APPID, "max_age_seconds": 300})),
    )
    .await
    .unwrap();
    assert_eq!(body_json(&resp)["info_source"], "snapshot");
    assert_eq!(env.stub.calls("api_get_authorizer_info"), calls);
    // max_age 0 always asks WeChat.
    let resp = authorizer_info::handler::handle(
        &env.platform,
        direct(json!({"authorizer_appid": SEED_APPID, "max_age_seconds": 0})),
    )
    .await
    .unwrap();
    assert_eq!(body_json(&resp)["info_source"], "live");
    assert_eq!(env.stub.calls("api_get_authorizer_info"), calls + 1);
}

#[tokio::test]
async fn info_types_the_mini_program_variant_and_reads_the_last_path_segment() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    store_authorizer(&env, "wxminiprogram").await;
    env.stub.script(
        "api_get_authorizer_info",
        [Reply::raw(200, INFO_MINI_PROGRAM_EXAMPLE)],
    );
    // As `cargo lambda watch` mounts it: no path parameter, the AppID is the last segment.
    let req = http_event(
        "GET",
        "/lambda-url/authorizer-info/wxminiprogram",
        &[],
        &[],
        None,
    );
    let body = body_json(
        &authorizer_info::handler::handle(&env.platform, req)
            .await
            .unwrap(),
    );
    assert_eq!(body["account_kind"], "mini_program");
    assert_eq!(
        body["authorizer_info"]["miniprograminfo"]["network"]["RequestDomain"],
        json!(["https://www.qq.com"])
    );
    assert_eq!(body["authorizer_info"]["signature"], "Time is passing by.");
}

#[tokio::test]
async fn info_answers_404_for_unknown_409_for_revoked_and_400_for_bad_input() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let resp = authorizer_info::handler::handle(
        &env.platform,
        http_event_with_path_param("/authorizers/wxnobody", "wxnobody", &[]),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (404, json!("unknown_authorizer"))
    );
    store_authorizer(&env, "wxrevoked").await;
    env.store
        .revoke_authorizer(
            &component(),
            &AuthorizerAppid::parse("wxrevoked").unwrap(),
            now_secs() + 5,
            now_ms(),
        )
        .await
        .unwrap();
    let resp = authorizer_info::handler::handle(
        &env.platform,
        http_event_with_path_param("/authorizers/wxrevoked", "wxrevoked", &[]),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (409, json!("authorizer_revoked"))
    );
    let resp = authorizer_info::handler::handle(
        &env.platform,
        http_event_with_path_param("/authorizers/wx1", "wx1", &[("max_age_seconds", "soon")]),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (400, json!("invalid_max_age_seconds"))
    );
    let err = authorizer_info::handler::handle(
        &env.platform,
        direct(json!({"authorizer_appid": "bad appid!"})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (400, "invalid_authorizer_appid")
    );
    assert_eq!(env.stub.calls("api_get_authorizer_info"), 0);
}

#[tokio::test]
async fn authorizers_are_listed_in_pages() {
    let env = TestEnv::new().await;
    for i in 0..5 {
        store_authorizer(&env, &format!("wxlist{i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "2".to_owned())];
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = body_json(
            &authorizer_info::handler::handle(
                &env.platform,
                http_event("GET", "/authorizers", &q, &[], None),
            )
            .await
            .unwrap(),
        );
        for item in body["items"].as_array().unwrap() {
            seen.push(item["authorizer_appid"].as_str().unwrap().to_owned());
            assert!(item.get("refresh_token").is_none());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("wxlist{i}")).collect::<Vec<_>>()
    );
    let body = body_json(
        &authorizer_info::handler::handle(&env.platform, direct(json!({"limit": 10})))
            .await
            .unwrap(),
    );
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    for (q, code) in [
        (("limit", "0"), "invalid_limit"),
        (("limit", "1000"), "invalid_limit"),
        (("cursor", "../x"), "invalid_cursor"),
    ] {
        let resp = authorizer_info::handler::handle(
            &env.platform,
            http_event("GET", "/authorizers", &[q], &[], None),
        )
        .await
        .unwrap();
        assert_eq!(
            (
                resp.status().as_u16(),
                body_json(&resp)["error"]["code"].clone()
            ),
            (400, json!(code))
        );
    }
}

// ---------- authorizer-token ----------

#[tokio::test]
async fn authorizer_token_returns_a_valid_token_with_its_expiry() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    store_authorizer(&env, SEED_APPID).await;
    let resp = authorizer_token::handler::handle(
        &env.platform,
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
        &env.platform,
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
        &env.platform,
        direct(json!({"authorizer_appid": "wxnobody"})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (404, "unknown_authorizer"));
    let err = authorizer_token::handler::handle(&env.platform, direct(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.code, "missing_authorizer_appid");
    store_authorizer(&env, "wxrefused").await;
    env.stub
        .script("api_authorizer_token", [Reply::errcode(61023)]);
    let err = authorizer_token::handler::handle(
        &env.platform,
        direct(json!({"authorizer_appid": "wxrefused"})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (409, "authorizer_needs_reauth")
    );
    let resp = authorizer_token::handler::handle(
        &env.platform,
        http_event("GET", "/authorizer-token", &[], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 404, "tokens are not served over HTTP");
}

// ---------- events ----------

async fn post_push(env: &TestEnv, push: &WeChatPush) -> lambda_http::Response<lambda_http::Body> {
    events::handler::handle(
        &env.platform,
        http_event(
            "POST",
            "/wechat/events",
            &push.query(),
            &[("content-type", "text/xml")],
            Some(&push.body),
        ),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn events_accept_a_ticket_sealed_by_wechatpy() {
    let env = TestEnv::new().await;
    let push = seal_with_wechatpy(
        &push_xml(
            "component_verify_ticket",
            &[("ComponentVerifyTicket", "ticket@@@from-wechatpy")],
        ),
        COMPONENT,
    );
    let resp = post_push(&env, &push).await;
    assert_eq!(
        (resp.status().as_u16(), body_text(&resp)),
        (200, "success".to_owned())
    );
    let ticket = env.store.load_ticket(&component()).await.unwrap().unwrap();
    assert_eq!(ticket.ticket.expose(), "ticket@@@from-wechatpy");
    // The same push again (WeChat retries) is still `success` and changes nothing.
    assert_eq!(body_text(&post_push(&env, &push).await), "success");
}

#[tokio::test]
async fn events_exchange_authorized_and_updateauthorized_pushes_and_revoke_on_unauthorized() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let fields = [
        ("AuthorizerAppid", SEED_APPID),
        ("AuthorizationCode", "queryauthcode@@@push"),
        ("AuthorizationCodeExpiredTime", "4102444800"),
        ("PreAuthCode", "preauthcode@@@x"),
    ];
    let resp = post_push(
        &env,
        &seal_with_wechatpy(&push_xml("authorized", &fields), COMPONENT),
    )
    .await;
    assert_eq!(body_text(&resp), "success");
    let stored = env
        .store
        .load_authorizer(&component(), &seed_app())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.record.permission_ids,
        vec![PermissionId(1), PermissionId(2), PermissionId(3)]
    );

    env.stub.script(
        "api_query_auth",
        [Reply::json(json!({"authorization_info": {
        "authorizer_appid": SEED_APPID, "authorizer_access_token": "a2", "expires_in": 7200,
        "authorizer_refresh_token": "r2", "func_info": [{"funcscope_category": {"id": 1}}]}}))],
    );
    let resp = post_push(
        &env,
        &seal_with_wechatpy(&push_xml("updateauthorized", &fields), COMPONENT),
    )
    .await;
    assert_eq!(body_text(&resp), "success");
    let stored = env
        .store
        .load_authorizer(&component(), &seed_app())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.record.permission_ids, vec![PermissionId(1)]);
    let kinds: Vec<_> = env
        .store
        .history(&component(), &seed_app())
        .await
        .unwrap()
        .iter()
        .map(|h| h.kind)
        .collect();
    assert_eq!(
        kinds.last(),
        Some(&wxopen_models::records::HistoryKind::PermissionsChanged)
    );

    // The pushed code was already used by the redirect: nothing to do, still `success`.
    env.stub.script("api_query_auth", [Reply::errcode(61009)]);
    assert_eq!(
        body_text(
            &post_push(
                &env,
                &seal_with_wechatpy(&push_xml("authorized", &fields), COMPONENT)
            )
            .await
        ),
        "success"
    );

    let resp = post_push(
        &env,
        &seal_with_wechatpy(
            &push_xml("unauthorized", &[("AuthorizerAppid", SEED_APPID)]),
            COMPONENT,
        ),
    )
    .await;
    assert_eq!(body_text(&resp), "success");
    let stored = env
        .store
        .load_authorizer(&component(), &seed_app())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.record.status, AuthorizerStatus::Revoked);
}

#[tokio::test]
async fn events_ignore_valid_pushes_of_other_kinds_with_success() {
    let env = TestEnv::new().await;
    let resp = post_push(
        &env,
        &seal_with_wechatpy(
            &push_xml("notify_third_fasteregister", &[("status", "0")]),
            COMPONENT,
        ),
    )
    .await;
    assert_eq!(
        (resp.status().as_u16(), body_text(&resp)),
        (200, "success".to_owned())
    );
}

#[tokio::test]
async fn events_refuse_bad_signatures_with_401_and_store_nothing() {
    let env = TestEnv::new().await;
    let mut push = seal_with_wechatpy(
        &push_xml(
            "component_verify_ticket",
            &[("ComponentVerifyTicket", "forged")],
        ),
        COMPONENT,
    );
    push.query
        .iter_mut()
        .find(|(k, _)| k == "msg_signature")
        .unwrap()
        .1 = "0".repeat(40);
    let resp = post_push(&env, &push).await;
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (401, json!("bad_signature"))
    );
    push.query.retain(|(k, _)| k != "msg_signature");
    assert_eq!(post_push(&env, &push).await.status(), 401);
    assert_eq!(env.store.load_ticket(&component()).await.unwrap(), None);
}

#[tokio::test]
async fn events_refuse_malformed_oversized_and_foreign_pushes() {
    let env = TestEnv::new().await;
    let good = seal_with_wechatpy(
        &push_xml("component_verify_ticket", &[("ComponentVerifyTicket", "t")]),
        COMPONENT,
    );
    let resp = events::handler::handle(
        &env.platform,
        http_event(
            "POST",
            "/wechat/events",
            &good.query(),
            &[],
            Some("<xml><AppId>x</AppId>"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (400, json!("malformed_push"))
    );

    let huge = format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(70 * 1024));
    let resp = events::handler::handle(
        &env.platform,
        http_event("POST", "/wechat/events", &good.query(), &[], Some(&huge)),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (413, json!("body_too_large"))
    );

    let foreign = seal_with_wechatpy(
        &push_xml("component_verify_ticket", &[("ComponentVerifyTicket", "t")]),
        "wx_other_platform",
    );
    let resp = post_push(&env, &foreign).await;
    assert_eq!(
        (
            resp.status().as_u16(),
            body_json(&resp)["error"]["code"].clone()
        ),
        (403, json!("wrong_component"))
    );

    let mut plain = good;
    plain
        .query
        .iter_mut()
        .find(|(k, _)| k == "encrypt_type")
        .unwrap()
        .1 = "raw".into();
    assert_eq!(post_push(&env, &plain).await.status(), 400);
    assert_eq!(env.store.load_ticket(&component()).await.unwrap(), None);
}

// ---------- refresher ----------

#[tokio::test]
async fn refresher_renews_the_component_token_only_under_twenty_minutes() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let set_token = |left: i64| {
        let env = &env;
        async move {
            let now = now_ms();
            env.store
                .lease_component_token(&component(), "seed", now, now + 1000)
                .await
                .unwrap();
            let t = CachedToken {
                token: AccessToken::new(format!("component-token-left-{left}")),
                expires_at: now_secs() + left,
            };
            assert!(env
                .store
                .store_component_token(&component(), "seed", &t)
                .await
                .unwrap());
        }
    };
    set_token(3600).await;
    let report = refresher::handler::handle(&env.platform, json!({"source": "aws.events"}))
        .await
        .unwrap();
    assert!(!report.component_token_refreshed);
    assert_eq!(env.stub.calls("api_component_token"), 0);

    set_token(15 * 60).await;
    let fresh = TestEnv::on(
        env.table.clone(),
        integration_tests::wechat_stub::StubWeChat::start().await,
        &[],
    )
    .await;
    let report = refresher::handler::handle(&fresh.platform, json!({}))
        .await
        .unwrap();
    assert!(report.component_token_refreshed);
    assert_eq!(fresh.stub.calls("api_component_token"), 1);
    assert!(report.component_token_expires_at > now_secs() + 7000);
}

#[tokio::test]
async fn refresher_reconciles_authorizers_in_pages_of_500() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    store_authorizer(&env, "wxhealthy").await;
    store_authorizer(&env, "wxrefused").await;
    env.store
        .mark_needs_reauth(
            &component(),
            &AuthorizerAppid::parse("wxrefused").unwrap(),
            &RefreshToken::new("refresh-of-wxrefused"),
            now_ms(),
        )
        .await
        .unwrap();
    let mut first: Vec<serde_json::Value> = (0..498).map(|i| json!({"authorizer_appid": format!("wxlisted{i:03}"), "refresh_token": format!("listed-refresh-{i}"), "auth_time": 1700000000})).collect();
    first.push(json!({"authorizer_appid": "wxhealthy", "refresh_token": "listed-healthy", "auth_time": 1700000000}));
    first.push(json!({"authorizer_appid": "wxrefused", "refresh_token": "listed-refused", "auth_time": now_secs()}));
    env.stub.script("api_get_authorizer_list", [
        Reply::json(json!({"total_count": 501, "list": first})),
        Reply::json(json!({"total_count": 501, "list": [{"authorizer_appid": "wxlast", "refresh_token": "listed-last", "auth_time": 1700000000}]})),
    ]);
    let report = refresher::handler::handle(&env.platform, json!({}))
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
        async move {
            env.store
                .load_authorizer(&component(), &a)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        get("wxhealthy").await.refresh_token.unwrap().expose(),
        "refresh-of-wxhealthy",
        "a usable refresh token is kept"
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

#[tokio::test]
async fn refresher_without_a_ticket_fails_with_ticket_missing() {
    let env = TestEnv::new().await;
    let err = refresher::handler::handle(&env.platform, json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.code, "ticket_missing");
}
