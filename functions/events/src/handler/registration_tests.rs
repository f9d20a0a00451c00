//! Registrations completed by their pushes, through the handler and the production wiring on the
//! memory store: started as `component-api` starts them, then WeChat's pushes in every order.

use super::handle;
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use wxopen::store::{AuthorizerStore, HistoryReader};
use wxopen::testing::Reply;
use wxopen_lambda::testing::*;
use wxopen_models::records::HistoryKind;
use wxopen_models::registration::RegistrationDetails;
use wxopen_models::AuthorizerAppid;

/// Registers for `ext` as `component-api` does, WeChat answering with `answer`; the id.
async fn register(p: &Platform, ext: &str, details: Value, answer: Value) -> String {
    p.wechat.script("call_raw", [Reply::Json(answer)]);
    let details: RegistrationDetails = serde_json::from_value(details).unwrap();
    let calls = p.core.component_calls();
    let view = calls.registrations().register(ext, &details).await.unwrap();
    view.registration_id
}

async fn acme(p: &Platform) -> String {
    let details = json!({"kind": "enterprise", "name": "Acme Tea", "code": "91440300MA5EXAMPLE",
                         "component_phone": "0755-12345678"});
    let answer = json!({"errcode": 0, "taskid": "task-1", "authorize_url": "https://wx.example/v"});
    register(p, "customer-7", details, answer).await
}

/// A push with its query's pairs and body, posted to the event URL.
async fn post(p: &Platform, query: &[(String, String)], body: &str) -> Response<Body> {
    let pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = http_event("POST", "/wechat/events", &pairs, &[], Some(body));
    handle(&p.core.pushes().unwrap(), req).await.unwrap()
}

/// `xml` delivered to the event URL, sealed as WeChat seals it: the answer's text.
async fn deliver(p: &Platform, xml: &str) -> String {
    let (query, body) = p.sealed_push(xml);
    body_text(&post(p, &query, &body).await)
}

/// A registration push with its top-level fields and `info`.
fn registration_push(info_type: &str, fields: &[(&str, &str)], info: &[(&str, &str)]) -> String {
    let info: String = info
        .iter()
        .map(|(k, v)| format!("<{k}><![CDATA[{v}]]></{k}>"))
        .collect();
    push_xml(info_type, fields).replace("</xml>", &format!("<info>{info}</info></xml>"))
}

/// A successful `notify_third_fasteregister` for `appid`, its code `code-<appid>`.
fn registered_push(appid: &str, info: &[(&str, &str)]) -> String {
    let code = format!("code-{appid}");
    let fields = [
        ("appid", appid),
        ("status", "0"),
        ("auth_code", code.as_str()),
        ("msg", "OK"),
    ];
    registration_push("notify_third_fasteregister", &fields, info)
}

fn authorized_push(appid: &str, code: &str) -> String {
    push_xml(
        "authorized",
        &[("AuthorizerAppid", appid), ("AuthorizationCode", code)],
    )
}

fn published(p: &Platform, detail_type: &str) -> Vec<Value> {
    p.bus
        .published()
        .into_iter()
        .filter(|e| e.detail_type == detail_type)
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect()
}

async fn history(p: &Platform, appid: &str) -> Vec<(HistoryKind, Option<String>)> {
    let appid = AuthorizerAppid::parse(appid).unwrap();
    let entries = p.core.store.history(&appid).await.unwrap();
    entries.into_iter().map(|h| (h.kind, h.ext)).collect()
}

async fn state(p: &Platform, id: &str) -> Value {
    let view = p
        .core
        .component_calls()
        .registrations()
        .registration(id)
        .await
        .unwrap();
    serde_json::to_value(view).unwrap()
}

