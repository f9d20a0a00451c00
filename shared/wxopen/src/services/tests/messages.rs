use super::*;

use crate::msg_crypto::PushError;
use crate::store::{AuthorizerStore, HistoryChange, StoreError};
use crate::testing::SEED_USER_NAME;
use crate::tokens::AuthorizerError;
use wxopen_models::messages::{AuthorizerMessage, BodyFormat};
use wxopen_models::records::{HistoryEntry, HistoryKind};
use wxopen_models::PermissionId;

/// The Official Account of the release test's first group.
const TEST_OA: &str = "wx570bc396a51b8ff8";

fn text(to: &str, content: &str) -> String {
    format!("<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[o-user]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>42</MsgId></xml>")
}

async fn send(
    i: &Instance,
    to_appid: &str,
    plain: &str,
    format: BodyFormat,
) -> Result<MessageAnswer, ServiceError> {
    let sealed = i.crypto.seal_message(
        plain,
        SEED_USER_NAME,
        format,
        &crate::clock::now_secs().to_string(),
        "nonce",
    );
    i.messages.handle(&appid(to_appid), &signed(&sealed)).await
}

fn reply_text(i: &Instance, answer: MessageAnswer) -> (String, BodyFormat) {
    let MessageAnswer::Reply(body) = answer else {
        panic!("expected a passive reply, got {answer:?}");
    };
    let (plain, format) = i
        .crypto
        .open_reply(&body)
        .expect("a signed, encrypted reply");
    let reply = AuthorizerMessage::parse(&plain, format).unwrap();
    assert_eq!(
        reply.to_user_name, "o-user",
        "the reply goes back to the sender"
    );
    (reply.content.unwrap(), format)
}

#[tokio::test]
async fn the_release_tests_text_and_event_cases_are_answered_for_an_unstored_test_account() {
    let w = World::new().await;
    let i = w.instance();
    let answer = send(
        &i,
        TEST_OA,
        &text("gh_3c884a361561", "TESTCOMPONENT_MSG_TYPE_TEXT"),
        BodyFormat::Xml,
    )
    .await
    .unwrap();
    assert_eq!(
        reply_text(&i, answer),
        (
            "TESTCOMPONENT_MSG_TYPE_TEXT_callback".into(),
            BodyFormat::Xml
        )
    );
    let event = "<xml><ToUserName>gh_3c884a361561</ToUserName><FromUserName>o-user</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>LOCATION</Event></xml>";
    let answer = send(&i, TEST_OA, event, BodyFormat::Xml).await.unwrap();
    assert_eq!(reply_text(&i, answer).0, "LOCATIONfrom_callback");
    let json = r#"{"ToUserName":"gh_3c884a361561","FromUserName":"o-user","CreateTime":1,"MsgType":"text","Content":"TESTCOMPONENT_MSG_TYPE_TEXT"}"#;
    let answer = send(&i, TEST_OA, json, BodyFormat::Json).await.unwrap();
    assert_eq!(
        reply_text(&i, answer).1,
        BodyFormat::Json,
        "a JSON message gets a JSON reply"
    );
    assert!(
        w.publisher.published().is_empty(),
        "release-test cases are not published"
    );
    assert_eq!(w.wechat.total(), 0, "no WeChat call for a passive reply");
}

#[tokio::test]
async fn the_query_auth_code_case_stores_the_account_and_sends_with_its_own_token() {
    let w = World::new().await;
    let i = w.instance();
    let content = format!("QUERY_AUTH_CODE:code-{TEST_OA}");
    let answer = send(
        &i,
        TEST_OA,
        &text("gh_3c884a361561", &content),
        BodyFormat::Xml,
    )
    .await
    .unwrap();
    assert_eq!(answer, MessageAnswer::Empty);
    let sent = w.wechat.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let (token, msg) = &sent[0];
    assert_eq!(
        token,
        &format!("at-{TEST_OA}"),
        "the authorizer's token from the exchange"
    );
    assert_eq!(msg.touser, "o-user");
    assert_eq!(msg.text.content, format!("code-{TEST_OA}_from_api"));
    assert_eq!(w.wechat.count("api_query_auth"), 1);
    assert_eq!(
        w.wechat.count("api_authorizer_token"),
        0,
        "the exchange's token is used, not a refresh"
    );
    let stored = w
        .store
        .load_authorizer(&appid(TEST_OA))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.record.status,
        wxopen_models::records::AuthorizerStatus::Authorized
    );
}

#[tokio::test]
async fn a_message_for_an_authorizer_is_published_and_others_are_refused_unpublished() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxstored", Timestamp::now()).await;
    let answer = send(
        &i,
        "wxstored",
        &text(SEED_USER_NAME, "hello"),
        BodyFormat::Xml,
    )
    .await
    .unwrap();
    assert_eq!(answer, MessageAnswer::Published);
    let published = w.publisher.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].detail_type, "Authorizer Message");
    let detail: serde_json::Value = serde_json::from_str(&published[0].detail).unwrap();
    assert_eq!(detail["id"], "wxstored:msg:42");
    assert_eq!(detail["authorizer_appid"], "wxstored");
    assert_eq!(detail["message"]["Content"], "hello");

    let unknown = send(
        &i,
        "wxunknown",
        &text(SEED_USER_NAME, "hello"),
        BodyFormat::Xml,
    )
    .await;
    assert!(matches!(
        unknown,
        Err(ServiceError::Authorizer(AuthorizerError::Unknown(_)))
    ));
    let sealed = i.crypto.seal(
        "<xml><AppId>wx_component_svc</AppId><CreateTime>2000000000</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxstored</AuthorizerAppid></xml>",
        "1",
        "n",
    );
    i.pushes.handle(&signed(&sealed)).await.unwrap();
    // A new message (the first one, replayed, would be answered as already taken).
    let revoked = send(
        &i,
        "wxstored",
        &text(SEED_USER_NAME, "hello").replace("<MsgId>42</MsgId>", "<MsgId>43</MsgId>"),
        BodyFormat::Xml,
    )
    .await;
    assert!(matches!(
        revoked,
        Err(ServiceError::Authorizer(AuthorizerError::Revoked(_)))
    ));
    assert_eq!(
        w.publisher.published().len(),
        1,
        "nothing more was published"
    );
}

