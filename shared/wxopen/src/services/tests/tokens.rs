use super::*;
use crate::store::{AuthorizerStore, TokenKey, TokenStore};
use crate::tokens::{AuthorizerError, RefreshError};
use wxopen_models::records::AuthorizerStatus;

#[tokio::test]
async fn concurrent_requests_on_two_instances_refresh_an_authorizer_token_once() {
    let w = World::new().await;
    w.authorized_with_expired_token("wxstorm").await;
    let (a, b) = (Arc::new(w.instance()), Arc::new(w.instance()));
    let mut tasks = Vec::new();
    for n in 0..32 {
        let i = if n % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            i.authorizers.token(&appid("wxstorm"), None).await
        }));
    }
    let mut tokens = HashSet::new();
    for t in tasks {
        tokens.insert(
            t.await
                .unwrap()
                .unwrap()
                .authorizer_access_token
                .expose()
                .to_owned(),
        );
    }
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(w.wechat.count("api_authorizer_token"), 1);
    assert_eq!(w.wechat.count("api_component_token"), 1);
}

#[tokio::test]
async fn a_refused_refresh_token_marks_needs_reauth_and_keeps_the_token() {
    let w = World::new().await;
    w.authorized_with_expired_token("wxrefused").await;
    w.wechat.refresh_refused.store(true, Ordering::SeqCst);
    let i = w.instance();
    let err = i
        .authorizers
        .token(&appid("wxrefused"), None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ServiceError::Authorizer(AuthorizerError::NeedsReauth(appid("wxrefused")))
    );
    let stored = w.stored("wxrefused").await;
    assert_eq!(stored.record.status, AuthorizerStatus::NeedsReauth);
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        "rt-wxrefused",
        "nothing is deleted"
    );
    // The next request fails at once, without asking WeChat again.
    i.authorizers
        .token(&appid("wxrefused"), None)
        .await
        .unwrap_err();
    assert_eq!(w.wechat.count("api_authorizer_token"), 1);
}

#[tokio::test]
async fn a_rotated_refresh_token_is_stored_before_the_access_token_is_handed_out() {
    let w = World::new().await;
    w.authorized_with_expired_token("wxrotate").await;
    w.wechat.rotate_refresh.store(true, Ordering::SeqCst);
    let grant = w
        .instance()
        .authorizers
        .token(&appid("wxrotate"), None)
        .await
        .unwrap();
    let stored = w.stored("wxrotate").await;
    assert!(stored
        .refresh_token
        .unwrap()
        .expose()
        .starts_with("rt-rotated-"));
    assert_eq!(stored.access.unwrap().token, grant.authorizer_access_token);
    assert!(
        !format!("{grant:?}").contains(grant.authorizer_access_token.expose()),
        "Debug redacts the token"
    );
}

#[tokio::test]
async fn a_refused_component_token_is_dropped_refetched_and_the_call_retried_once() {
    let w = World::new().await;
    let i = w.instance();
    let first = i.tokens.component_token().await.unwrap();
    *w.wechat.refuse_token_once.lock().unwrap() = Some(first.token.expose().to_owned());
    i.authorization
        .start(&AuthorizeRequest::default())
        .await
        .unwrap();
    assert_eq!(w.wechat.count("api_create_preauthcode"), 2);
    assert_eq!(w.wechat.count("api_component_token"), 2);
    let now = i.tokens.stored_component_token().await.unwrap().unwrap();
    assert_ne!(now.token, first.token);
}

#[tokio::test]
async fn a_reported_token_is_dropped_only_while_it_is_still_the_stored_one() {
    let w = World::new().await;
    w.authorized_with_expired_token("wxreport").await;
    let i = w.instance();
    let first = i.authorizers.token(&appid("wxreport"), None).await.unwrap();
    let stale = AccessToken::new("at-older");
    let same = i
        .authorizers
        .token(&appid("wxreport"), Some(&stale))
        .await
        .unwrap();
    assert_eq!(same.authorizer_access_token, first.authorizer_access_token);
    let renewed = i
        .authorizers
        .token(&appid("wxreport"), Some(&first.authorizer_access_token))
        .await
        .unwrap();
    assert_ne!(
        renewed.authorizer_access_token,
        first.authorizer_access_token
    );
    assert_eq!(w.wechat.count("api_authorizer_token"), 2);
}

#[tokio::test]
async fn no_ticket_is_a_named_error_without_a_token_call() {
    let w = World::without_ticket();
    let err = w.instance().tokens.component_token().await.unwrap_err();
    assert_eq!(err, ServiceError::Refresh(RefreshError::TicketMissing));
    assert_eq!(w.wechat.count("api_component_token"), 0);
    assert_eq!(
        w.store
            .load_slot(&TokenKey::Component)
            .await
            .unwrap()
            .unwrap()
            .lease,
        None,
        "the lease is released"
    );
}

#[tokio::test]
async fn no_ticket_asks_wechat_to_push_one_once_across_instances() {
    let w = World::without_ticket();
    for _ in 0..3 {
        for instance in [w.instance(), w.instance()] {
            let err = instance.tokens.component_token().await.unwrap_err();
            assert_eq!(err, ServiceError::Refresh(RefreshError::TicketMissing));
        }
    }
    assert_eq!(w.wechat.count("api_start_push_ticket"), 1);
    assert_eq!(w.wechat.count("api_component_token"), 0);
}

#[tokio::test]
async fn unknown_and_revoked_authorizers_get_named_errors_without_calling_wechat() {
    let w = World::new().await;
    w.authorized_with_expired_token("wxrevoked").await;
    w.store
        .revoke_authorizer(&appid("wxrevoked"), Timestamp::now(), Timestamp::now())
        .await
        .unwrap();
    let i = w.instance();
    let revoked = i
        .authorizers
        .token(&appid("wxrevoked"), None)
        .await
        .unwrap_err();
    assert_eq!(
        revoked,
        ServiceError::Authorizer(AuthorizerError::Revoked(appid("wxrevoked")))
    );
    let unknown = i
        .authorizers
        .token(&appid("wxnobody"), None)
        .await
        .unwrap_err();
    assert_eq!(
        unknown,
        ServiceError::Authorizer(AuthorizerError::Unknown(appid("wxnobody")))
    );
    assert_eq!(w.wechat.count("api_authorizer_token"), 0);
}
