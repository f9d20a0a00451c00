use super::*;
use crate::msg_crypto::{PushError, SealedPush, SignedPush};
use wxopen_models::records::AuthorizerStatus;

fn xml(info_type: &str, create_time: i64, fields: &str) -> String {
    format!("<xml><AppId><![CDATA[wx_component_svc]]></AppId><CreateTime>{create_time}</CreateTime><InfoType><![CDATA[{info_type}]]></InfoType>{fields}</xml>")
}

/// The push as WeChat sends `sealed`, but with the query's `timestamp` given.
fn signed<'a>(sealed: &'a SealedPush, timestamp: &'a str) -> SignedPush<'a> {
    SignedPush {
        timestamp: Some(timestamp),
        nonce: Some(&sealed.nonce),
        msg_signature: Some(&sealed.msg_signature),
        encrypt_type: Some("aes"),
        body: sealed.body.as_bytes(),
    }
}

async fn push(i: &Instance, plain: &str) -> Result<PushOutcome, ServiceError> {
    let sealed = i.crypto.seal(plain, "1700000000", "nonce");
    i.pushes.handle(&signed(&sealed, &sealed.timestamp)).await
}

#[tokio::test]
async fn a_ticket_push_is_stored_unless_an_older_one_and_a_forged_one_is_refused() {
    let w = World::without_ticket();
    let i = w.instance();
    let ticket = |t: i64| {
        xml(
            "component_verify_ticket",
            t,
            &format!("<ComponentVerifyTicket><![CDATA[ticket-{t}]]></ComponentVerifyTicket>"),
        )
    };
    assert_eq!(
        push(&i, &ticket(200)).await.unwrap(),
        PushOutcome::TicketStored
    );
    assert_eq!(
        push(&i, &ticket(100)).await.unwrap(),
        PushOutcome::TicketStale
    );
    let stored = w.store.load_ticket().await.unwrap().unwrap();
    assert_eq!(stored.ticket.expose(), "ticket-200");

    let sealed = i.crypto.seal(&ticket(300), "1700000000", "nonce");
    let forged = signed(&sealed, "1700000001");
    assert!(matches!(
        i.pushes.handle(&forged).await,
        Err(ServiceError::Push(PushError::BadSignature(_)))
    ));
    let kept = w.store.load_ticket().await.unwrap().unwrap();
    assert_eq!(
        kept.ticket.expose(),
        "ticket-200",
        "a forged push changes nothing"
    );
}

#[tokio::test]
async fn a_push_for_another_component_is_refused() {
    let w = World::new().await;
    let i = w.instance();
    let other = MsgCrypto::new(
        Secret::new("msg-token"),
        EncodingAesKey::parse(AES_KEY).unwrap(),
        None,
        ComponentAppid::parse("wx_other").unwrap(),
    );
    let sealed = other.seal("<xml/>", "1", "n");
    let foreign = signed(&sealed, "1");
    assert!(matches!(
        i.pushes.handle(&foreign).await,
        Err(ServiceError::Push(PushError::WrongComponent { .. }))
    ));
}

#[tokio::test]
async fn authorized_then_unauthorized_pushes_store_and_revoke_and_a_stale_revocation_is_ignored() {
    let w = World::new().await;
    let i = w.instance();
    let now = Timestamp::now().secs();
    let authorized = xml("authorized", now, "<AuthorizerAppid><![CDATA[wxpushed]]></AuthorizerAppid><AuthorizationCode><![CDATA[code-wxpushed]]></AuthorizationCode><PreAuthCode><![CDATA[p]]></PreAuthCode>");
    assert!(matches!(
        push(&i, &authorized).await.unwrap(),
        PushOutcome::Authorized(_)
    ));
    // The same push again (WeChat's redelivery, or the redirect exchanged the code): the
    // stored authorization, the code not sent again.
    let PushOutcome::Authorized(again) = push(&i, &authorized).await.unwrap() else {
        panic!("the stored authorization answers a redelivered push");
    };
    assert_eq!(again.authorizer_appid, appid("wxpushed"));
    assert_eq!(w.wechat.count("api_query_auth"), 1);
    let revoke = |t: i64| {
        xml(
            "unauthorized",
            t,
            "<AuthorizerAppid><![CDATA[wxpushed]]></AuthorizerAppid>",
        )
    };
    let stale = push(&i, &revoke(now - 100)).await.unwrap();
    assert!(
        matches!(stale, PushOutcome::Revoked(Some(ref r)) if r.status == AuthorizerStatus::Authorized),
        "{stale:?}"
    );
    let revoked = push(&i, &revoke(now + 1)).await.unwrap();
    assert!(
        matches!(revoked, PushOutcome::Revoked(Some(ref r)) if r.status == AuthorizerStatus::Revoked),
        "{revoked:?}"
    );
    let stored = w.stored("wxpushed").await;
    assert_eq!(
        (stored.record.status, stored.refresh_token),
        (AuthorizerStatus::Revoked, None)
    );
}
