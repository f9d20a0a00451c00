//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use serde_json::{json, Value};
use wxopen_lambda::testing::*;

async fn invoke(p: &Platform, payload: Value) -> Result<Value, wxopen_lambda::ApiError> {
    let resp = handle(&p.core.component_calls(), direct(payload)).await?;
    Ok(body_json(&resp))
}

#[tokio::test]
async fn a_path_is_called_with_the_component_token() {
    let p = Platform::new().with_ticket().await;
    let answer = invoke(
        &p,
        json!({"path": "/cgi-bin/component/api_get_authorizer_option"}),
    )
    .await
    .unwrap();
    assert_eq!(answer["body"]["token"], "component_access_token");
    let token = answer["body"]["sent_with"].as_str().unwrap();
    assert!(token.starts_with("ct-"), "{token}");
    assert_eq!(p.wechat.count("api_component_token"), 1);
}

#[tokio::test]
async fn oauth_url_is_built_without_calling_wechat() {
    let p = Platform::new().with_ticket().await;
    let answer = invoke(
        &p,
        json!({"op": "oauth_url", "appid": SEED_APPID, "redirect_uri": "https://shop.example/back",
               "scope": "snsapi_base", "state": "s1"}),
    )
    .await
    .unwrap();
    let url = answer["url"].as_str().unwrap();
    let q = query_of(url);
    assert_eq!(q["appid"], SEED_APPID);
    assert_eq!(q["component_appid"], COMPONENT);
    assert_eq!(q["redirect_uri"], "https://shop.example/back");
    assert_eq!(
        (q["scope"].as_str(), q["state"].as_str()),
        ("snsapi_base", "s1")
    );
    assert_eq!(p.wechat.total(), 0);
}

#[tokio::test]
async fn clear_quota_asks_wechat_once_for_the_platform_or_an_account() {
    let p = Platform::new().with_ticket().await;
    let answer = invoke(&p, json!({"op": "clear_quota"})).await.unwrap();
    assert_eq!(answer["errcode"], 0);
    invoke(&p, json!({"op": "clear_quota", "appid": SEED_APPID}))
        .await
        .unwrap();
    let resets = p.wechat.quota_resets.lock().unwrap().clone();
    assert_eq!(resets.len(), 2);
    assert_eq!(p.wechat.count("clear_quota/v2"), 2);
}

#[tokio::test]
async fn bad_operations_are_named_errors_and_send_nothing() {
    let p = Platform::new().with_ticket().await;
    for (payload, code) in [
        (json!({"op": "everything"}), "invalid_op"),
        (
            json!({"path": "/cgi-bin/component/x", "query": {"component_access_token": "mine"}}),
            "token_in_request",
        ),
        (
            json!({"op": "jscode2session", "appid": SEED_APPID}),
            "missing_js_code",
        ),
        (
            json!({"op": "jscode2session", "js_code": "c"}),
            "missing_appid",
        ),
        (
            json!({"op": "oauth_exchange", "appid": SEED_APPID}),
            "missing_code",
        ),
        (
            json!({"op": "oauth_url", "appid": SEED_APPID, "redirect_uri": "ftp://x", "scope": "s"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"op": "set_option", "authorizer_appid": SEED_APPID, "option_name": "voice_recognize"}),
            "missing_option_value",
        ),
        (
            json!({"op": "clear_quota", "appid": "bad appid!"}),
            "invalid_appid",
        ),
    ] {
        let err = invoke(&p, payload.clone()).await.unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (400, code), "{payload}");
    }
    let err = invoke(&p, json!({"op": "everything"})).await.unwrap_err();
    assert!(err.message.contains("jscode2session"), "{}", err.message);
    let req = http_event("POST", "/component-api", &[], &[], Some("{}"));
    let resp = handle(&p.core.component_calls(), req).await.unwrap();
    assert_eq!(resp.status(), 404, "not served over HTTP");
    assert_eq!(p.wechat.total(), 0);
}

