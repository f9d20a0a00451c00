//! The DynamoDB store against a real DynamoDB-compatible server (moto on loopback): every item
//! and every conditional path.

use integration_tests::dynamo;
use wxopen::clock::now_ms;
use wxopen::store::{
    CachedToken, DynamoStore, InfoSnapshot, NewAuthorization, RecoverOutcome, Store, TicketSave,
};
use wxopen_models::records::{AuthorizerStatus, HistoryKind};
use wxopen_models::{
    AccessToken, AuthorizerAppid, ComponentAppid, PermissionId, RefreshToken, VerifyTicket,
};

async fn store() -> DynamoStore {
    let client = dynamo::client().await;
    let table = dynamo::create_table(&client).await;
    DynamoStore::new(client, table)
}

fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_a").unwrap()
}

fn appid(s: &str) -> AuthorizerAppid {
    AuthorizerAppid::parse(s).unwrap()
}

fn auth(app: &str, refresh: Option<&str>, perms: &[u32]) -> NewAuthorization {
    NewAuthorization {
        authorizer_appid: appid(app),
        refresh_token: refresh.map(RefreshToken::new),
        access: Some(CachedToken {
            token: AccessToken::new(format!("access-of-{app}")),
            expires_at: 4_000_000_000,
        }),
        permission_ids: perms.iter().copied().map(PermissionId).collect(),
    }
}

#[tokio::test]
async fn a_newer_ticket_replaces_an_older_one_and_an_older_or_replayed_one_is_ignored() {
    let s = store().await;
    let c = component();
    assert_eq!(s.load_ticket(&c).await.unwrap(), None);
    assert_eq!(
        s.save_ticket(&c, &VerifyTicket::new("t100"), 100)
            .await
            .unwrap(),
        TicketSave::Saved
    );
    assert_eq!(
        s.save_ticket(&c, &VerifyTicket::new("t200"), 200)
            .await
            .unwrap(),
        TicketSave::Saved
    );
    assert_eq!(
        s.save_ticket(&c, &VerifyTicket::new("t150"), 150)
            .await
            .unwrap(),
        TicketSave::Stale {
            stored_create_time: 200
        }
    );
    assert_eq!(
        s.save_ticket(&c, &VerifyTicket::new("t200-replay"), 200)
            .await
            .unwrap(),
        TicketSave::Stale {
            stored_create_time: 200
        }
    );
    let stored = s.load_ticket(&c).await.unwrap().unwrap();
    assert_eq!((stored.ticket.expose(), stored.create_time), ("t200", 200));
}

