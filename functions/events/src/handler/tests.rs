//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use lambda_http::{Body, Response};
use serde_json::json;
use wxopen::msg_crypto::{EncodingAesKey, MsgCrypto};
use wxopen::store::{AuthorizerStore, HistoryReader, TicketStore};
use wxopen_lambda::testing::*;
use wxopen_models::records::{AuthorizerStatus, HistoryKind};
use wxopen_models::{AuthorizerAppid, ComponentAppid, PermissionId, Secret};

fn pairs(query: &[(String, String)]) -> Vec<(&str, &str)> {
    query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

async fn post(p: &Platform, query: &[(String, String)], body: &str) -> Response<Body> {
    let req = http_event("POST", "/wechat/events", &pairs(query), &[], Some(body));
    handle(&p.core.pushes().unwrap(), req)
        .await
        .expect("the handler answers HTTP")
}

/// A push of `info_type` with `fields`, sealed as WeChat seals it; the text of the answer.
async fn push_of(p: &Platform, info_type: &str, fields: &[(&str, &str)]) -> String {
    let (query, body) = p.sealed_push(&push_xml(info_type, fields));
    body_text(&post(p, &query, &body).await)
}

/// `xml` sealed with the platform's key and token for another platform (`wx_other_platform`):
/// the query's pairs and the body.
fn sealed_for_another_platform(xml: &str) -> (Vec<(String, String)>, String) {
    let other = MsgCrypto::new(
        Secret::new(MSG_TOKEN),
        EncodingAesKey::parse(AES_KEY).unwrap(),
        None,
        ComponentAppid::parse("wx_other_platform").unwrap(),
    );
    let timestamp = wxopen::clock::now_secs().to_string();
    let foreign = other.seal(xml, &timestamp, "nonce-2");
    let query = vec![
        ("timestamp".to_owned(), foreign.timestamp),
        ("nonce".to_owned(), foreign.nonce),
        ("encrypt_type".to_owned(), "aes".to_owned()),
        ("msg_signature".to_owned(), foreign.msg_signature),
    ];
    (query, foreign.body)
}

fn seed() -> AuthorizerAppid {
    AuthorizerAppid::parse(SEED_APPID).unwrap()
}

async fn seed_record(p: &Platform) -> wxopen::store::StoredAuthorizer {
    let stored = p.core.store.load_authorizer(&seed()).await.unwrap();
    stored.expect("the seed's account is stored")
}

#[tokio::test]
async fn events_store_the_ticket_and_answer_success_again_to_a_redelivery() {
    let p = Platform::new();
    let xml = push_xml(
        "component_verify_ticket",
        &[("ComponentVerifyTicket", "ticket@@@pushed")],
    );
    let (query, body) = p.sealed_push(&xml);
    let resp = post(&p, &query, &body).await;
    assert_eq!(
        (resp.status().as_u16(), body_text(&resp)),
        (200, "success".to_owned())
    );
    let ticket = p.core.store.load_ticket().await.unwrap().unwrap();
    assert_eq!(ticket.ticket.expose(), "ticket@@@pushed");
    assert_eq!(body_text(&post(&p, &query, &body).await), "success");
}

#[tokio::test]
async fn events_exchange_authorized_and_updateauthorized_pushes_and_revoke_on_unauthorized() {
    let p = Platform::new().with_ticket().await;
    let fields = [
        ("AuthorizerAppid", SEED_APPID),
        ("AuthorizationCode", "queryauthcode@@@push"),
        ("AuthorizationCodeExpiredTime", "4102444800"),
        ("PreAuthCode", "preauthcode@@@x"),
    ];
    p.wechat.answer_like_the_seed();
    assert_eq!(push_of(&p, "authorized", &fields).await, "success");
    let stored = seed_record(&p).await;
    assert_eq!(
        stored.record.permission_ids,
        vec![PermissionId(1), PermissionId(2), PermissionId(3)]
    );
    p.wechat.script(
        "api_query_auth",
        [Reply::Json(json!({"authorization_info": {
        "authorizer_appid": SEED_APPID, "authorizer_access_token": "a2", "expires_in": 7200,
        "authorizer_refresh_token": "r2", "func_info": [{"funcscope_category": {"id": 1}}]}}))],
    );
    // Each push carries its own code.
    let mut fields = fields;
    fields[1].1 = "queryauthcode@@@update";
    assert_eq!(push_of(&p, "updateauthorized", &fields).await, "success");
    let stored = seed_record(&p).await;
    assert_eq!(stored.record.permission_ids, vec![PermissionId(1)]);
    let history = p.core.store.history(&seed()).await.unwrap();
    assert_eq!(
        history.last().map(|h| h.kind),
        Some(HistoryKind::PermissionsChanged)
    );
    // The pushed code was already used by the redirect: nothing to do, still `success`.
    p.wechat.script("api_query_auth", [Reply::Errcode(61009)]);
    fields[1].1 = "queryauthcode@@@used";
    let calls = p.wechat.count("api_query_auth");
    assert_eq!(push_of(&p, "authorized", &fields).await, "success");
    assert_eq!(p.wechat.count("api_query_auth"), calls + 1);
    let unauthorized = push_of(&p, "unauthorized", &[("AuthorizerAppid", SEED_APPID)]).await;
    assert_eq!(unauthorized, "success");
    let stored = seed_record(&p).await;
    assert_eq!(stored.record.status, AuthorizerStatus::Revoked);
}

/// The `Component Push` details published so far.
fn component_pushes(p: &Platform) -> Vec<serde_json::Value> {
    let published = p.bus.published().into_iter();
    published
        .filter(|e| e.detail_type == "Component Push")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect()
}

#[tokio::test]
async fn every_other_push_is_published_whole_once_without_its_code_and_a_redelivery_keeps_its_id() {
    let p = Platform::new().with_ticket().await;
    p.wechat.answer_like_the_seed();
    let fields = [
        ("appid", "wxnewmini"),
        ("status", "0"),
        ("auth_code", "code@@@REGISTERED"),
        ("msg", "OK"),
    ];
    let xml = push_xml("notify_third_fasteregister", &fields).replace(
        "</xml>",
        "<info><name><![CDATA[Shop]]></name><taskid>t-1</taskid></info></xml>",
    );
    let (query, body) = p.sealed_push(&xml);
    assert_eq!(body_text(&post(&p, &query, &body).await), "success");
    let unknown = push_of(&p, "notify_added_tomorrow", &[("whatever", "kept")]).await;
    assert_eq!(unknown, "success");
    let pushes = component_pushes(&p);
    assert_eq!(pushes.len(), 2, "{pushes:?}");
    let registered = &pushes[0];
    assert_eq!(registered["info_type"], "notify_third_fasteregister");
    assert_eq!(registered["component_appid"], COMPONENT);
    assert_eq!(registered["push"]["appid"], "wxnewmini");
    assert_eq!(registered["push"]["info"]["taskid"], "t-1");
    assert!(
        registered["push"].get("auth_code").is_none(),
        "no event carries a code"
    );
    assert!(!registered.to_string().contains("code@@@REGISTERED"));
    assert_eq!(pushes[1]["push"]["whatever"], "kept");
    // WeChat delivers the same push again: the same id.
    assert_eq!(body_text(&post(&p, &query, &body).await), "success");
    let again = component_pushes(&p);
    assert_eq!(again.len(), 3);
    assert_eq!(again[2]["id"], registered["id"]);
    assert_ne!(pushes[1]["id"], registered["id"]);
    // The registration's code was exchanged once, for the push and its redelivery, and for the
    // plain `authorized` push WeChat may send for the same account.
    assert_eq!(p.wechat.count("api_query_auth"), 1);
    assert_eq!(
        seed_record(&p).await.record.status,
        AuthorizerStatus::Authorized
    );
    assert_eq!(
        seed_record(&p).await.record.ext,
        None,
        "no registration binds it yet"
    );
    let authorized = [
        ("AuthorizerAppid", SEED_APPID),
        ("AuthorizationCode", "code@@@REGISTERED"),
    ];
    assert_eq!(push_of(&p, "authorized", &authorized).await, "success");
    assert_eq!(p.wechat.count("api_query_auth"), 1);
}

#[tokio::test]
async fn a_failed_fast_registration_is_published_and_exchanges_nothing() {
    let p = Platform::new().with_ticket().await;
    let fields = [
        ("appid", ""),
        ("status", "100001"),
        ("msg", "not verified in 24 h"),
    ];
    assert_eq!(
        push_of(&p, "notify_third_fasteregister", &fields).await,
        "success"
    );
    assert_eq!(p.wechat.count("api_query_auth"), 0);
    let pushes = component_pushes(&p);
    assert_eq!(pushes[0]["push"]["status"], "100001");
}

#[tokio::test]
async fn a_push_the_bus_refuses_is_not_acknowledged_so_wechat_sends_it_again() {
    let p = Platform::new();
    p.bus.refuse_matching(Some("notify_3rd_wxa_wxverify"));
    let (query, body) = p.sealed_push(&push_xml(
        "notify_3rd_wxa_wxverify",
        &[("appid", "wxa"), ("expired", "1700000000")],
    ));
    let refused = post(&p, &query, &body).await;
    assert_eq!(error_of(&refused), (503, json!("publish_failed")));
    assert!(component_pushes(&p).is_empty());
    // The bus accepts again: WeChat's redelivery is published.
    p.bus.refuse_matching(None);
    assert_eq!(body_text(&post(&p, &query, &body).await), "success");
    assert_eq!(component_pushes(&p).len(), 1);
}

#[tokio::test]
async fn events_refuse_bad_signatures_with_401_and_store_nothing() {
    let p = Platform::new();
    let ticket = push_xml(
        "component_verify_ticket",
        &[("ComponentVerifyTicket", "forged")],
    );
    let other = push_xml("notify_3rd_wxa_wxverify", &[("appid", "wxa")]);
    for xml in [ticket, other] {
        let (mut query, body) = p.sealed_push(&xml);
        query
            .iter_mut()
            .find(|(k, _)| k == "msg_signature")
            .unwrap()
            .1 = "0".repeat(40);
        assert_eq!(
            error_of(&post(&p, &query, &body).await),
            (401, json!("bad_signature"))
        );
        query.retain(|(k, _)| k != "msg_signature");
        assert_eq!(post(&p, &query, &body).await.status(), 401);
    }
    assert_eq!(p.core.store.load_ticket().await.unwrap(), None);
    assert!(component_pushes(&p).is_empty(), "nothing published");
}

#[tokio::test]
async fn events_refuse_malformed_oversized_and_foreign_pushes() {
    let p = Platform::new();
    let xml = push_xml("component_verify_ticket", &[("ComponentVerifyTicket", "t")]);
    let (query, body) = p.sealed_push(&xml);
    let resp = post(&p, &query, "<xml><AppId>x</AppId>").await;
    assert_eq!(error_of(&resp), (400, json!("malformed_push")));
    let huge = format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(70 * 1024));
    assert_eq!(
        error_of(&post(&p, &query, &huge).await),
        (413, json!("body_too_large"))
    );
    // Sealed with the same key for another platform.
    let (foreign_query, foreign_body) = sealed_for_another_platform(&xml);
    let resp = post(&p, &foreign_query, &foreign_body).await;
    assert_eq!(error_of(&resp), (403, json!("wrong_component")));
    let mut plain = query.clone();
    plain
        .iter_mut()
        .find(|(k, _)| k == "encrypt_type")
        .unwrap()
        .1 = "raw".into();
    assert_eq!(post(&p, &plain, &body).await.status(), 400);
    assert_eq!(p.core.store.load_ticket().await.unwrap(), None);
}

#[tokio::test]
async fn a_component_push_for_another_platform_is_refused_and_nothing_is_published() {
    let p = Platform::new();
    let xml = push_xml("notify_3rd_wxa_wxverify", &[("appid", "wxa")]);
    let (genuine, body) = p.sealed_push(&xml);
    let foreign_xml = xml.replace(COMPONENT, "wx_other_platform");
    let (foreign_query, foreign_body) = sealed_for_another_platform(&foreign_xml);
    let resp = post(&p, &foreign_query, &foreign_body).await;
    assert_eq!(error_of(&resp), (403, json!("wrong_component")));
    assert!(component_pushes(&p).is_empty());
    // The genuine one is published.
    assert_eq!(body_text(&post(&p, &genuine, &body).await), "success");
    assert_eq!(component_pushes(&p).len(), 1);
}