#[tokio::test]
async fn credential_endpoints_are_403_with_nothing_sent_and_tokens_never_come_back() {
    let p = Platform::new().with_ticket().await;
    for path in [
        "/cgi-bin/component/api_get_authorizer_list",
        "/cgi-bin/component/api_query_auth",
        "/cgi-bin/component/api_component_token",
        "/cgi-bin/component/api_authorizer_token",
        "/cgi-bin/component/api_create_preauthcode",
        "/cgi-bin/component/clear_quota",
    ] {
        let err = invoke(&p, json!({"path": path, "body": {}}))
            .await
            .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (403, "credential_endpoint"),
            "{path}"
        );
    }
    assert_eq!(
        p.wechat.total(),
        0,
        "nothing sent, not even for the component token"
    );
    // An answer that carries a token anyway loses it on the way back (the fake echoes the body).
    let answer = invoke(
        &p,
        json!({"path": "/cgi-bin/component/getprivacysetting",
               "body": {"setting": {"owner_access_token": "leak", "kept": 1}}}),
    )
    .await
    .unwrap();
    assert_eq!(answer["body"]["echo"]["setting"], json!({"kept": 1}));
    assert_eq!(
        answer["body"]["path"],
        "/cgi-bin/component/getprivacysetting"
    );
}

#[tokio::test]
async fn login_and_oauth_for_a_revoked_or_unknown_account_are_refused_with_nothing_sent() {
    use wxopen::store::AuthorizerStore as _;
    let p = Platform::new().with_ticket().await;
    p.authorized("wxrevoked").await;
    let appid = wxopen_models::AuthorizerAppid::parse("wxrevoked").unwrap();
    let later = wxopen::clock::Timestamp::now().plus(std::time::Duration::from_secs(5));
    p.core
        .store
        .revoke_authorizer(&appid, later, wxopen::clock::Timestamp::now())
        .await
        .unwrap();
    for (appid, code) in [
        ("wxrevoked", "authorizer_revoked"),
        ("wxnobody", "unknown_authorizer"),
    ] {
        for payload in [
            json!({"op": "jscode2session", "appid": appid, "js_code": "c1"}),
            json!({"op": "oauth_exchange", "appid": appid, "code": "c1"}),
        ] {
            let err = invoke(&p, payload.clone()).await.unwrap_err();
            assert_eq!(err.code, code, "{payload}");
        }
    }
    assert_eq!(p.wechat.count("call_raw"), 0, "nothing reached WeChat");
}

fn acme(ext: &str) -> Value {
    json!({"op": "register_mini_program", "kind": "enterprise", "ext": ext, "name": "Acme Tea",
           "code": "91440300MA5EXAMPLE", "legal_persona_wechat": "acme_boss",
           "legal_persona_name": "Li Lei", "component_phone": "0755-12345678"})
}

fn wechat_answers_a_task(p: &Platform, taskid: &str) {
    p.wechat.script(
        "call_raw",
        [wxopen::testing::Reply::Json(
            json!({"errcode": 0, "errmsg": "ok",
            "taskid": taskid, "authorize_url": format!("https://wx.example/verify?task={taskid}")}),
        )],
    );
}

