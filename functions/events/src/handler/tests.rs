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

#[tokio::test]
async fn events_answer_success_to_valid_pushes_of_other_kinds() {
    let p = Platform::new();
    let answer = push_of(&p, "notify_third_fasteregister", &[("status", "0")]).await;
    assert_eq!(answer, "success");
    assert_eq!(p.wechat.total(), 0);
}

#[tokio::test]
async fn events_refuse_bad_signatures_with_401_and_store_nothing() {
    let p = Platform::new();
    let xml = push_xml(
        "component_verify_ticket",
        &[("ComponentVerifyTicket", "forged")],
    );
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
    assert_eq!(p.core.store.load_ticket().await.unwrap(), None);
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
    let other = MsgCrypto::new(
        Secret::new(MSG_TOKEN),
        EncodingAesKey::parse(AES_KEY).unwrap(),
        None,
        ComponentAppid::parse("wx_other_platform").unwrap(),
    );
    let timestamp = wxopen::clock::now_secs().to_string();
    let foreign = other.seal(&xml, &timestamp, "nonce-2");
    let foreign_query = vec![
        ("timestamp".to_owned(), foreign.timestamp),
        ("nonce".to_owned(), foreign.nonce),
        ("encrypt_type".to_owned(), "aes".to_owned()),
        ("msg_signature".to_owned(), foreign.msg_signature),
    ];
    let resp = post(&p, &foreign_query, &foreign.body).await;
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
