//! `authorizer-api` across containers, against the simulator and DynamoDB Local: when WeChat
//! refuses the token every caller holds, exactly one refresh happens across all of them.

use integration_tests::dynamo;
use integration_tests::functions::*;
use serde_json::{json, Value};
use wechat_sim::accounts::OFFICIAL_ACCOUNT_APPID;
use wxopen::store::TicketStore;
use wxopen_models::VerifyTicket;

async fn invoke(services: &Services, payload: Value) -> Value {
    let resp = authorizer_api::handler::handle(&services.authorizer_calls, direct(payload))
        .await
        .expect("an answer");
    body_json(&resp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_calls_that_all_meet_a_refused_token_cause_exactly_one_refresh() {
    integration_tests::logs::capture();
    let sim = start_simulator().await;
    let table = dynamo::create_table(&dynamo::client().await).await;
    sim.state.lock().unwrap().latest_ticket = Some("ticket@@@api".into());
    // Four containers of authorizer-api on the same table.
    let mut containers = Vec::new();
    for _ in 0..4 {
        containers.push(platform_for(&table, &sim.base_url, &[]).await);
    }
    let (first, store, _) = &containers[0];
    store
        .save_ticket(
            &VerifyTicket::new("ticket@@@api"),
            wxopen::clock::Timestamp::now(),
        )
        .await
        .unwrap();
    let code = sim.state.lock().unwrap().authorize(OFFICIAL_ACCOUNT_APPID);
    first
        .exchanger
        .exchange(
            &wxopen_models::AuthorizationCode::new(code),
            wxopen::clock::Timestamp::now(),
            None,
        )
        .await
        .unwrap();
    let call = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "path": "/cgi-bin/get_current_selfmenu_info", "method": "GET"});
    // Every container holds the token in memory.
    for (services, _, _) in &containers {
        let answer = invoke(services, call.clone()).await;
        assert_eq!(answer["body"]["errcode"], 0, "{answer}");
    }
    let refreshes_before = sim
        .state
        .lock()
        .unwrap()
        .calls()
        .get("api_authorizer_token")
        .copied()
        .unwrap_or(0);
    // WeChat refuses it from now on (another platform instance refreshed, say), and each of the
    // 32 calls' first attempt is slow enough that all of them are sent with it.
    assert!(sim
        .state
        .lock()
        .unwrap()
        .refuse_authorizer_token(OFFICIAL_ACCOUNT_APPID));
    sim.state.lock().unwrap().add_fault(wechat_sim::Fault {
        endpoint: "account:cgi-bin/get_current_selfmenu_info".into(),
        errcode: None,
        delay_ms: Some(300),
        count: 32,
    });
    let mut tasks = Vec::new();
    for n in 0..32 {
        let services = containers[n % 4].0.clone();
        let call = call.clone();
        tasks.push(tokio::spawn(async move { invoke(&services, call).await }));
    }
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer["status"], 200, "{answer}");
        assert_eq!(
            answer["body"]["errcode"], 0,
            "every call succeeded after the refusal: {answer}"
        );
    }
    let calls = sim.state.lock().unwrap().calls();
    assert_eq!(
        calls["api_authorizer_token"] - refreshes_before,
        1,
        "exactly one refresh across four containers: {calls:?}"
    );
    assert_eq!(
        calls["account:cgi-bin/get_current_selfmenu_info"],
        4 + 32 + 32,
        "each call refused once, then sent again once"
    );
    let log = integration_tests::logs::captured();
    for secret in [APPSECRET, "sim-authorizer-token-", "sim-refresh-token-"] {
        assert!(!log.contains(secret), "{secret:?} in the logs");
    }
}
