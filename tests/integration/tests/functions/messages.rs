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
    // wechatpy opens the reply (its fields are pinned by the messages function's own tests).
    let reply = open_reply_with_wechatpy(&body_text(&resp));
    assert!(
        reply.contains("TESTCOMPONENT_MSG_TYPE_TEXT_callback"),
        "{reply}"
    );
    assert!(bus.received(0, Duration::from_millis(500)).await.is_empty());
}

#[tokio::test]
async fn a_users_messages_reach_the_bus_through_eventbridge_in_both_formats() {
    let (env, bus) = env_with_bus().await;
    env.seed_ticket().await;
    store_authorizer(&env, SEED_APPID).await;
    for format in [BodyFormat::Xml, BodyFormat::Json] {
        let plain = match format {
            BodyFormat::Xml => text("gh_eb5e3a772040", "hello"),
            BodyFormat::Json => r#"{"ToUserName":"gh_eb5e3a772040","FromUserName":"o-user","CreateTime":1700000000,"MsgType":"event","Event":"user_enter_tempsession"}"#.to_owned(),
        };
        let resp = post_message(
            &env.services,
            SEED_APPID,
            &seal_message("gh_eb5e3a772040", &plain, format),
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
    // The detail's fields are pinned by the messages function's own tests; here, that EventBridge
    // carries it whole.
    assert_eq!(
        text_event["detail"]["id"],
        format!("{SEED_APPID}:msg:6364923474433998594")
    );
    assert_eq!(events[1]["detail"]["event"], "user_enter_tempsession");
}