#[tokio::test]
async fn a_registration_is_stored_then_sent_once_with_the_new_version_flow() {
    let p = Platform::new().with_ticket().await;
    wechat_answers_a_task(&p, "task-1");
    let answer = invoke(&p, acme("customer-7")).await.unwrap();
    assert_eq!(answer["state"], "waiting");
    assert_eq!(answer["ext"], "customer-7");
    assert_eq!(
        answer["verification_url"],
        "https://wx.example/verify?task=task-1"
    );
    let expires_in = answer["expires_at"].as_i64().unwrap() - wxopen::clock::now_secs();
    assert!((86_390..=86_400).contains(&expires_in), "{expires_in}");
    let sent = p.wechat.raw_sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/wxa/component/fastregisterenterpriseweapp");
    assert_eq!(sent[0].token_param, "component_access_token");
    assert_eq!(
        sent[0].query,
        vec![("action".to_owned(), "create".to_owned())]
    );
    let body = sent[0].body.clone().unwrap();
    assert_eq!(body["new_version"], true);
    assert_eq!(
        (body["name"].as_str(), body["code"].as_str()),
        (Some("Acme Tea"), Some("91440300MA5EXAMPLE"))
    );
    assert!(
        body.get("ext").is_none() && body.get("kind").is_none() && body.get("op").is_none(),
        "{body}"
    );

    // Asked again (a retried invocation): the same registration, nothing sent.
    let again = invoke(&p, acme("customer-7")).await.unwrap();
    assert_eq!(again["registration_id"], answer["registration_id"]);
    assert_eq!(p.wechat.count("call_raw"), 1);
    let status = invoke(
        &p,
        json!({"op": "registration", "registration_id": answer["registration_id"]}),
    )
    .await
    .unwrap();
    assert_eq!(status, answer);
}

#[tokio::test]
async fn a_beta_registration_sends_the_component_token_as_access_token() {
    let p = Platform::new().with_ticket().await;
    p.wechat.script(
        "call_raw",
        [wxopen::testing::Reply::Json(
            json!({"errcode": 0, "unique_id": "u-1", "authorize_url": "https://wx.example/beta"}),
        )],
    );
    let answer = invoke(
        &p,
        json!({"op": "register_mini_program", "kind": "beta", "ext": "customer-9", "name": "Tea Trial", "openid": "o-fan"}),
    )
    .await
    .unwrap();
    assert_eq!(
        (answer["kind"].as_str(), answer["state"].as_str()),
        (Some("beta"), Some("waiting"))
    );
    let sent = p.wechat.raw_sent.lock().unwrap().clone();
    assert_eq!(sent[0].path, "/wxa/component/fastregisterbetaweapp");
    assert_eq!(sent[0].token_param, "access_token");
    assert_eq!(
        sent[0].body,
        Some(json!({"name": "Tea Trial", "openid": "o-fan"}))
    );
}

#[tokio::test]
async fn a_registration_wechat_refuses_fails_and_frees_its_details_for_another_try() {
    let p = Platform::new().with_ticket().await;
    p.wechat
        .script("call_raw", [wxopen::testing::Reply::Errcode(89249)]);
    let err = invoke(&p, acme("customer-7")).await.unwrap_err();
    assert_eq!(err.status, 502);
    assert_eq!(err.wechat_errcode, Some(89249));
    wechat_answers_a_task(&p, "task-2");
    let retried = invoke(&p, acme("customer-7")).await.unwrap();
    assert_eq!(
        retried["verification_url"],
        "https://wx.example/verify?task=task-2"
    );
    assert_eq!(p.wechat.count("call_raw"), 2);
}

