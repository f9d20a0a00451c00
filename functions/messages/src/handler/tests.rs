//! The handler through the production wiring, on the memory store, an in-process WeChat and
//! the bus in memory.

use super::handle;
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use wxopen::clock::now_secs;
use wxopen::msg_crypto::{EncodingAesKey, MsgCrypto};
use wxopen_lambda::testing::*;
use wxopen_models::messages::BodyFormat;
use wxopen_models::{ComponentAppid, Secret};

fn text(to: &str, content: &str) -> String {
    format!("<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[o-user]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>6364923474433998594</MsgId></xml>", now_secs())
}

/// The platform with a ticket, the seed account authorized, and a text message to it, sealed.
async fn authorized_with_hello() -> (Platform, (Vec<(String, String)>, String)) {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let msg = p.sealed_message(
        SEED_USER_NAME,
        &text(SEED_USER_NAME, "hello"),
        BodyFormat::Xml,
    );
    (p, msg)
}

async fn post(
    p: &Platform,
    appid: &str,
    (query, body): &(Vec<(String, String)>, String),
) -> Response<Body> {
    let path = format!("/wechat/messages/{appid}");
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut event = http_event_json(
        "POST",
        &path,
        &query,
        &[("content-type", "text/xml")],
        Some(body),
    );
    event["routeKey"] = "POST /wechat/messages/{appid}".into();
    event["pathParameters"] = json!({ "appid": appid });
    handle(&p.core.messages().unwrap(), parse_event(event))
        .await
        .expect("the handler answers HTTP")
}

#[tokio::test]
async fn the_release_tests_text_case_is_answered_with_a_sealed_reply_and_not_published() {
    let p = Platform::new();
    let msg = p.sealed_message(
        "gh_c0f28a78b318",
        &text("gh_c0f28a78b318", "TESTCOMPONENT_MSG_TYPE_TEXT"),
        BodyFormat::Xml,
    );
    let resp = post(&p, "wx9252c5e0bb1836fc", &msg).await;
    assert_eq!(resp.status(), 200, "{}", body_text(&resp));
    let (reply, format) = p.crypto().open_reply(&body_text(&resp)).unwrap();
    assert_eq!(format, BodyFormat::Xml);
    assert!(
        reply.contains("<Content><![CDATA[TESTCOMPONENT_MSG_TYPE_TEXT_callback]]></Content>"),
        "{reply}"
    );
    assert!(
        reply.contains("<ToUserName><![CDATA[o-user]]></ToUserName>"),
        "{reply}"
    );
    assert!(
        reply.contains("<FromUserName><![CDATA[gh_c0f28a78b318]]></FromUserName>"),
        "{reply}"
    );
    assert!(p.bus.published().is_empty());
}

#[tokio::test]
async fn a_users_message_is_published_with_its_detail_and_answered_success() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let event = r#"{"ToUserName":"gh_eb5e3a772040","FromUserName":"o-user","CreateTime":1700000000,"MsgType":"event","Event":"user_enter_tempsession"}"#;
    for (plain, format) in [
        (text(SEED_USER_NAME, "hello"), BodyFormat::Xml),
        (event.to_owned(), BodyFormat::Json),
    ] {
        let resp = post(
            &p,
            SEED_APPID,
            &p.sealed_message(SEED_USER_NAME, &plain, format),
        )
        .await;
        assert_eq!(
            (resp.status().as_u16(), body_text(&resp)),
            (200, "success".to_owned())
        );
    }
    let published = p.bus.published();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0].detail_type, "Authorizer Message");
    let d: Value = serde_json::from_str(&published[0].detail).unwrap();
    assert_eq!(d["component_appid"], COMPONENT);
    assert_eq!(d["authorizer_appid"], SEED_APPID);
    assert_eq!(d["msg_type"], "text");
    assert_eq!(d["from_user_name"], "o-user");
    assert_eq!(d["message"]["Content"], "hello");
    assert_eq!(d["id"], format!("{SEED_APPID}:msg:6364923474433998594"));
    let d: Value = serde_json::from_str(&published[1].detail).unwrap();
    assert_eq!(d["event"], "user_enter_tempsession");
}

