//! `events`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

/// A push of `info_type` with `fields`, sealed by wechatpy; the text of the answer.
async fn push_of(env: &TestEnv, info_type: &str, fields: &[(&str, &str)]) -> String {
    let push = seal_with_wechatpy(&push_xml(info_type, fields), COMPONENT);
    body_text(&post_push(&env.services, &push).await)
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
    let resp = post_push(&env.services, &push).await;
    assert_eq!(
        (resp.status().as_u16(), body_text(&resp)),
        (200, "success".to_owned())
    );
    let ticket = env.store.load_ticket().await.unwrap().unwrap();
    assert_eq!(ticket.ticket.expose(), "ticket@@@from-wechatpy");
    // The same push again (WeChat retries) is still `success` and changes nothing.
    assert_eq!(body_text(&post_push(&env.services, &push).await), "success");
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
    assert_eq!(push_of(&env, "authorized", &fields).await, "success");
    let stored = dynamo::stored(&env.store, &seed_app()).await;
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
    assert_eq!(push_of(&env, "updateauthorized", &fields).await, "success");
    let stored = dynamo::stored(&env.store, &seed_app()).await;
    assert_eq!(stored.record.permission_ids, vec![PermissionId(1)]);
    let kinds: Vec<_> = env
        .store
        .history(&seed_app())
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
    assert_eq!(push_of(&env, "authorized", &fields).await, "success");

    assert_eq!(
        push_of(&env, "unauthorized", &[("AuthorizerAppid", SEED_APPID)]).await,
        "success"
    );
    let stored = dynamo::stored(&env.store, &seed_app()).await;
    assert_eq!(stored.record.status, AuthorizerStatus::Revoked);
}

#[tokio::test]
async fn events_ignore_valid_pushes_of_other_kinds_with_success() {
    let env = TestEnv::new().await;
    let resp = post_push(
        &env.services,
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
    let resp = post_push(&env.services, &push).await;
    assert_eq!(error_of(&resp), (401, json!("bad_signature")));
    push.query.retain(|(k, _)| k != "msg_signature");
    assert_eq!(post_push(&env.services, &push).await.status(), 401);
    assert_eq!(env.store.load_ticket().await.unwrap(), None);
}

#[tokio::test]
async fn events_refuse_malformed_oversized_and_foreign_pushes() {
    let env = TestEnv::new().await;
    let good = seal_with_wechatpy(
        &push_xml("component_verify_ticket", &[("ComponentVerifyTicket", "t")]),
        COMPONENT,
    );
    let resp = events::handler::handle(
        &env.services.pushes,
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
    assert_eq!(error_of(&resp), (400, json!("malformed_push")));

    let huge = format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(70 * 1024));
    let resp = events::handler::handle(
        &env.services.pushes,
        http_event("POST", "/wechat/events", &good.query(), &[], Some(&huge)),
    )
    .await
    .unwrap();
    assert_eq!(error_of(&resp), (413, json!("body_too_large")));

    let foreign = seal_with_wechatpy(
        &push_xml("component_verify_ticket", &[("ComponentVerifyTicket", "t")]),
        "wx_other_platform",
    );
    let resp = post_push(&env.services, &foreign).await;
    assert_eq!(error_of(&resp), (403, json!("wrong_component")));

    let mut plain = good;
    plain
        .query
        .iter_mut()
        .find(|(k, _)| k == "encrypt_type")
        .unwrap()
        .1 = "raw".into();
    assert_eq!(post_push(&env.services, &plain).await.status(), 400);
    assert_eq!(env.store.load_ticket().await.unwrap(), None);
}
