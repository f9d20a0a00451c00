//! `callback`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

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
    let resp = callback::handler::handle(&env.services.authorization, req)
        .await
        .unwrap();
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
    let stored = dynamo::stored(&env.store, &seed_app()).await;
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
async fn callback_redirects_to_the_success_url_with_the_appid_and_ext_signed() {
    let env = TestEnv::with(&[
        ("AUTH_SUCCESS_URL", "https://console.example/done?tab=1"),
        ("AUTH_SUCCESS_SIGNING_KEY", "the-platforms-success-key"),
    ])
    .await;
    env.seed_ticket().await;
    let link = authorize::handler::handle(
        &env.services.authorization,
        direct(json!({"ext": "tenant-42"})),
    )
    .await
    .unwrap();
    let token = query_of(body_json(&link)["url"].as_str().unwrap())["link"].clone();
    let location = authorize_location(&env.services, &[("link", &token)]).await;
    let state = query_of(&query_of(&location)["redirect_uri"])["state"].clone();
    let req = http_event(
        "GET",
        "/wechat/callback",
        &[("auth_code", "c1"), ("state", &state)],
        &[],
        None,
    );
    let resp = callback::handler::handle(&env.services.authorization, req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let q = query_of(&header(&resp, "location").unwrap());
    assert_eq!(q["tab"], "1");
    assert_eq!(q["authorizer_appid"], SEED_APPID);
    assert_eq!(q["ext"], "tenant-42");
    let expires_at: i64 = q["expires_at"].parse().unwrap();
    assert!(expires_at > now_secs());
    let key = wxopen_models::Secret::new("the-platforms-success-key");
    assert!(wxopen::state::verify_success(
        &key,
        SEED_APPID,
        Some("tenant-42"),
        expires_at,
        &q["signature"],
        now_secs()
    ));
    // The documented check, as the README shows it in Python: hex HMAC-SHA256 of three lines.
    assert_eq!(
        q["signature"],
        wxopen::state::success_signature(&key, SEED_APPID, Some("tenant-42"), expires_at)
    );
    // The README's Python check accepts it, and refuses a changed account or customer.
    assert!(success_verified_by_python(&q, "the-platforms-success-key"));
    for (name, value) in [("authorizer_appid", "wxsomeoneelse"), ("ext", "tenant-43")] {
        let mut altered = q.clone();
        altered.insert(name.into(), value.into());
        assert!(
            !success_verified_by_python(&altered, "the-platforms-success-key"),
            "{name}"
        );
    }
    let mut unsigned = q.clone();
    unsigned.remove("signature");
    assert!(!success_verified_by_python(
        &unsigned,
        "the-platforms-success-key"
    ));
    // Signed with the success key, not the state key.
    let state_key = wxopen_models::Secret::new(STATE_SECRET);
    assert!(!wxopen::state::verify_success(
        &state_key,
        SEED_APPID,
        Some("tenant-42"),
        expires_at,
        &q["signature"],
        now_secs()
    ));
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
        let resp = get_callback(&env, &q, "application/json").await;
        assert_eq!(resp.status(), 403, "{code}");
        assert_eq!(body_json(&resp)["error"]["code"], code);
        let page = get_callback(&env, &q, "text/html").await;
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
            get_callback(env, &q, "application/json").await
        }
    };
    let resp = call(vec![("state", state.clone())]).await;
    assert_eq!(error_of(&resp), (400, json!("missing_auth_code")));

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
    assert_eq!(error_of(&resp), (502, json!("wechat_http_error")));

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
    let resp = callback::handler::handle(&env.services.authorization, req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        header(&resp, "content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let page = body_text(&resp);
    assert!(page.contains("has expired"), "{page}");
    assert!(page.contains("start the authorization again"), "{page}");
}

#[tokio::test]
async fn an_administrator_whose_browser_prefers_chinese_reads_the_pages_in_chinese() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let state = authorize_state(&env).await;
    let headers = [
        ("accept", "text/html,application/xhtml+xml"),
        ("accept-language", "zh-CN,zh;q=0.9,en;q=0.8"),
    ];
    let req = http_event(
        "GET",
        "/wechat/callback",
        &[("auth_code", "queryauthcode@@@1"), ("state", &state)],
        &headers,
        None,
    );
    let resp = callback::handler::handle(&env.services.authorization, req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page = body_text(&resp);
    assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
    assert!(page.contains("授权成功"), "{page}");
    assert!(page.contains("公众号"), "the account's type: {page}");
    assert!(page.contains("WeixinSDK Demo Special"), "its name: {page}");
    for name in ["消息管理权限", "用户管理权限", "帐号服务权限"] {
        assert!(page.contains(name), "{name} in {page}");
    }
    assert!(!page.contains("Message management"), "{page}");

    // A failure too: the advice in Chinese, the code as it is.
    let req = http_event(
        "GET",
        "/wechat/callback",
        &[("auth_code", "queryauthcode@@@2"), ("state", "forged")],
        &headers,
        None,
    );
    let resp = callback::handler::handle(&env.services.authorization, req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let page = body_text(&resp);
    assert!(
        page.contains("授权失败") && page.contains("重新发起授权"),
        "{page}"
    );
    assert!(page.contains("invalid_state"), "{page}");
}