#[tokio::test]
async fn hostile_messages_are_refused_by_the_contract_and_nothing_is_published() {
    let (p, good) = authorized_with_hello().await;
    let mut forged = good.clone();
    forged.0.last_mut().unwrap().1 = "0".repeat(40);
    assert_eq!(
        error_of(&post(&p, SEED_APPID, &forged).await),
        (401, json!("bad_signature"))
    );
    // Encrypted for another platform: the AppID inside is not this component's.
    let other = MsgCrypto::new(
        Secret::new(MSG_TOKEN),
        EncodingAesKey::parse(AES_KEY).unwrap(),
        None,
        ComponentAppid::parse("wxanotherplatform").unwrap(),
    );
    let wrong = sealed_message(
        &other,
        SEED_USER_NAME,
        &text(SEED_USER_NAME, "hello"),
        BodyFormat::Xml,
    );
    assert_eq!(
        error_of(&post(&p, SEED_APPID, &wrong).await),
        (403, json!("wrong_component"))
    );
    let huge = (
        good.0.clone(),
        format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(70 * 1024)),
    );
    assert_eq!(
        error_of(&post(&p, SEED_APPID, &huge).await),
        (413, json!("body_too_large"))
    );
    let garbage = (good.0.clone(), "<xml><Encrypt>".to_owned());
    assert_eq!(
        error_of(&post(&p, SEED_APPID, &garbage).await),
        (400, json!("malformed_push"))
    );
    let inner = p.sealed_message(
        SEED_USER_NAME,
        "<xml><ToUserName>gh</ToUserName><unclosed></xml>",
        BodyFormat::Xml,
    );
    assert_eq!(
        error_of(&post(&p, SEED_APPID, &inner).await),
        (400, json!("malformed_push"))
    );
    // An account that never authorized the platform, and a path without a valid AppID.
    assert_eq!(
        error_of(&post(&p, "wxnobodyknows", &good).await),
        (404, json!("unknown_authorizer"))
    );
    assert_eq!(
        error_of(&post(&p, "wx!bad", &good).await),
        (400, json!("invalid_appid"))
    );
    assert!(p.bus.published().is_empty(), "nothing was published");
    // The same message, well formed, does go out.
    assert_eq!(post(&p, SEED_APPID, &good).await.status(), 200);
    assert_eq!(p.bus.published().len(), 1);
}

#[tokio::test]
async fn a_refused_publish_is_an_error_so_wechat_delivers_again() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    p.bus.refuse_matching(Some("hello"));
    let msg = p.sealed_message(
        SEED_USER_NAME,
        &text(SEED_USER_NAME, "hello"),
        BodyFormat::Xml,
    );
    let resp = post(&p, SEED_APPID, &msg).await;
    assert!(
        resp.status().is_server_error(),
        "{} {}",
        resp.status(),
        body_text(&resp)
    );
    assert_ne!(body_text(&resp), "success");
    // WeChat's delivery again is taken (the failed one was not recorded as taken), and published.
    p.bus.refuse_matching(None);
    let again = post(&p, SEED_APPID, &msg).await;
    assert_eq!(body_text(&again), "success");
    assert_eq!(p.bus.published().len(), 1);
}

#[tokio::test]
async fn a_replayed_message_is_answered_success_and_published_once() {
    let (p, msg) = authorized_with_hello().await;
    for _ in 0..3 {
        let resp = post(&p, SEED_APPID, &msg).await;
        assert_eq!(
            (resp.status().as_u16(), body_text(&resp)),
            (200, "success".into())
        );
    }
    assert_eq!(p.bus.published().len(), 1, "published once");
}

#[tokio::test]
async fn a_message_signed_outside_the_window_is_refused_and_not_published() {
    let (p, msg) = authorized_with_hello().await;
    for days in [-2i64, 2] {
        p.clock.set(wxopen::clock::Timestamp::from_secs(
            now_secs() + days * 86_400,
        ));
        let resp = post(&p, SEED_APPID, &msg).await;
        assert_eq!(error_of(&resp), (403, json!("stale_message")));
    }
    assert!(p.bus.published().is_empty());
}

#[tokio::test]
async fn a_message_for_another_account_than_the_paths_is_refused_and_not_published() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let msg = p.sealed_message("gh_other", &text("gh_other", "hello"), BodyFormat::Xml);
    let resp = post(&p, SEED_APPID, &msg).await;
    assert_eq!(error_of(&resp), (403, json!("wrong_account")));
    assert!(p.bus.published().is_empty());
}
