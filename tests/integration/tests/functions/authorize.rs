//! `authorize`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

#[tokio::test]
async fn authorize_redirects_to_the_pc_authorization_page_with_a_signed_state() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let resp = get_authorize(&env.services, &[]).await;
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
async fn authorize_supports_mobile_auth_type_and_biz_appid() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let location = authorize_location(&env.services, &[("mobile", "1"), ("auth_type", "2")]).await;
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
            &authorize::handler::handle(&env.services.authorization, req)
                .await
                .unwrap(),
            "location",
        )
        .unwrap(),
    );
    assert_eq!(q["biz_appid"], SEED_APPID);
    assert!(!q.contains_key("auth_type"), "biz_appid excludes auth_type");
}

/// A link minted by direct invocation, as the platform's back end asks for one.
async fn mint(env: &TestEnv, payload: serde_json::Value) -> serde_json::Value {
    let resp = authorize::handler::handle(&env.services.authorization, direct(payload))
        .await
        .unwrap();
    body_json(&resp)
}

#[tokio::test]
async fn a_minted_link_opens_the_page_with_its_choices_and_carries_its_ext_to_the_callback() {
    let env = TestEnv::with(&[("AUTH_SUCCESS_URL", "https://shop.example/connected")]).await;
    env.seed_ticket().await;
    let link = mint(
        &env,
        json!({"ext": "customer-42", "auth_type": 1, "mobile": true, "expires_in": 3600}),
    )
    .await;
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://platform.example/wechat/authorize?link="),
        "{url}"
    );
    let expires_at = link["expires_at"].as_i64().unwrap();
    assert!((now_secs() + 3590..=now_secs() + 3600).contains(&expires_at));
    assert_eq!(
        env.stub.calls("api_create_preauthcode"),
        0,
        "minting calls no WeChat API"
    );
    // The customer opens it: the page has the link's choices, whatever the query adds.
    let token = query_of(url)["link"].clone();
    let location = authorize_location(&env.services, &[("link", &token), ("auth_type", "3")]).await;
    assert!(location.contains("/safe/bindcomponent?"), "{location}");
    assert_eq!(query_of(&location)["auth_type"], "1");
    // The callback stores the binding and signs the redirect.
    let state = query_of(&query_of(&location)["redirect_uri"])["state"].clone();
    let resp = get_callback(&env, &[("auth_code", "c1"), ("state", &state)], "*/*").await;
    assert_eq!(resp.status(), 302);
    let q = query_of(&header(&resp, "location").unwrap());
    assert_eq!(
        (q["authorizer_appid"].as_str(), q["ext"].as_str()),
        (SEED_APPID, "customer-42")
    );
    let key = wxopen_models::Secret::new(STATE_SECRET);
    assert!(wxopen::state::verify_success(
        &key,
        SEED_APPID,
        Some("customer-42"),
        q["expires_at"].parse().unwrap(),
        &q["signature"],
        now_secs()
    ));
    assert!(!wxopen::state::verify_success(
        &key,
        SEED_APPID,
        Some("customer-43"),
        q["expires_at"].parse().unwrap(),
        &q["signature"],
        now_secs()
    ));
    let stored = dynamo::stored(&env.store, &seed_app()).await;
    assert_eq!(stored.record.ext.as_deref(), Some("customer-42"));
    let history = env.store.history(&seed_app()).await.unwrap();
    assert_eq!(history[0].ext.as_deref(), Some("customer-42"));
    // The event of the authorization carries it.
    let records =
        integration_tests::bus::history_stream_records(&env.table, COMPONENT, SEED_APPID, 1).await;
    let publisher = wxopen::publish::MemoryPublisher::default();
    let notifier = wxopen::services::Notifier::new(std::sync::Arc::new(publisher.clone()));
    notifier::handler::handle(&notifier, json!({"Records": records}))
        .await
        .unwrap();
    let event = &publisher.published()[0];
    assert_eq!(event.detail_type, "Authorizer Authorized");
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap();
    assert_eq!(detail["ext"], "customer-42");
    // authorizer-info answers with it.
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": SEED_APPID, "snapshot": false})),
    )
    .await
    .unwrap();
    assert_eq!(body_json(&resp)["ext"], "customer-42");
}

#[tokio::test]
async fn an_unsigned_ext_is_a_400_with_no_wechat_call_and_a_bad_link_a_403() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let resp = get_authorize(&env.services, &[("ext", "customer-42")]).await;
    assert_eq!(error_of(&resp), (400, json!("unsigned_ext")));
    assert!(
        body_json(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invoke the authorize function directly"),
        "the fix is in the message"
    );
    let link = mint(&env, json!({"ext": "customer-42"})).await;
    let token = query_of(link["url"].as_str().unwrap())["link"].clone();
    let (payload, sig) = token.rsplit_once('.').unwrap();
    let signer = wxopen::state::StateSigner::new(wxopen_models::Secret::new(STATE_SECRET));
    let expired = signer.issue_link(&wxopen::state::LinkClaims {
        ext: "customer-42".into(),
        auth_type: None,
        biz_appid: None,
        mobile: false,
        expires_at: now_secs() - 1,
    });
    let forged = wxopen::state::StateSigner::new(wxopen_models::Secret::new(
        "another-secret-0123456789abcdefgh",
    ))
    .issue_link(&wxopen::state::LinkClaims {
        ext: "customer-43".into(),
        auth_type: None,
        biz_appid: None,
        mobile: false,
        expires_at: now_secs() + 600,
    });
    let altered = format!("{payload}x.{sig}");
    for (token, code) in [
        (expired.as_str(), "expired_link"),
        (forged.as_str(), "invalid_link"),
        (altered.as_str(), "invalid_link"),
        ("garbage", "invalid_link"),
    ] {
        let resp = get_authorize(&env.services, &[("link", token)]).await;
        assert_eq!(error_of(&resp), (403, json!(code)), "{token}");
    }
    assert_eq!(
        env.stub.calls("api_create_preauthcode"),
        0,
        "no WeChat API was called"
    );
    assert_eq!(env.stub.calls("api_component_token"), 0);
    // Minting needs an ext, and a lifetime within bounds.
    for payload in [
        json!({}),
        json!({"ext": "c", "expires_in": 99999999}),
        json!({"ext": "c", "expires_in": "soon"}),
    ] {
        let err = authorize::handler::handle(&env.services.authorization, direct(payload.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.status, 400, "{payload}");
    }
}

#[tokio::test]
async fn authorize_refuses_bad_parameters_and_reports_a_missing_ticket() {
    let env = TestEnv::new().await;
    for (name, value, code) in [
        ("auth_type", "5", "invalid_auth_type"),
        ("auth_type", "x", "invalid_auth_type"),
        ("biz_appid", "wx bad", "invalid_biz_appid"),
    ] {
        let resp = get_authorize(&env.services, &[(name, value)]).await;
        assert_eq!(resp.status(), 400, "{name}={value}");
        assert_eq!(body_json(&resp)["error"]["code"], code);
    }
    let long_ext = "e".repeat(300);
    env.seed_ticket().await;
    let err = authorize::handler::handle(
        &env.services.authorization,
        direct(json!({"ext": long_ext})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (400, "invalid_ext"));

    let env = TestEnv::new().await;
    let resp = get_authorize(&env.services, &[]).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(body_json(&resp)["error"]["code"], "ticket_missing");
    assert_eq!(env.stub.calls("api_create_preauthcode"), 0);
}
