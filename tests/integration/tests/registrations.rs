//! Mini Programs registered for the platform's customers, end to end: `component-api` starts the
//! registration against the simulator on DynamoDB Local, the simulator plays the person and
//! WeChat's pushes through the gateway to `events`, the history items the table's stream would
//! carry go through the notifier, and a rule on moto's bus delivers every event to SQS.

use integration_tests::bus::{history_stream_records, stream_origin, Bus};
use integration_tests::functions::*;
use integration_tests::stack::{stack_with, Stack};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wxopen::publish::EventBridgePublisher;
use wxopen::services::Notifier;

async fn component_api(s: &Stack, payload: Value) -> Result<Value, wxopen_lambda::ApiError> {
    let resp = component_api::handler::handle(&s.services.component_calls, direct(payload)).await?;
    Ok(body_json(&resp))
}

async fn sim_registrations(s: &Stack) -> Vec<Value> {
    let list = s
        .get_json(&format!("{}/_sim/registrations", s.sim.base_url))
        .await;
    list.as_array().unwrap().clone()
}

/// The person finishes (or WeChat fails) registration `id` at the simulator.
async fn complete(s: &Stack, body: Value) -> Value {
    let url = format!("{}/_sim/registrations/complete", s.sim.base_url);
    let (status, answer) = s.post_json(&url, &body).await;
    assert_eq!(status, 200, "{answer}");
    let delivered = answer["delivered"].as_array().unwrap();
    assert!(delivered.iter().all(|d| d == true), "{answer}");
    answer
}

/// The history of `appid` through the notifier to the bus, as the table's stream delivers it.
async fn notify(s: &Stack, bus: &Bus, appid: &str, first_sequence: u64) {
    let table = s.env_store.table().to_owned();
    let records = history_stream_records(&table, COMPONENT, appid, first_sequence).await;
    let publisher =
        EventBridgePublisher::from_sdk(&integration_tests::dynamo::sdk_config().await, &bus.name);
    let notifier = Notifier::new(Arc::new(publisher), stream_origin(&table, COMPONENT));
    let answer = notifier::handler::handle(&notifier, json!({ "Records": records }))
        .await
        .unwrap();
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
}

