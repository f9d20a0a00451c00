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
async fn authorize_supports_mobile_auth_type_biz_appid_and_ext() {
    let env = TestEnv::new().await;
    env.seed_ticket().await;
    let location = authorize_location(
        &env.services,
        &[("mobile", "1"), ("auth_type", "2"), ("ext", "tenant-42")],
    )
    .await;
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

    let resp =
        authorize::handler::handle(&env.services.authorization, direct(json!({"auth_type": 1})))
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
        let resp = get_authorize(&env.services, &[(name, value)]).await;
        assert_eq!(resp.status(), 400, "{name}={value}");
        assert_eq!(body_json(&resp)["error"]["code"], code);
    }
    let long_ext = "e".repeat(300);
    env.seed_ticket().await;
    let resp = get_authorize(&env.services, &[("ext", &long_ext)]).await;
    assert_eq!(error_of(&resp), (400, json!("invalid_ext")));

    let env = TestEnv::new().await;
    let resp = get_authorize(&env.services, &[]).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(body_json(&resp)["error"]["code"], "ticket_missing");
    assert_eq!(env.stub.calls("api_create_preauthcode"), 0);
}
