//! `messages`: the message URL's handler against DynamoDB Local and EventBridge/SQS on moto.

use super::support::*;
use integration_tests::bus::Bus;
use wxopen_models::messages::BodyFormat;

const TEST_OA: &str = "wx9252c5e0bb1836fc";

fn text(to: &str, content: &str) -> String {
    format!("<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[o-user]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>6364923474433998594</MsgId></xml>", now_secs())
}

async fn env_with_bus() -> (TestEnv, Bus) {
    let bus = Bus::create().await;
    let env = TestEnv::with(&[("EVENT_BUS_NAME", bus.name.as_str())]).await;
    (env, bus)
}

#[tokio::test]
async fn the_release_tests_text_case_is_a_reply_wechatpy_decrypts() {
    let (env, bus) = env_with_bus().await;
    let push = seal_message(
        "gh_c0f28a78b318",
        &text("gh_c0f28a78b318", "TESTCOMPONENT_MSG_TYPE_TEXT"),
        BodyFormat::Xml,
    );
    let resp = post_message(&env.services, TEST_OA, &push).await;
    assert_eq!(resp.status(), 200, "{}", body_text(&resp));
    let reply = open_reply_with_wechatpy(&body_text(&resp));
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
    assert!(bus.received(0, Duration::from_millis(500)).await.is_empty());
}

#[tokio::test]
async fn a_users_message_is_published_with_its_detail_and_answered_success() {
    let (env, bus) = env_with_bus().await;
    store_authorizer(&env, SEED_APPID).await;
    for format in [BodyFormat::Xml, BodyFormat::Json] {
        let plain = match format {
            BodyFormat::Xml => text("gh_account", "hello"),
            BodyFormat::Json => r#"{"ToUserName":"gh_account","FromUserName":"o-user","CreateTime":1700000000,"MsgType":"event","Event":"user_enter_tempsession"}"#.to_owned(),
        };
        let resp = post_message(
            &env.services,
            SEED_APPID,
            &seal_message("gh_account", &plain, format),
        )
        .await;
        assert_eq!(
            (resp.status().as_u16(), body_text(&resp)),
            (200, "success".to_owned())
        );
    }
    let events = bus.received(2, Duration::from_secs(10)).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let text_event = &events[0];
    assert_eq!(text_event["source"], "wxopen");
    assert_eq!(text_event["detail-type"], "Authorizer Message");
    let d = &text_event["detail"];
    assert_eq!(d["component_appid"], COMPONENT);
    assert_eq!(d["authorizer_appid"], SEED_APPID);
    assert_eq!(d["msg_type"], "text");
    assert_eq!(d["from_user_name"], "o-user");
    assert_eq!(d["message"]["Content"], "hello");
    assert_eq!(d["id"], format!("{SEED_APPID}:msg:6364923474433998594"));
    assert_eq!(events[1]["detail"]["event"], "user_enter_tempsession");
}

#[tokio::test]
async fn hostile_messages_are_refused_by_the_contract_and_nothing_is_published() {
    let (env, bus) = env_with_bus().await;
    store_authorizer(&env, SEED_APPID).await;
    let good = seal_message("gh_account", &text("gh_account", "hello"), BodyFormat::Xml);

    // A bad signature.
    let mut forged = WeChatPush {
        body: good.body.clone(),
        query: good.query.clone(),
    };
    forged.query.last_mut().unwrap().1 = "0".repeat(40);
    let resp = post_message(&env.services, SEED_APPID, &forged).await;
    assert_eq!(error_of(&resp), (401, json!("bad_signature")));

    // Encrypted for another platform: the AppID inside is not this component's.
    let other = wxopen::msg_crypto::MsgCrypto::new(
        wxopen_models::Secret::new(MSG_TOKEN),
        wxopen::msg_crypto::EncodingAesKey::parse(AES_KEY).unwrap(),
        None,
        wxopen_models::ComponentAppid::parse("wxanotherplatform").unwrap(),
    );
    let sealed = other.seal_message(
        &text("gh_account", "hello"),
        "gh_account",
        BodyFormat::Xml,
        "1700000000",
        "n1",
    );
    let wrong = WeChatPush {
        body: sealed.body,
        query: vec![
            ("timestamp".into(), sealed.timestamp),
            ("nonce".into(), sealed.nonce),
            ("encrypt_type".into(), "aes".into()),
            ("msg_signature".into(), sealed.msg_signature),
        ],
    };
    let resp = post_message(&env.services, SEED_APPID, &wrong).await;
    assert_eq!(error_of(&resp), (403, json!("wrong_component")));

    // A huge body.
    let huge = WeChatPush {
        body: format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(70 * 1024)),
        query: good.query.clone(),
    };
    let resp = post_message(&env.services, SEED_APPID, &huge).await;
    assert_eq!(error_of(&resp), (413, json!("body_too_large")));

    // Garbage outside, and garbage inside a valid envelope.
    let garbage = WeChatPush {
        body: "<xml><Encrypt>".into(),
        query: good.query.clone(),
    };
    let resp = post_message(&env.services, SEED_APPID, &garbage).await;
    assert_eq!(error_of(&resp), (400, json!("malformed_push")));
    let inner = seal_message(
        "gh_account",
        "<xml><ToUserName>gh</ToUserName><unclosed></xml>",
        BodyFormat::Xml,
    );
    let resp = post_message(&env.services, SEED_APPID, &inner).await;
    assert_eq!(error_of(&resp), (400, json!("malformed_push")));

    // An account that never authorized the platform, and a path without an AppID.
    let resp = post_message(&env.services, "wxnobodyknows", &good).await;
    assert_eq!(error_of(&resp), (404, json!("unknown_authorizer")));
    let resp = post_message(&env.services, "wx!bad", &good).await;
    assert_eq!(error_of(&resp), (400, json!("invalid_appid")));

    assert!(
        bus.received(0, Duration::from_secs(1)).await.is_empty(),
        "nothing was published"
    );
    // The same message, well formed, does go out: the queue was listening.
    let resp = post_message(&env.services, SEED_APPID, &good).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(bus.received(1, Duration::from_secs(10)).await.len(), 1);
}