#[tokio::test]
async fn items_of_one_component_are_invisible_to_another() {
    let s = store().await;
    let a = component();
    let b = ComponentAppid::parse("wx_component_b").unwrap();
    s.save_ticket(&a, &VerifyTicket::new("ticket-a"), 1)
        .await
        .unwrap();
    s.save_authorization(&a, &auth("wxapp1", Some("r1"), &[1]), 1, now_ms())
        .await
        .unwrap();
    assert_eq!(s.load_ticket(&b).await.unwrap(), None);
    assert_eq!(s.load_authorizer(&b, &appid("wxapp1")).await.unwrap(), None);
    assert!(s
        .list_authorizers(&b, None, 10)
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn component_token_lease_admits_one_holder_and_only_the_holder_writes() {
    let s = store().await;
    let c = component();
    let now = now_ms();
    assert!(s
        .lease_component_token(&c, "A", now, now + 10_000)
        .await
        .unwrap()
        .is_some());
    assert!(s
        .lease_component_token(&c, "B", now, now + 10_000)
        .await
        .unwrap()
        .is_none());
    // The holder may take it again (a retry of its own).
    assert!(s
        .lease_component_token(&c, "A", now, now + 10_000)
        .await
        .unwrap()
        .is_some());

    let token = CachedToken {
        token: AccessToken::new("ct-1"),
        expires_at: 4_000_000_000,
    };
    assert!(
        !s.store_component_token(&c, "B", &token).await.unwrap(),
        "a non-holder must not write"
    );
    assert_eq!(s.load_component_token(&c).await.unwrap().token, None);
    assert!(s.store_component_token(&c, "A", &token).await.unwrap());
    let slot = s.load_component_token(&c).await.unwrap();
    assert_eq!(slot.token, Some(token.clone()));
    assert_eq!(slot.lease, None, "a successful write clears the lease");
    // A slow former holder whose lease was cleared cannot overwrite the newer token.
    let stale = CachedToken {
        token: AccessToken::new("ct-stale"),
        expires_at: 4_000_000_001,
    };
    assert!(!s.store_component_token(&c, "A", &stale).await.unwrap());
    assert_eq!(s.load_component_token(&c).await.unwrap().token, Some(token));
}

#[tokio::test]
async fn a_lapsed_lease_can_be_taken_over_and_a_released_one_at_once() {
    let s = store().await;
    let c = component();
    let now = now_ms();
    assert!(s
        .lease_component_token(&c, "dead", now, now + 100)
        .await
        .unwrap()
        .is_some());
    assert!(s
        .lease_component_token(&c, "B", now + 50, now + 10_000)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .lease_component_token(&c, "B", now + 101, now + 10_000)
        .await
        .unwrap()
        .is_some());
    s.release_component_lease(&c, "dead").await.unwrap(); // not the holder: no effect
    assert!(s
        .lease_component_token(&c, "C", now + 200, now + 10_000)
        .await
        .unwrap()
        .is_none());
    s.release_component_lease(&c, "B").await.unwrap();
    assert!(s
        .lease_component_token(&c, "C", now + 200, now + 10_000)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_token_is_dropped_only_while_it_is_still_the_stored_one() {
    let s = store().await;
    let c = component();
    let now = now_ms();
    s.lease_component_token(&c, "A", now, now + 1000)
        .await
        .unwrap();
    let token = CachedToken {
        token: AccessToken::new("ct-new"),
        expires_at: 4_000_000_000,
    };
    s.store_component_token(&c, "A", &token).await.unwrap();
    assert!(!s
        .drop_component_token(&c, &AccessToken::new("ct-old"))
        .await
        .unwrap());
    assert_eq!(s.load_component_token(&c).await.unwrap().token, Some(token));
    assert!(s
        .drop_component_token(&c, &AccessToken::new("ct-new"))
        .await
        .unwrap());
    assert_eq!(s.load_component_token(&c).await.unwrap().token, None);
}

#[tokio::test]
async fn authorization_update_and_revoke_keep_the_record_and_its_history() {
    let s = store().await;
    let c = component();
    let app = appid("wxf8b4f85f3a794e77");
    let first = s
        .save_authorization(
            &c,
            &auth(app.as_str(), Some("r1"), &[3, 1, 2]),
            1000,
            now_ms(),
        )
        .await
        .unwrap();
    assert_eq!(first.status, AuthorizerStatus::Authorized);
    assert_eq!(first.version, 1);
    assert!(first.has_refresh_token);

    let updated = s
        .save_authorization(&c, &auth(app.as_str(), Some("r2"), &[1, 2]), 2000, now_ms())
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(
        updated.authorized_at, 1000,
        "the first authorization time is kept"
    );
    let stored = s.load_authorizer(&c, &app).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token, Some(RefreshToken::new("r2")));
    assert_eq!(
        stored.record.permission_ids,
        vec![PermissionId(1), PermissionId(2)]
    );

    // A revocation sent before the latest authorization is stale and ignored.
    let ignored = s
        .revoke_authorizer(&c, &app, 1500, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ignored.status, AuthorizerStatus::Authorized);

    let revoked = s
        .revoke_authorizer(&c, &app, 3000, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.status, AuthorizerStatus::Revoked);
    let stored = s
        .load_authorizer(&c, &app)
        .await
        .unwrap()
        .expect("a revoked record is never deleted");
    assert_eq!(stored.record.status, AuthorizerStatus::Revoked);
    assert_eq!(stored.access, None, "the access token is dropped");
    assert_eq!(
        stored.refresh_token, None,
        "the dead refresh token is dropped"
    );
    assert!(stored.record.revoked_at.is_some());
    // Revoking again changes nothing.
    let again = s
        .revoke_authorizer(&c, &app, 4000, now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.version, stored.record.version);

    let reauthorized = s
        .save_authorization(&c, &auth(app.as_str(), Some("r3"), &[1]), 5000, now_ms())
        .await
        .unwrap();
    assert_eq!(reauthorized.status, AuthorizerStatus::Authorized);
    assert_eq!(reauthorized.revoked_at, None);

    let kinds: Vec<HistoryKind> = s
        .history(&c, &app)
        .await
        .unwrap()
        .iter()
        .map(|h| h.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            HistoryKind::Authorized,
            HistoryKind::PermissionsChanged,
            HistoryKind::Revoked,
            HistoryKind::Reauthorized
        ]
    );
    assert_eq!(
        s.revoke_authorizer(&c, &appid("wxunknown"), 1, now_ms())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_exchange_without_refresh_token_needs_reauthorization() {
    let s = store().await;
    let c = component();
    let record = s
        .save_authorization(&c, &auth("wxnorefresh", None, &[1]), 1, now_ms())
        .await
        .unwrap();
    assert_eq!(record.status, AuthorizerStatus::NeedsReauth);
    assert!(!record.has_refresh_token);
}

#[tokio::test]
async fn authorizers_list_in_pages_with_a_cursor() {
    let s = store().await;
    let c = component();
    let mut expected = Vec::new();
    for i in 0..5 {
        let app = format!("wxapp{i}");
        s.save_authorization(&c, &auth(&app, Some("r"), &[1]), 1, now_ms())
            .await
            .unwrap();
        expected.push(app);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s.list_authorizers(&c, cursor.as_deref(), 2).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|r| r.authorizer_appid.to_string()));
        pages += 1;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
        assert!(pages < 10, "the cursor must advance");
    }
    assert_eq!(seen, expected);
    assert!(pages >= 3);
}

#[tokio::test]
async fn a_stale_token_writer_loses() {
    let s = store().await;
    let c = component();
    let app = appid("wxstale");
    s.save_authorization(&c, &auth(app.as_str(), Some("r1"), &[1]), 1, now_ms())
        .await
        .unwrap();
    let now = now_ms();
    let leased = s
        .lease_authorizer_token(&c, &app, "A", now, now + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert!(s
        .lease_authorizer_token(&c, &app, "B", now, now + 10_000)
        .await
        .unwrap()
        .is_none());
    let token = CachedToken {
        token: AccessToken::new("new-access"),
        expires_at: 4_000_000_000,
    };

    // A re-authorization lands while A is refreshing: the version moves on.
    s.save_authorization(&c, &auth(app.as_str(), Some("r-reauth"), &[1]), 2, now_ms())
        .await
        .unwrap();
    let written = s
        .store_authorizer_token(
            &c,
            &app,
            "A",
            leased.record.version,
            &token,
            Some(&RefreshToken::new("r-from-refresh")),
            now_ms(),
        )
        .await
        .unwrap();
    assert!(!written, "a writer holding an old version must lose");
    let stored = s.load_authorizer(&c, &app).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token, Some(RefreshToken::new("r-reauth")));
    assert_ne!(
        stored.access.map(|a| a.token),
        Some(AccessToken::new("new-access"))
    );

    // With the right version and the lease, the write succeeds and a new refresh token is kept.
    let now = now_ms();
    let leased = s
        .lease_authorizer_token(&c, &app, "A", now, now + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !s.store_authorizer_token(&c, &app, "B", leased.record.version, &token, None, now_ms())
            .await
            .unwrap(),
        "a non-holder must lose"
    );
    assert!(s
        .store_authorizer_token(
            &c,
            &app,
            "A",
            leased.record.version,
            &token,
            Some(&RefreshToken::new("r-rotated")),
            now_ms()
        )
        .await
        .unwrap());
    let stored = s.load_authorizer(&c, &app).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token, Some(RefreshToken::new("r-rotated")));
    assert_eq!(stored.access.unwrap().token, AccessToken::new("new-access"));
    assert_eq!(stored.lease, None);
    assert_eq!(stored.record.version, leased.record.version + 1);
    let kinds: Vec<HistoryKind> = s
        .history(&c, &app)
        .await
        .unwrap()
        .iter()
        .map(|h| h.kind)
        .collect();
    assert_eq!(kinds.last(), Some(&HistoryKind::RefreshTokenReplaced));
}

#[tokio::test]
async fn the_lease_is_refused_for_revoked_or_unknown_authorizers() {
    let s = store().await;
    let c = component();
    let app = appid("wxrevoked");
    let now = now_ms();
    assert!(s
        .lease_authorizer_token(&c, &app, "A", now, now + 1000)
        .await
        .unwrap()
        .is_none());
    s.save_authorization(&c, &auth(app.as_str(), Some("r1"), &[1]), 1, now_ms())
        .await
        .unwrap();
    s.revoke_authorizer(&c, &app, 10, now_ms()).await.unwrap();
    assert!(s
        .lease_authorizer_token(&c, &app, "A", now, now + 1000)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn needs_reauth_is_marked_only_for_the_refresh_token_that_failed() {
    let s = store().await;
    let c = component();
    let app = appid("wxreauth");
    s.save_authorization(
        &c,
        &auth(app.as_str(), Some("r-current"), &[1]),
        1,
        now_ms(),
    )
    .await
    .unwrap();
    assert!(!s
        .mark_needs_reauth(&c, &app, &RefreshToken::new("r-old"), now_ms())
        .await
        .unwrap());
    assert_eq!(
        s.load_authorizer(&c, &app)
            .await
            .unwrap()
            .unwrap()
            .record
            .status,
        AuthorizerStatus::Authorized
    );
    assert!(s
        .mark_needs_reauth(&c, &app, &RefreshToken::new("r-current"), now_ms())
        .await
        .unwrap());
    let stored = s.load_authorizer(&c, &app).await.unwrap().unwrap();
    assert_eq!(stored.record.status, AuthorizerStatus::NeedsReauth);
    assert_eq!(
        stored.refresh_token,
        Some(RefreshToken::new("r-current")),
        "nothing is deleted"
    );
}

#[tokio::test]
async fn refresh_tokens_are_recovered_only_where_missing_or_refused() {
    let s = store().await;
    let c = component();
    let r = RefreshToken::new("r-from-list");
    assert_eq!(
        s.recover_refresh_token(&c, &appid("wxmissing"), &r, 100, now_ms())
            .await
            .unwrap(),
        RecoverOutcome::Added
    );
    let added = s
        .load_authorizer(&c, &appid("wxmissing"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(added.record.status, AuthorizerStatus::Authorized);
    assert_eq!(added.refresh_token, Some(r.clone()));

    s.save_authorization(&c, &auth("wxfine", Some("r-own"), &[1]), 1, now_ms())
        .await
        .unwrap();
    assert_eq!(
        s.recover_refresh_token(&c, &appid("wxfine"), &r, 100, now_ms())
            .await
            .unwrap(),
        RecoverOutcome::Unchanged
    );
    assert_eq!(
        s.load_authorizer(&c, &appid("wxfine"))
            .await
            .unwrap()
            .unwrap()
            .refresh_token,
        Some(RefreshToken::new("r-own"))
    );

    s.save_authorization(&c, &auth("wxrefused", Some("r-bad"), &[1]), 1, now_ms())
        .await
        .unwrap();
    s.mark_needs_reauth(
        &c,
        &appid("wxrefused"),
        &RefreshToken::new("r-bad"),
        now_ms(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.recover_refresh_token(&c, &appid("wxrefused"), &r, 100, now_ms())
            .await
            .unwrap(),
        RecoverOutcome::Restored
    );
    let restored = s
        .load_authorizer(&c, &appid("wxrefused"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (restored.record.status, restored.refresh_token),
        (AuthorizerStatus::Authorized, Some(r.clone()))
    );

    s.save_authorization(&c, &auth("wxgone", Some("r-gone"), &[1]), 1, now_ms())
        .await
        .unwrap();
    s.revoke_authorizer(&c, &appid("wxgone"), 50, now_ms())
        .await
        .unwrap();
    assert_eq!(
        s.recover_refresh_token(&c, &appid("wxgone"), &r, 100, now_ms())
            .await
            .unwrap(),
        RecoverOutcome::Unchanged,
        "a revocation newer than the listed authorization stands"
    );
}

#[tokio::test]
async fn an_older_info_snapshot_never_replaces_a_newer_one() {
    let s = store().await;
    let c = component();
    let app = appid("wxinfo");
    s.save_authorization(&c, &auth(app.as_str(), Some("r"), &[1]), 1, now_ms())
        .await
        .unwrap();
    s.save_info_snapshot(
        &c,
        &app,
        &InfoSnapshot {
            json: "{\"n\":2}".into(),
            fetched_at_ms: 2000,
        },
    )
    .await
    .unwrap();
    s.save_info_snapshot(
        &c,
        &app,
        &InfoSnapshot {
            json: "{\"n\":1}".into(),
            fetched_at_ms: 1000,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.load_authorizer(&c, &app)
            .await
            .unwrap()
            .unwrap()
            .info
            .unwrap()
            .json,
        "{\"n\":2}"
    );
    // A snapshot for an unknown authorizer creates nothing.
    s.save_info_snapshot(
        &c,
        &appid("wxnobody"),
        &InfoSnapshot {
            json: "{}".into(),
            fetched_at_ms: 1,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.load_authorizer(&c, &appid("wxnobody")).await.unwrap(),
        None
    );
}
