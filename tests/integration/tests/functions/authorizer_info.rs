//! `authorizer-info`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

#[tokio::test]
async fn info_merges_live_wechat_info_with_the_stored_record_and_saves_a_snapshot() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    store_authorizer(&env, SEED_APPID).await;
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
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
        json!({"id": 15, "name": "Custom menu", "name_zh": "自定义菜单权限"})
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
    assert!(dynamo::stored(&env.store, &seed_app()).await.info.is_some());

    // Within max_age the snapshot answers, without WeChat.
    let calls = env.stub.calls("api_get_authorizer_info");
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": SEED_APPID, "max_age_seconds": 300})),
    )
    .await
    .unwrap();
    assert_eq!(body_json(&resp)["info_source"], "snapshot");
    assert_eq!(env.stub.calls("api_get_authorizer_info"), calls);
    // max_age 0 always asks WeChat.
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
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
        &authorizer_info::handler::handle(&env.services.authorizers, req)
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
        &env.services.authorizers,
        http_event_with_path_param("/authorizers/wxnobody", "wxnobody", &[]),
    )
    .await
    .unwrap();
    assert_eq!(error_of(&resp), (404, json!("unknown_authorizer")));
    store_authorizer(&env, "wxrevoked").await;
    env.store
        .revoke_authorizer(
            &AuthorizerAppid::parse("wxrevoked").unwrap(),
            Timestamp::now().plus(Duration::from_secs(5)),
            Timestamp::now(),
        )
        .await
        .unwrap();
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
        http_event_with_path_param("/authorizers/wxrevoked", "wxrevoked", &[]),
    )
    .await
    .unwrap();
    assert_eq!(error_of(&resp), (409, json!("authorizer_revoked")));
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
        http_event_with_path_param("/authorizers/wx1", "wx1", &[("max_age_seconds", "soon")]),
    )
    .await
    .unwrap();
    assert_eq!(error_of(&resp), (400, json!("invalid_max_age_seconds")));
    let err = authorizer_info::handler::handle(
        &env.services.authorizers,
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
                &env.services.authorizers,
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
        &authorizer_info::handler::handle(&env.services.authorizers, direct(json!({"limit": 10})))
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
            &env.services.authorizers,
            http_event("GET", "/authorizers", &[q], &[], None),
        )
        .await
        .unwrap();
        assert_eq!(error_of(&resp), (400, json!(code)));
    }
}

#[tokio::test]
async fn a_cursor_the_service_did_not_issue_is_a_400_naming_it() {
    let env = TestEnv::new().await;
    store_authorizer(&env, "wxlisted1").await;
    for cursor in ["wxneverissued", "wxlisted0"] {
        let resp = authorizer_info::handler::handle(
            &env.services.authorizers,
            http_event("GET", "/authorizers", &[("cursor", cursor)], &[], None),
        )
        .await
        .unwrap();
        assert_eq!(error_of(&resp), (400, json!("invalid_cursor")), "{cursor}");
        let message = body_json(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(cursor) && message.contains("next_cursor"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_store_failure_is_one_sentence_saying_what_to_do() {
    let env = TestEnv::with(&[("TABLE_NAME", "wxopen-no-such-table")]).await;
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
        http_event("GET", "/authorizers/wxanyone", &[], &[], None),
    )
    .await
    .unwrap();
    assert_eq!(error_of(&resp), (503, json!("store_unavailable")));
    let message = body_json(&resp)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "DynamoDB could not read an authorizer (ResourceNotFoundException): check TABLE_NAME, \
         the function's IAM permissions and the region, then retry"
    );
}
