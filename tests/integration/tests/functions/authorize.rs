//! `authorize`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

/// A link minted by direct invocation, as the platform's back end asks for one.
async fn mint(env: &TestEnv, payload: serde_json::Value) -> serde_json::Value {
    let resp = authorize::handler::handle(&env.services.authorization, direct(payload))
        .await
        .unwrap();
    body_json(&resp)
}

#[tokio::test]
async fn a_minted_links_ext_reaches_the_stored_binding_its_history_event_and_the_info() {
    let env = TestEnv::with(&[("AUTH_SUCCESS_URL", "https://shop.example/connected")]).await;
    env.seed_ticket().await;
    let link = mint(
        &env,
        json!({"ext": "customer-42", "auth_type": 1, "mobile": true, "expires_in": 3600}),
    )
    .await;
    let url = link["url"].as_str().unwrap();
    // The customer opens it (the page's choices are pinned by authorize's own tests).
    let token = query_of(url)["link"].clone();
    let location = authorize_location(&env.services, &[("link", &token)]).await;
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
    let origin = integration_tests::bus::stream_origin(&env.table, COMPONENT);
    let notifier = wxopen::services::Notifier::new(std::sync::Arc::new(publisher.clone()), origin);
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