#[tokio::test]
async fn the_registration_push_binds_the_new_account_to_its_ext_and_its_code_is_exchanged_once() {
    let p = Platform::new().with_ticket().await;
    let id = acme(&p).await;
    let push = registered_push(
        "wxnewmini",
        &[
            ("name", "Acme Tea"),
            ("code", "91440300MA5EXAMPLE"),
            ("taskid", "task-1"),
        ],
    );
    assert_eq!(deliver(&p, &push).await, "success");
    assert_eq!(deliver(&p, &push).await, "success", "redelivered");
    let plain = authorized_push("wxnewmini", "code-wxnewmini");
    assert_eq!(deliver(&p, &plain).await, "success");
    assert_eq!(p.wechat.count("api_query_auth"), 1);
    let appid = AuthorizerAppid::parse("wxnewmini").unwrap();
    let stored = p.core.store.load_authorizer(&appid).await.unwrap().unwrap();
    assert_eq!(stored.record.ext.as_deref(), Some("customer-7"));
    // One authorization, published (through the table's stream) with the customer.
    assert_eq!(
        history(&p, "wxnewmini").await,
        vec![(HistoryKind::Authorized, Some("customer-7".into()))]
    );
    let registered = published(&p, "Mini Program Registered");
    assert_eq!(
        registered.len(),
        2,
        "once per delivery of the push: {registered:?}"
    );
    assert_eq!(registered[0], registered[1], "the same id on redelivery");
    assert_eq!(registered[0]["registration_id"], id.as_str());
    assert_eq!(registered[0]["authorizer_appid"], "wxnewmini");
    assert_eq!(
        (
            registered[0]["kind"].as_str(),
            registered[0]["ext"].as_str()
        ),
        (Some("enterprise"), Some("customer-7"))
    );
    let now = state(&p, &id).await;
    assert_eq!(
        (now["state"].as_str(), now["authorizer_appid"].as_str()),
        (Some("registered"), Some("wxnewmini"))
    );
    assert_eq!(
        published(&p, "Component Push").len(),
        2,
        "the push itself, each delivery"
    );
    assert!(
        !format!("{:?}", p.bus.published()).contains("code-wxnewmini"),
        "no event carries the code"
    );
}

#[tokio::test]
async fn an_authorized_push_before_the_registration_push_is_bound_when_the_registration_arrives() {
    let p = Platform::new().with_ticket().await;
    let id = acme(&p).await;
    assert_eq!(
        deliver(&p, &authorized_push("wxearly", "code-wxearly")).await,
        "success"
    );
    assert_eq!(
        history(&p, "wxearly").await,
        vec![(HistoryKind::Authorized, None)]
    );
    // New-version flows may echo only the task id.
    let push = registered_push("wxearly", &[("taskid", "task-1")]);
    assert_eq!(deliver(&p, &push).await, "success");
    assert_eq!(p.wechat.count("api_query_auth"), 1);
    assert_eq!(
        history(&p, "wxearly").await,
        vec![
            (HistoryKind::Authorized, None),
            (HistoryKind::Authorized, Some("customer-7".into()))
        ],
        "published again as Authorizer Authorized, with its ext"
    );
    assert_eq!(
        published(&p, "Mini Program Registered")[0]["registration_id"],
        id.as_str()
    );
}

#[tokio::test]
async fn a_failed_registration_is_published_with_its_reason_and_exchanges_nothing() {
    let p = Platform::new().with_ticket().await;
    let id = acme(&p).await;
    let push = registration_push(
        "notify_third_fasteregister",
        &[("appid", ""), ("status", "100001"), ("msg", "timeout")],
        &[("name", "Acme Tea"), ("code", "91440300MA5EXAMPLE")],
    );
    assert_eq!(deliver(&p, &push).await, "success");
    assert_eq!(p.wechat.count("api_query_auth"), 0);
    let failed = published(&p, "Mini Program Registration Failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (
            failed[0]["registration_id"].as_str(),
            failed[0]["ext"].as_str()
        ),
        (Some(id.as_str()), Some("customer-7"))
    );
    assert_eq!(failed[0]["status"], 100001);
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("did not confirm within 24 hours"),
        "{failed:?}"
    );
    assert_eq!(state(&p, &id).await["state"], "failed");
    assert!(published(&p, "Mini Program Registered").is_empty());
}