fn of_type<'a>(events: &'a [Value], detail_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["detail-type"] == detail_type)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mini_program_registered_for_customer_7_arrives_bound_to_it_with_its_code_exchanged_once()
{
    let bus = Bus::create().await;
    let s = stack_with(&[("EVENT_BUS_NAME", bus.name.as_str())]).await;
    let registered = component_api(
        &s,
        json!({"op": "register_mini_program", "kind": "enterprise", "ext": "customer-7",
               "name": "Acme Tea", "code": "91440300MA5EXAMPLE", "legal_persona_wechat": "acme_boss",
               "legal_persona_name": "Li Lei", "component_phone": "0755-12345678"}),
    )
    .await
    .unwrap();
    assert_eq!(registered["state"], "waiting");
    assert!(registered["verification_url"]
        .as_str()
        .unwrap()
        .starts_with("https://wx.sim/verify"));
    let registration_id = registered["registration_id"].as_str().unwrap().to_owned();
    let tasks = sim_registrations(&s).await;
    assert_eq!(tasks.len(), 1, "WeChat called once");
    let task = tasks[0]["id"].as_str().unwrap().to_owned();

    // The person finishes; WeChat delivers the registration push twice and an `authorized`
    // push for the same account and code.
    let done = complete(
        &s,
        json!({"id": task, "deliveries": 2, "authorized_push": true, "echo": "task"}),
    )
    .await;
    let appid = done["appid"].as_str().unwrap().to_owned();
    assert_eq!(
        s.calls("api_query_auth").await,
        1,
        "the code exchanged once"
    );
    notify(&s, &bus, &appid, 1).await;

    let events = bus.received(5, Duration::from_secs(10)).await;
    let authorized = of_type(&events, "Authorizer Authorized");
    assert_eq!(authorized.len(), 1, "{events:?}");
    assert_eq!(authorized[0]["detail"]["authorizer_appid"], appid.as_str());
    assert_eq!(authorized[0]["detail"]["ext"], "customer-7");
    let registered_events = of_type(&events, "Mini Program Registered");
    assert_eq!(registered_events.len(), 2, "once per delivery, one id");
    assert_eq!(
        registered_events[0]["detail"]["id"],
        registered_events[1]["detail"]["id"]
    );
    let detail = &registered_events[0]["detail"];
    assert_eq!(detail["registration_id"], registration_id.as_str());
    assert_eq!(detail["authorizer_appid"], appid.as_str());
    assert_eq!(
        (detail["kind"].as_str(), detail["ext"].as_str()),
        (Some("enterprise"), Some("customer-7"))
    );
    assert_eq!(of_type(&events, "Component Push").len(), 2);
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains("queryauthcode"),
        "no event carries a code"
    );

    let state = component_api(
        &s,
        json!({"op": "registration", "registration_id": registration_id}),
    )
    .await
    .unwrap();
    assert_eq!(
        (state["state"].as_str(), state["authorizer_appid"].as_str()),
        (Some("registered"), Some(appid.as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_registration_and_a_beta_one_each_arrive_with_their_customer() {
    let bus = Bus::create().await;
    let s = stack_with(&[("EVENT_BUS_NAME", bus.name.as_str())]).await;
    let personal = component_api(
        &s,
        json!({"op": "register_mini_program", "kind": "personal", "ext": "customer-8",
               "idname": "Wang Wei", "wxuser": "wang_w"}),
    )
    .await
    .unwrap();
    let beta = component_api(
        &s,
        json!({"op": "register_mini_program", "kind": "beta", "ext": "customer-9",
               "name": "Tea Trial", "openid": "o-fan-1"}),
    )
    .await
    .unwrap();
    let tasks = sim_registrations(&s).await;
    let id_of = |kind: &str| {
        let task = tasks.iter().find(|t| t["kind"] == kind).unwrap();
        task["id"].as_str().unwrap().to_owned()
    };
    // The person never verified: WeChat fails it with 100001.
    complete(&s, json!({"id": id_of("personal"), "status": 100001})).await;
    // The beta Mini Program: its push, then its own `authorized` push.
    let done = complete(&s, json!({"id": id_of("beta")})).await;
    let beta_appid = done["appid"].as_str().unwrap().to_owned();
    assert_eq!(s.calls("api_query_auth").await, 1);
    notify(&s, &bus, &beta_appid, 1).await;

    let events = bus.received(5, Duration::from_secs(10)).await;
    let failed = of_type(&events, "Mini Program Registration Failed");
    assert_eq!(failed.len(), 1, "{events:?}");
    let detail = &failed[0]["detail"];
    assert_eq!(detail["registration_id"], personal["registration_id"]);
    assert_eq!(
        (detail["kind"].as_str(), detail["ext"].as_str()),
        (Some("personal"), Some("customer-8"))
    );
    assert_eq!(detail["status"], 100001);
    assert!(detail["reason"]
        .as_str()
        .unwrap()
        .contains("did not confirm within 24 hours"));
    let registered = of_type(&events, "Mini Program Registered");
    assert_eq!(registered.len(), 1);
    assert_eq!(
        registered[0]["detail"]["registration_id"],
        beta["registration_id"]
    );
    assert_eq!(registered[0]["detail"]["ext"], "customer-9");
    let authorized = of_type(&events, "Authorizer Authorized");
    assert_eq!(authorized.len(), 1);
    assert_eq!(
        authorized[0]["detail"]["authorizer_appid"],
        beta_appid.as_str()
    );
    assert_eq!(authorized[0]["detail"]["ext"], "customer-9");
    let state = component_api(
        &s,
        json!({"op": "registration", "registration_id": personal["registration_id"]}),
    )
    .await
    .unwrap();
    assert_eq!(state["state"], "failed");
    assert_eq!(state["status"], 100001);
}