#[tokio::test]
async fn a_message_that_cannot_be_published_is_an_error_so_wechat_sends_it_again() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxstored", Timestamp::now()).await;
    w.publisher.refuse_matching(Some("wxstored"));
    let err = send(
        &i,
        "wxstored",
        &text(SEED_USER_NAME, "hello"),
        BodyFormat::Xml,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ServiceError::Publish(_)), "{err:?}");
}

/// The stream of the table the notifier reads.
const STREAM: &str =
    "arn:aws:dynamodb:us-east-1:123456789012:table/wxopen-state/stream/2026-12-01T00:00:00.000";

fn change(appid_: &str, kind: HistoryKind, at_ms: i64) -> HistoryChange {
    HistoryChange {
        key: format!(
            "component#wx_component_svc#history#{appid_}/{at_ms}#{}#1",
            kind.as_str()
        ),
        component_appid: component(),
        authorizer_appid: appid(appid_),
        entry: HistoryEntry {
            kind,
            at_ms,
            permission_ids: vec![PermissionId(1)],
            ext: None,
        },
    }
}

#[tokio::test]
async fn a_batch_that_fails_part_way_reports_only_the_failed_and_redelivery_keeps_the_ids() {
    let w = World::new().await;
    let origin = StreamOrigin {
        table_name: "wxopen-state".into(),
        component: component(),
    };
    let notifier = Notifier::new(Arc::new(w.publisher.clone()), origin);
    let items = vec![
        StreamItem {
            source_arn: Some(STREAM.into()),
            item_id: "1".into(),
            change: Ok(Some(change("wxa", HistoryKind::Authorized, 1))),
        },
        StreamItem {
            source_arn: Some(STREAM.into()),
            item_id: "2".into(),
            change: Ok(Some(change("wxb", HistoryKind::PermissionsChanged, 2))),
        },
        StreamItem {
            source_arn: Some(STREAM.into()),
            item_id: "3".into(),
            change: Ok(Some(change("wxa", HistoryKind::RefreshTokenReplaced, 3))),
        },
        StreamItem {
            source_arn: Some(STREAM.into()),
            item_id: "4".into(),
            change: Ok(None),
        },
        StreamItem {
            source_arn: Some(STREAM.into()),
            item_id: "5".into(),
            change: Err(StoreError::Corrupt {
                key: "h".into(),
                reason: "unreadable".into(),
            }),
        },
        StreamItem {
            source_arn: Some(STREAM.into()),
            item_id: "6".into(),
            change: Ok(Some(change("wxa", HistoryKind::Revoked, 6))),
        },
    ];
    w.publisher.refuse_matching(Some("wxb"));
    let failed = notifier.publish(&items).await.unwrap();
    assert_eq!(failed, vec!["5".to_owned(), "2".to_owned()]);
    let first: Vec<_> = w.publisher.published();
    assert_eq!(
        first.iter().map(|e| e.detail_type).collect::<Vec<_>>(),
        ["Authorizer Authorized", "Authorizer Revoked"],
        "the rest went out; a replaced refresh token stays internal"
    );
    // Lambda delivers the batch again from the first failed record.
    w.publisher.refuse_matching(None);
    let failed = notifier.publish(&items[1..]).await.unwrap();
    assert_eq!(failed, vec!["5".to_owned()]);
    let ids = |kind: &str| -> Vec<String> {
        w.publisher
            .published()
            .iter()
            .filter(|e| e.detail_type == kind)
            .map(|e| {
                serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(ids("Authorizer Updated").len(), 1);
    let revoked = ids("Authorizer Revoked");
    assert_eq!(revoked.len(), 2, "delivered again");
    assert_eq!(revoked[0], revoked[1], "with the same id");
}

#[tokio::test]
async fn a_message_whose_account_is_not_the_paths_is_refused_and_the_account_looked_up_once() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxstored", Timestamp::now()).await;
    // Signed for another account (its original id), posted to wxstored's URL.
    let other = send(
        &i,
        "wxstored",
        &text("gh_another_account", "hello"),
        BodyFormat::Xml,
    )
    .await;
    assert!(
        matches!(
            other,
            Err(ServiceError::Push(PushError::WrongAccount { .. }))
        ),
        "{other:?}"
    );
    assert!(w.publisher.published().is_empty(), "nothing was published");
    // Refused, so not taken: the same message at the right account's URL would be.
    for id in [42, 43] {
        let own = text(SEED_USER_NAME, "hello")
            .replace("<MsgId>42</MsgId>", &format!("<MsgId>{id}</MsgId>"));
        let answer = send(&i, "wxstored", &own, BodyFormat::Xml).await.unwrap();
        assert_eq!(answer, MessageAnswer::Published);
    }
    assert_eq!(
        w.wechat.count("api_get_authorizer_info"),
        1,
        "the original id is read once, then from the stored snapshot"
    );
}
