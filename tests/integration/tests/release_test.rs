//! WeChat's full-network release test, played by the simulator against the message URL and
//! the event URL behind the loopback gateway: every group, both formats of the Mini Program.

use integration_tests::stack::stack;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_group_passes_every_case_through_the_gateway() {
    let s = stack().await;
    for group in 1..=5u8 {
        let format = if group % 2 == 0 { "xml" } else { "json" };
        let resp = s
            .http
            .post(format!("{}/_sim/release-test", s.sim.base_url))
            .json(&json!({"group": group, "mini_program_format": format}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let report: Value = resp.json().await.unwrap();
        assert_eq!(report["group"], group);
        assert_eq!(report["cases"].as_array().unwrap().len(), 5, "{report}");
        assert_eq!(report["passed"], true, "group {group}: {report:#}");
    }
    // The API cases stored the test accounts like any authorization.
    let sent = s.sim.state.lock().unwrap().sent_messages();
    assert_eq!(sent.len(), 10, "one customer-service message per API case");
    assert!(sent.iter().all(|m| m.content.ends_with("_from_api")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_fails_a_case_the_platform_answers_wrongly() {
    let s = stack().await;
    // The customer-service API refuses: the API case must fail, the others still pass.
    s.fault(json!({"endpoint": "message/custom/send", "errcode": 45047, "count": 2}))
        .await;
    let report: Value = s
        .http
        .post(format!("{}/_sim/release-test", s.sim.base_url))
        .json(&json!({"group": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["passed"], false, "{report:#}");
    let failed: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 2, "{report:#}");
    assert!(
        failed.iter().all(|n| n.starts_with("QUERY_AUTH_CODE")),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_ticket_stored_the_refresher_asks_wechat_for_one_and_it_arrives_at_once() {
    use std::time::{Duration, Instant};
    use wxopen::clock::Timestamp;
    use wxopen::services::Job;
    use wxopen::store::TicketStore;
    let s = stack().await;
    // A fresh deployment: the table has no ticket yet.
    integration_tests::dynamo::client()
        .await
        .delete_item()
        .table_name(s.env_store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!(
                "component#{}",
                integration_tests::functions::COMPONENT
            )),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("ticket".into()),
        )
        .send()
        .await
        .unwrap();
    let deadline = Timestamp::now().plus(Duration::from_secs(60));
    let err = s
        .services
        .refresher
        .run(Job::ComponentToken, deadline)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        wxopen::services::ServiceError::Refresh(wxopen::tokens::RefreshError::TicketMissing)
    );
    let waited = Instant::now();
    while s.env_store.load_ticket().await.unwrap().is_none() {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the pushed ticket never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = s
        .services
        .refresher
        .run(Job::ComponentToken, deadline)
        .await
        .unwrap();
    assert!(report.component_token_refreshed);
    assert_eq!(s.calls("api_start_push_ticket").await, 1);
}
