//! The whole flow as one story: ticket push, authorize, callback, info, token, revocation.

use integration_tests::functions::*;
use serde_json::json;

#[tokio::test]
async fn the_whole_authorization_flow_from_ticket_to_revocation() {
    let env = TestEnv::new().await;
    let appid = "wxf8b4f85f3a794e77";

    // 1. WeChat pushes a ticket (sealed by wechatpy).
    let push = seal_with_wechatpy(
        &push_xml(
            "component_verify_ticket",
            &[("ComponentVerifyTicket", "ticket@@@flow")],
        ),
        COMPONENT,
    );
    let resp = post_push(&env.services, &push).await;
    assert_eq!(body_text(&resp), "success");

    // 2. An administrator opens the authorize link.
    let resp = get_authorize(&env.services, &[]).await;
    assert_eq!(resp.status(), 302);
    let page = url::Url::parse(&header(&resp, "location").unwrap()).unwrap();
    let redirect_uri = page
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    let state = url::Url::parse(&redirect_uri)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let token_request = env
        .stub
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "api_component_token")
        .unwrap();
    assert_eq!(
        token_request.body["component_verify_ticket"], "ticket@@@flow",
        "the pushed ticket is used"
    );

    // 3. WeChat sends the browser back with an auth_code.
    let req = http_event(
        "GET",
        "/wechat/callback",
        &[
            ("auth_code", "queryauthcode@@@flow"),
            ("expires_in", "600"),
            ("state", &state),
        ],
        &[("accept", "text/html")],
        None,
    );
    let resp = callback::handler::handle(&env.services.authorization, req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(body_text(&resp).contains(appid));

    // 4. Another service asks for the authorizer's info.
    let resp = authorizer_info::handler::handle(
        &env.services.authorizers,
        http_event_with_path_param(&format!("/authorizers/{appid}"), appid, &[]),
    )
    .await
    .unwrap();
    let info = body_json(&resp);
    assert_eq!(
        (info["status"].clone(), info["permission_ids"].clone()),
        (json!("authorized"), json!([1, 2, 3]))
    );

    // 5. And for a token: the one from the exchange is still valid, so WeChat is not asked.
    let resp = authorizer_token::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": appid})),
    )
    .await
    .unwrap();
    let token = body_json(&resp);
    assert!(token["authorizer_access_token"]
        .as_str()
        .unwrap()
        .starts_with("QXjUqNqf"));
    assert_eq!(env.stub.calls("api_authorizer_token"), 0);

    // 6. The account revokes.
    let push = seal_with_wechatpy(
        &push_xml("unauthorized", &[("AuthorizerAppid", appid)]),
        COMPONENT,
    );
    let resp = post_push(&env.services, &push).await;
    assert_eq!(body_text(&resp), "success");

    // 7. A new container (no memory cache) is refused a token: 409.
    let second = TestEnv::on(
        env.table.clone(),
        integration_tests::wechat_stub::StubWeChat::start().await,
        &[],
    )
    .await;
    let err = authorizer_token::handler::handle(
        &second.services.authorizers,
        direct(json!({"authorizer_appid": appid})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (409, "authorizer_revoked"));
    // So is the container that handled the revocation, though its memory held the token.
    let err = authorizer_token::handler::handle(
        &env.services.authorizers,
        direct(json!({"authorizer_appid": appid})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (409, "authorizer_revoked"));

    // Nothing secret was logged along the way, by this code or the SDKs beneath it.
    let logs = integration_tests::logs::captured();
    assert!(logs.contains("authorization stored"), "the capture works");
    for secret in [
        APPSECRET,
        MSG_TOKEN,
        STATE_SECRET,
        "ticket@@@flow",
        "queryauthcode@@@flow",
        "preauthcode@@@",
        "QXjUqNqf",
        "dTo-YCXPL4llX",
        "component-token-",
        state.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
}
