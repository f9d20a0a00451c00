//! WeChat's access points with the functions as deployed (`cargo lambda watch`), against the
//! simulator as the fallback: with the primary closed, the exchange, a token refresh,
//! `authorizer-api` and the release test's `QUERY_AUTH_CODE` case go through the fallback; with
//! a primary that takes the code exchange and hangs, the code is not sent elsewhere and the
//! caller gets a named error; with no fallback, the failure is the named 502 it always was.

use integration_tests::dynamo;
use integration_tests::watch::{warm, watch_vars, Watch};
use integration_tests::wechat_stub::{closed, hanging};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use wechat_sim::accounts::OFFICIAL_ACCOUNT_APPID;
use wechat_sim::Simulator;

async fn watch(table: &str, key: &str, primary: &str, fallbacks: &str) -> Watch {
    let vars = watch_vars(
        table,
        primary,
        key,
        &[("WECHAT_API_FALLBACK_BASES", fallbacks)],
    );
    tokio::task::spawn_blocking(move || Watch::start(&vars))
        .await
        .unwrap()
}

fn calls(sim: &Simulator, endpoint: &str) -> u64 {
    sim.state.lock().unwrap().count(endpoint)
}

fn error_code(e: &str) -> String {
    let error: Value = serde_json::from_str(e).unwrap_or_default();
    error["errorType"].as_str().unwrap_or(e).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_primary_closed_every_call_goes_through_the_fallback_but_a_code_is_never_resent() {
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    let key = integration_tests::kms::create_key().await;
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", sim_listener.local_addr().unwrap());
    let w = watch(&table, &key, &closed(), &sim_url).await;
    let base = format!("http://127.0.0.1:{}/lambda-url", w.port);
    warm(&format!("{base}/events")).await;
    warm(&format!("{base}/messages/wx570bc396a51b8ff8")).await;
    let config = integration_tests::functions::sim_config(
        Some(format!("{base}/events")),
        Some(format!("{base}/messages/$APPID$")),
    );
    let sim = Simulator::start(config, sim_listener).await;
    // The exchange (the component token first), a token refresh and a proxied call.
    let code = sim.state.lock().unwrap().authorize(OFFICIAL_ACCOUNT_APPID);
    let stored = w
        .invoke_api("exchange", &json!({"authorization_code": code}))
        .await;
    assert_eq!(
        stored.unwrap()["authorizer_appid"],
        OFFICIAL_ACCOUNT_APPID,
        "{}",
        w.log_text()
    );
    let ask = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID});
    let token = w.invoke_api("authorizer-token", &ask).await.unwrap();
    let refused = token["authorizer_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.state
        .lock()
        .unwrap()
        .refuse_authorizer_token(OFFICIAL_ACCOUNT_APPID);
    let renewed = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "invalid_token": refused});
    let renewed = w.invoke_api("authorizer-token", &renewed).await.unwrap();
    assert_ne!(
        renewed["authorizer_access_token"].as_str().unwrap(),
        refused
    );
    let call = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "path": "/cgi-bin/get_current_selfmenu_info", "method": "GET"});
    let answer = w.invoke_api("authorizer-api", &call).await.unwrap();
    assert_eq!(answer["body"]["errcode"], 0, "{answer}");
    // WeChat's release test: QUERY_AUTH_CODE exchanged and answered through the fallback.
    let report: Value = reqwest::Client::new()
        .post(format!("{}/_sim/release-test", sim.base_url))
        .json(&json!({"group": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cases = report["cases"].as_array().unwrap();
    let api_cases: Vec<&Value> = cases
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("QUERY_AUTH_CODE"))
        .collect();
    assert!(
        !api_cases.is_empty() && api_cases.iter().all(|c| c["passed"] == true),
        "{report}"
    );
    assert!(calls(&sim, "api_authorizer_token") >= 1 && calls(&sim, "api_query_auth") >= 3);
    let log = w.log_text();
    assert!(
        log.contains("WeChat access point failed: moving to the next"),
        "no failover logged"
    );
    assert!(log.contains(&sim_url), "the log names the fallback");
    drop(w);

    // A primary that takes the code exchange and hangs: the code is not sent to the fallback.
    // (The component token is in the table already, so the exchange is the first call.)
    let (primary, received) = hanging().await;
    let w = watch(&table, &key, &primary, &sim_url).await;
    let exchanges = calls(&sim, "api_query_auth");
    let code = sim.state.lock().unwrap().authorize(OFFICIAL_ACCOUNT_APPID);
    let err = w
        .invoke_api("exchange", &json!({"authorization_code": code}))
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "wechat_timeout", "{err}");
    assert_eq!(
        received.load(Ordering::SeqCst),
        1,
        "sent once, to the primary"
    );
    assert_eq!(
        calls(&sim, "api_query_auth"),
        exchanges,
        "the code was not sent to the fallback"
    );
    drop(w);

    // No fallback (the variable set and empty): the named 502 as before.
    let w = watch(&table, &key, &closed(), "").await;
    let code = sim.state.lock().unwrap().authorize(OFFICIAL_ACCOUNT_APPID);
    let err = w
        .invoke_api("exchange", &json!({"authorization_code": code}))
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "wechat_unreachable", "{err}");
}