#[tokio::test]
async fn hostile_registrations_are_refused_by_name_with_nothing_stored_or_sent() {
    let p = Platform::new().with_ticket().await;
    let cases = [
        (
            json!({"op": "register_mini_program", "kind": "beta", "name": "T", "openid": "o"}),
            "missing_ext",
        ),
        (
            json!({"op": "register_mini_program", "kind": "beta", "ext": 7, "name": "T", "openid": "o"}),
            "invalid_ext",
        ),
        (
            json!({"op": "register_mini_program", "kind": "franchise", "ext": "c"}),
            "invalid_kind",
        ),
        (
            json!({"op": "register_mini_program", "ext": "c"}),
            "missing_kind",
        ),
        (
            json!({"op": "register_mini_program", "kind": "beta", "ext": "c", "name": "T"}),
            "invalid_registration",
        ),
        (
            json!({"op": "register_mini_program", "kind": "enterprise", "ext": "c", "name": "Acme",
                "code": "123", "component_phone": "1"}),
            "invalid_registration",
        ),
        (
            json!({"op": "register_mini_program", "kind": "beta", "ext": "c".repeat(300), "name": "T", "openid": "o"}),
            "invalid_ext",
        ),
        (
            json!({"op": "registration", "registration_id": "reg-nobody"}),
            "unknown_registration",
        ),
        (
            json!({"path": "/wxa/component/fastregisterbetaweapp", "body": {"name": "T", "openid": "o"}}),
            "registration_endpoint",
        ),
    ];
    for (payload, code) in cases {
        let err = invoke(&p, payload.clone()).await.unwrap_err();
        assert_eq!(err.code, code, "{payload}");
    }
    assert_eq!(p.wechat.count("call_raw"), 0);
    assert!(p.wechat.raw_sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_registration_nobody_completes_expires_after_wechats_24_hours_and_frees_its_details() {
    let p = Platform::new().with_ticket().await;
    wechat_answers_a_task(&p, "task-1");
    let answer = invoke(&p, acme("customer-7")).await.unwrap();
    let id = answer["registration_id"].clone();
    p.clock.advance(std::time::Duration::from_secs(23 * 3600));
    let waiting = invoke(&p, json!({"op": "registration", "registration_id": id})).await;
    assert_eq!(waiting.unwrap()["state"], "waiting");
    p.clock.advance(std::time::Duration::from_secs(3600));
    let expired = invoke(&p, json!({"op": "registration", "registration_id": id})).await;
    assert_eq!(expired.unwrap()["state"], "expired");
    // The same details may be registered again: WeChat is asked once more.
    wechat_answers_a_task(&p, "task-2");
    let again = invoke(&p, acme("customer-7")).await.unwrap();
    assert_ne!(again["registration_id"], id);
    assert_eq!(p.wechat.count("call_raw"), 2);
}

#[tokio::test]
async fn the_template_library_is_called_with_the_component_token_as_access_token() {
    let p = Platform::new().with_ticket().await;
    let ok =
        || wxopen::testing::Reply::Json(json!({"errcode": 0, "errmsg": "ok", "template_list": []}));
    p.wechat.script("call_raw", [ok(), ok(), ok(), ok()]);
    for payload in [
        json!({"op": "gettemplatedraftlist"}),
        json!({"op": "addtotemplate", "draft_id": 3}),
        json!({"op": "gettemplatelist", "template_type": 0}),
        json!({"op": "deletetemplate", "template_id": "7"}),
    ] {
        invoke(&p, payload).await.unwrap();
    }
    let sent = p.wechat.raw_sent.lock().unwrap().clone();
    let paths: Vec<&str> = sent.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/wxa/gettemplatedraftlist",
            "/wxa/addtotemplate",
            "/wxa/gettemplatelist",
            "/wxa/deletetemplate"
        ]
    );
    assert!(sent.iter().all(|s| s.token_param == "access_token"));
    assert_eq!(
        sent[1].body,
        Some(json!({"draft_id": 3, "template_type": 0}))
    );
    assert_eq!(
        sent[2].query,
        vec![("template_type".to_owned(), "0".to_owned())]
    );
    assert_eq!(sent[3].body, Some(json!({"template_id": 7})));
    // WeChat's refusal is the error contract's 502 with its errcode; bad input sends nothing.
    p.wechat
        .script("call_raw", [wxopen::testing::Reply::Errcode(85065)]);
    let full = invoke(&p, json!({"op": "addtotemplate", "draft_id": 3}))
        .await
        .unwrap_err();
    assert_eq!((full.status, full.wechat_errcode), (502, Some(85065)));
    for (payload, code) in [
        (json!({"op": "addtotemplate"}), "missing_draft_id"),
        (
            json!({"op": "deletetemplate", "template_id": "seven"}),
            "invalid_template_id",
        ),
        (
            json!({"op": "gettemplatelist", "template_type": 4}),
            "invalid_template_type",
        ),
    ] {
        assert_eq!(invoke(&p, payload).await.unwrap_err().code, code);
    }
    assert_eq!(p.wechat.count("call_raw"), 5);
}
