//! The authorization flow against the WeChat simulator, driven over HTTP like a browser:
//! the simulator's pushes and redirects reach the functions through a loopback gateway.
//! Faults injected through the simulator's admin API show what a person would see.

use integration_tests::stack::stack;
use serde_json::{json, Value};
use wechat_sim::accounts::{MINI_PROGRAM_APPID, OFFICIAL_ACCOUNT_APPID};
use wxopen::store::AuthorizerListing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_accounts_authorize_through_the_simulated_page_and_are_served() {
    let s = stack().await;
    for (appid, kind, permissions) in [
        (OFFICIAL_ACCOUNT_APPID, "official_account", json!([1, 2, 3])),
        (MINI_PROGRAM_APPID, "mini_program", json!([17, 18, 19])),
    ] {
        let callback = s.authorize_on_page(appid).await;
        assert!(
            callback.contains("auth_code=") && callback.contains("expires_in=600"),
            "{callback}"
        );
        let resp = s.get(&callback).await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(
            page.contains("Authorization complete") && page.contains(appid),
            "{page}"
        );
        let info = s
            .get_json(&format!("{}/authorizers/{appid}", s.gateway.base_url))
            .await;
        assert_eq!(
            (info["account_kind"].clone(), info["permission_ids"].clone()),
            (json!(kind), permissions)
        );
    }
    // The simulator also pushed `authorized` for each; the stored records are consistent.
    let listed = s
        .env_store
        .list_authorizers(None, 10)
        .await
        .unwrap()
        .expect("no cursor: a first page");
    assert_eq!(listed.items.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_twice_then_success_is_invisible_to_the_person() {
    let s = stack().await;
    let callback = s.authorize_on_page(OFFICIAL_ACCOUNT_APPID).await;
    s.fault(json!({"endpoint": "api_query_auth", "errcode": -1, "count": 2}))
        .await;
    let before = s.calls("api_query_auth").await;
    let resp = s.get(&callback).await;
    assert_eq!(resp.status(), 200);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Authorization complete"));
    assert!(
        s.calls("api_query_auth").await >= before + 3,
        "two busy answers, then the success"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_error_is_a_clear_error() {
    let s = stack().await;
    s.fault(json!({"endpoint": "api_create_preauthcode", "errcode": 45009, "count": 1}))
        .await;
    let resp = s
        .http
        .get(format!("{}/wechat/authorize", s.gateway.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "wechat_quota_exceeded");
    assert_eq!(body["error"]["wechat_errcode"], 45009);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("daily quota"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_auth_code_shows_a_page_telling_the_person_to_start_again() {
    let s = stack().await;
    // No push exchanges the code this time (the event URL is unreachable, say), and the
    // person arrives after the code has expired.
    s.sim.state.lock().unwrap().config.events_url = None;
    let callback = s.authorize_on_page(MINI_PROGRAM_APPID).await;
    s.http
        .post(format!("{}/_sim/expire-codes", s.sim.base_url))
        .send()
        .await
        .unwrap();
    let resp = s.get(&callback).await;
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.unwrap();
    assert!(page.contains("start the authorization again"), "{page}");
    assert!(page.contains("auth_code_expired"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_in_the_simulator_reaches_the_store() {
    let s = stack().await;
    let callback = s.authorize_on_page(OFFICIAL_ACCOUNT_APPID).await;
    assert_eq!(s.get(&callback).await.status(), 200);
    let resp = s
        .http
        .post(format!("{}/_sim/push/unauthorized", s.sim.base_url))
        .json(&json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["delivered"], true);
    let resp = s
        .http
        .get(format!(
            "{}/authorizers/{OFFICIAL_ACCOUNT_APPID}",
            s.gateway.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_push_from_the_simulator_reaches_the_bus_through_events() {
    let bus = integration_tests::bus::Bus::create().await;
    let s = integration_tests::stack::stack_with(&[("EVENT_BUS_NAME", bus.name.as_str())]).await;
    let resp = s
        .http
        .post(format!("{}/_sim/push/component", s.sim.base_url))
        .json(&json!({"info_type": "notify_3rd_wxa_auth", "fields": {
            "appid": "wxverified", "taskid": "t-7", "task_status": 9, "apply_status": 4,
            "dispatch_info": {"provider": "p", "contact": "c"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["delivered"], true);
    let received = bus.received(1, std::time::Duration::from_secs(10)).await;
    let pushes: Vec<&Value> = received
        .iter()
        .filter(|e| e["detail-type"] == "Component Push")
        .collect();
    assert_eq!(pushes.len(), 1, "{received:?}");
    let push = &pushes[0]["detail"]["push"];
    assert_eq!(push["taskid"], "t-7");
    assert_eq!(push["apply_status"], "4", "as text, as WeChat sends XML");
    assert_eq!(push["dispatch_info"]["provider"], "p");
    // The basic kinds have their own routes.
    let refused = s
        .http
        .post(format!("{}/_sim/push/component", s.sim.base_url))
        .json(&json!({"info_type": "authorized"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}
