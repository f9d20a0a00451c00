//! `callback`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

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
async fn callback_failures_of_wechats_http_and_of_dynamodb_have_their_status() {
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
