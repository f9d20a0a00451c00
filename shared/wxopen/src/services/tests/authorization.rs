use super::*;
use crate::store::{AuthorizerListing, AuthorizerStore, HistoryReader};
use crate::testing::Reply;
use wxopen_models::records::{AuthorizerStatus, HistoryKind};
use wxopen_models::{AuthorizationCode, PermissionId};

#[tokio::test]
async fn start_builds_the_pc_page_with_a_pre_auth_code_and_a_signed_state() {
    let w = World::new().await;
    let url = w
        .instance()
        .authorization
        .start(&AuthorizeRequest::default())
        .await
        .unwrap();
    assert!(
        url.starts_with("https://mp.example/cgi-bin/componentloginpage?"),
        "{url}"
    );
    let q = query(&url);
    assert_eq!(q["component_appid"], "wx_component_svc");
    assert_eq!(
        q["pre_auth_code"], "pre-2",
        "the component token was issued first"
    );
    assert_eq!(q["auth_type"], "3");
    let redirect = query(&q["redirect_uri"]);
    assert!(StateSigner::new(Secret::new("s".repeat(32)))
        .verify(Some(&redirect["state"]), Timestamp::now().secs())
        .is_ok());
}

#[tokio::test]
async fn complete_refuses_a_forged_state_before_calling_wechat() {
    let w = World::new().await;
    let err = w
        .instance()
        .authorization
        .complete(Some("code-wxa"), Some("forged.state"))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::State(_)), "{err:?}");
    assert_eq!(w.wechat.count("api_query_auth"), 0);
}

#[tokio::test]
async fn complete_stores_only_the_granted_permissions_with_the_code_hash_and_history() {
    let w = World::new().await;
    let i = w.instance();
    let state = StateSigner::new(Secret::new("s".repeat(32)))
        .issue(None, Timestamp::now().secs() + 60)
        .unwrap();
    let done = i
        .authorization
        .complete(Some("code-wxgranted"), Some(&state))
        .await
        .unwrap();
    assert_eq!(
        done.record.permission_ids,
        vec![PermissionId(1), PermissionId(18)]
    );
    assert_eq!(done.record.status, AuthorizerStatus::Authorized);
    assert!(done.info.is_some(), "the result page names the account");
    let code = AuthorizationCode::new("code-wxgranted");
    assert_eq!(
        w.store.exchanged_code(&code_hash(&code)).await.unwrap(),
        Some(appid("wxgranted"))
    );
    let history = w.store.history(&appid("wxgranted")).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.kind).collect::<Vec<_>>(),
        vec![HistoryKind::Authorized]
    );
}

#[tokio::test]
async fn a_callback_that_loses_the_race_to_the_push_shows_the_stored_authorization() {
    let w = World::new().await;
    let i = w.instance();
    let code = AuthorizationCode::new("code-wxraced");
    // The push exchanged the code first.
    i.exchanger
        .exchange(&code, Timestamp::now(), None)
        .await
        .unwrap();
    let record = i.exchanger.exchange_or_find(&code, None).await.unwrap();
    assert_eq!(record.authorizer_appid, appid("wxraced"));
    // And a push after the redirect: the same record, the code sent to WeChat once.
    let again = i
        .exchanger
        .exchange(&code, Timestamp::now(), None)
        .await
        .unwrap();
    assert_eq!(again.authorizer_appid, appid("wxraced"));
    assert_eq!(w.wechat.count("api_query_auth"), 1, "the code is sent once");
}

#[tokio::test]
async fn a_code_wechat_refuses_costs_one_query_and_is_answered_without_waiting() {
    let w = World::new().await;
    let i = w.instance();
    w.wechat.script("api_query_auth", [Reply::Errcode(61009)]);
    let started = std::time::Instant::now();
    let err = i
        .exchanger
        .exchange_or_find(&AuthorizationCode::new("code-wxjunk"), None)
        .await
        .unwrap_err();
    assert_eq!(err, ServiceError::WeChat(WeChatError::AuthCodeInvalid));
    assert!(
        started.elapsed() < CONCURRENT_EXCHANGE_WAIT / 3,
        "answered in {:?}: nobody else was exchanging the code",
        started.elapsed()
    );
    assert_eq!(w.wechat.count("api_query_auth"), 1);
    // The failed exchange's claim is released: the same code may be tried again at once.
    let record = i
        .exchanger
        .exchange_or_find(&AuthorizationCode::new("code-wxjunk"), None)
        .await
        .unwrap();
    assert_eq!(record.authorizer_appid, appid("wxjunk"));
}

#[tokio::test]
async fn listing_refuses_a_cursor_it_did_not_issue() {
    let w = World::new().await;
    let i = w.instance();
    for app in ["wxa1", "wxa2", "wxa3"] {
        i.authorized(app, Timestamp::now()).await;
    }
    let first = i.authorizers.list(None, 2).await.unwrap();
    let next = first.next_cursor.clone().expect("a second page");
    assert_eq!(
        i.authorizers
            .list(Some(next.as_str()), 2)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    for bad in ["wxnever", "not an appid/..", "wxa1x"] {
        let err = i.authorizers.list(Some(bad), 2).await.unwrap_err();
        assert!(
            matches!(err, ServiceError::UnknownCursor(_)),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains("next_cursor"), "{err}");
    }
    assert!(w.store.list_authorizers(None, 10).await.unwrap().is_some());
}

#[tokio::test]
async fn info_is_a_named_error_for_unknown_and_revoked_authorizers() {
    let w = World::new().await;
    let i = w.instance();
    let err = i
        .authorizers
        .info(&appid("wxnobody"), InfoRead::LIVE)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ServiceError::Authorizer(crate::tokens::AuthorizerError::Unknown(appid("wxnobody")))
    );
    i.authorized("wxgone", Timestamp::from_secs(1)).await;
    w.store
        .revoke_authorizer(&appid("wxgone"), Timestamp::now(), Timestamp::now())
        .await
        .unwrap();
    let err = i
        .authorizers
        .info(&appid("wxgone"), InfoRead::LIVE)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ServiceError::Authorizer(crate::tokens::AuthorizerError::Revoked(appid("wxgone")))
    );
    assert_eq!(w.wechat.count("api_get_authorizer_info"), 0);
}

#[tokio::test]
async fn info_serves_a_young_snapshot_without_calling_wechat() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxinfo", Timestamp::now()).await;
    let live = i
        .authorizers
        .info(&appid("wxinfo"), InfoRead::LIVE)
        .await
        .unwrap();
    assert_eq!(live.info_source, InfoSource::Live);
    let cached = i
        .authorizers
        .info(&appid("wxinfo"), InfoRead::at_most(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(cached.info_source, InfoSource::Snapshot);
    assert_eq!(w.wechat.count("api_get_authorizer_info"), 1);
}

#[tokio::test]
async fn a_live_lookup_that_opts_out_of_snapshots_saves_none() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxnosnap", Timestamp::now()).await;
    let read = InfoRead {
        max_age: Duration::ZERO,
        save_snapshot: false,
    };
    let view = i.authorizers.info(&appid("wxnosnap"), read).await.unwrap();
    assert_eq!(view.info_source, InfoSource::Live);
    let stored = w.store.load_authorizer(&appid("wxnosnap")).await.unwrap();
    assert_eq!(stored.unwrap().info, None, "no snapshot was written");
}