#[tokio::test]
async fn a_beta_registration_binds_its_ext_whichever_push_comes_first() {
    let p = Platform::new().with_ticket().await;
    let beta = |name: &str, openid: &str| json!({"kind": "beta", "name": name, "openid": openid});
    let answer =
        |u: &str| json!({"errcode": 0, "unique_id": u, "authorize_url": "https://wx.example/b"});
    let first = register(&p, "customer-9", beta("Tea Trial", "o-1"), answer("u-1")).await;
    let second = register(&p, "customer-10", beta("Cake Trial", "o-2"), answer("u-2")).await;
    // The beta push first: it names the account; the authorized push stores it with the ext.
    let push_of = |appid: &str, unique: &str, name: &str| {
        registration_push(
            "notify_third_fastregisterbetaapp",
            &[("appid", appid), ("status", "0"), ("msg", "OK")],
            &[("unique_id", unique), ("name", name)],
        )
    };
    assert_eq!(
        deliver(&p, &push_of("wxbetaone", "u-1", "Tea Trial")).await,
        "success"
    );
    assert_eq!(
        state(&p, &first).await["state"],
        "waiting",
        "not authorized yet"
    );
    assert_eq!(
        deliver(&p, &authorized_push("wxbetaone", "code-wxbetaone")).await,
        "success"
    );
    assert_eq!(
        history(&p, "wxbetaone").await,
        vec![(HistoryKind::Authorized, Some("customer-9".into()))]
    );
    assert_eq!(state(&p, &first).await["state"], "registered");
    // The authorized push first: the beta push binds the stored account.
    assert_eq!(
        deliver(&p, &authorized_push("wxbetatwo", "code-wxbetatwo")).await,
        "success"
    );
    assert_eq!(
        deliver(&p, &push_of("wxbetatwo", "u-2", "Cake Trial")).await,
        "success"
    );
    let bound = history(&p, "wxbetatwo").await;
    assert_eq!(
        bound.last(),
        Some(&(HistoryKind::Authorized, Some("customer-10".into())))
    );
    let registered = published(&p, "Mini Program Registered");
    let pairs: Vec<(&str, &str)> = registered
        .iter()
        .map(|r| {
            (
                r["registration_id"].as_str().unwrap(),
                r["ext"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            (first.as_str(), "customer-9"),
            (second.as_str(), "customer-10")
        ]
    );
    assert_eq!(p.wechat.count("api_query_auth"), 2);
}

#[tokio::test]
async fn a_forged_registration_push_completes_nothing() {
    let p = Platform::new().with_ticket().await;
    let id = acme(&p).await;
    let push = registered_push("wxforged", &[("taskid", "task-1")]);
    let (mut query, body) = p.sealed_push(&push);
    for (k, v) in &mut query {
        if k == "msg_signature" {
            *v = "0".repeat(40);
        }
    }
    let resp = post(&p, &query, &body).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert_eq!(p.wechat.count("api_query_auth"), 0);
    assert!(p.bus.published().is_empty());
    assert_eq!(state(&p, &id).await["state"], "waiting");
}

#[tokio::test]
async fn a_registration_event_the_bus_refuses_leaves_the_push_for_wechat_to_deliver_again() {
    let p = Platform::new().with_ticket().await;
    let id = acme(&p).await;
    p.bus.refuse_matching(Some("registration_id"));
    let push = registered_push("wxretried", &[("taskid", "task-1")]);
    let (query, body) = p.sealed_push(&push);
    let refused = post(&p, &query, &body).await;
    assert_eq!(error_of(&refused), (503, json!("publish_failed")));
    assert!(published(&p, "Mini Program Registered").is_empty());
    // WeChat delivers it again once the bus accepts: published, the code still exchanged once.
    p.bus.refuse_matching(None);
    assert_eq!(deliver(&p, &push).await, "success");
    let registered = published(&p, "Mini Program Registered");
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0]["registration_id"], id.as_str());
    assert_eq!(p.wechat.count("api_query_auth"), 1);
}
