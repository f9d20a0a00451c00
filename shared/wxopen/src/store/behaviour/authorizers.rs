//! Authorization, revocation, recovery, listing and snapshots.

use super::*;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::VerifyTicket;

/// Items of one component are invisible to another on the same table.
pub async fn items_of_one_component_are_invisible_to_another(s: impl Fixture) {
    let b = s.scoped_to(ComponentAppid::parse("wx_component_b").unwrap());
    s.save_ticket(&VerifyTicket::new("ticket-a"), secs(1))
        .await
        .unwrap();
    s.save_authorization(&auth("wxapp1", Some("r1"), &[1]), secs(1), now())
        .await
        .unwrap();
    assert_eq!(b.load_ticket().await.unwrap(), None);
    assert_eq!(b.load_authorizer(&appid("wxapp1")).await.unwrap(), None);
    let page = b.list_authorizers(None, 10).await.unwrap().unwrap();
    assert!(page.items.is_empty());
}

/// Authorization, update and revocation keep the record and its history.
pub async fn authorization_update_and_revoke_keep_the_record_and_its_history(s: impl Fixture) {
    let app = appid("wxf8b4f85f3a794e77");
    let save = |refresh: &'static str, perms: &'static [u32], at: i64| {
        let (s, app) = (&s, &app);
        async move {
            s.save_authorization(&auth(app.as_str(), Some(refresh), perms), secs(at), now())
                .await
                .unwrap()
        }
    };
    let first = save("r1", &[3, 1, 2], 1000).await;
    assert_eq!(first.status, AuthorizerStatus::Authorized);
    assert_eq!(first.version, 1);
    assert!(first.has_refresh_token);

    let updated = save("r2", &[1, 2], 2000).await;
    assert_eq!(updated.version, 2);
    assert_eq!(
        updated.authorized_at, 1000,
        "the first authorization time is kept"
    );
    let stored = s.load_authorizer(&app).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token, Some(RefreshToken::new("r2")));
    assert_eq!(
        stored.record.permission_ids,
        vec![PermissionId(1), PermissionId(2)]
    );

    // A revocation sent before the latest authorization is stale and ignored.
    let ignored = s.revoke_authorizer(&app, secs(1500), now()).await.unwrap();
    assert_eq!(ignored.unwrap().status, AuthorizerStatus::Authorized);

    let revoked = s.revoke_authorizer(&app, secs(3000), now()).await.unwrap();
    assert_eq!(revoked.unwrap().status, AuthorizerStatus::Revoked);
    let stored = s
        .load_authorizer(&app)
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
    let again = s.revoke_authorizer(&app, secs(4000), now()).await.unwrap();
    assert_eq!(again.unwrap().version, stored.record.version);

    let reauthorized = save("r3", &[1], 5000).await;
    assert_eq!(reauthorized.status, AuthorizerStatus::Authorized);
    assert_eq!(reauthorized.revoked_at, None);

    assert_eq!(
        kinds(&s, &app).await,
        vec![
            HistoryKind::Authorized,
            HistoryKind::PermissionsChanged,
            HistoryKind::Revoked,
            HistoryKind::Reauthorized
        ]
    );
    let unknown = appid("wxunknown");
    let revoked = s.revoke_authorizer(&unknown, secs(1), now()).await;
    assert_eq!(revoked.unwrap(), None);
}

/// An exchange without a refresh token needs re-authorization.
pub async fn an_exchange_without_refresh_token_needs_reauthorization(s: impl Fixture) {
    let record = s
        .save_authorization(&auth("wxnorefresh", None, &[1]), secs(1), now())
        .await
        .unwrap();
    assert_eq!(record.status, AuthorizerStatus::NeedsReauth);
    assert!(!record.has_refresh_token);
}

/// The exchanged code's record is written with the authorization, and names its authorizer.
pub async fn the_exchanged_code_is_recorded_with_the_authorization(s: impl Fixture) {
    assert_eq!(s.exchanged_code("hash-1").await.unwrap(), None);
    let mut a = auth("wxcoded", Some("r"), &[1]);
    a.code_hash = Some("hash-1".into());
    s.save_authorization(&a, secs(1), now()).await.unwrap();
    assert_eq!(
        s.exchanged_code("hash-1").await.unwrap(),
        Some(appid("wxcoded"))
    );
    assert_eq!(s.exchanged_code("hash-2").await.unwrap(), None);
}

/// Authorizers list in pages with a cursor; a cursor that names no stored authorizer (one this
/// store never issued) is refused rather than answered with an empty page.
pub async fn authorizers_list_in_pages_with_a_cursor(s: impl Fixture) {
    let mut expected = Vec::new();
    for i in 0..5 {
        let app = format!("wxapp{i}");
        s.save_authorization(&auth(&app, Some("r"), &[1]), secs(1), now())
            .await
            .unwrap();
        expected.push(app);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<AuthorizerAppid> = None;
    let mut pages = 0;
    loop {
        let page = s
            .list_authorizers(cursor.as_ref(), 2)
            .await
            .unwrap()
            .unwrap();
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
    for never_issued in ["wxapp2b", "wxnotissued"] {
        let page = s.list_authorizers(Some(&appid(never_issued)), 2).await;
        assert_eq!(page.unwrap(), None, "{never_issued}");
    }
}

/// Refresh tokens are recovered only where missing, refused or another, never over a newer
/// revocation; a write made on a stale belief reads again and decides again.
pub async fn refresh_tokens_are_recovered_only_where_they_differ(s: impl Fixture) {
    let listed = |a: &str, r: &str| AuthorizerListItem {
        authorizer_appid: appid(a),
        refresh_token: RefreshToken::new(r),
        auth_time: 100,
    };
    let recover = |item: AuthorizerListItem, known: Known<'static>| {
        let s = &s;
        async move {
            let recovery = Recovery {
                listed: &item,
                known,
                permission_ids: &[PermissionId(9)],
            };
            s.recover_refresh_token(&recovery, now()).await.unwrap()
        }
    };
    let r = RefreshToken::new("r-from-list");
    let added = recover(listed("wxmissing", "r-from-list"), Known::Missing).await;
    assert_eq!(added, RecoverOutcome::Added);
    let stored = s
        .load_authorizer(&appid("wxmissing"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.record.status, AuthorizerStatus::Authorized);
    assert_eq!(stored.refresh_token, Some(r.clone()));
    assert_eq!(stored.record.permission_ids, vec![PermissionId(9)]);
    // Believed missing, but it is stored now: the write reads again and finds it current.
    let again = recover(listed("wxmissing", "r-from-list"), Known::Missing).await;
    assert_eq!(again, RecoverOutcome::Unchanged);

    s.save_authorization(&auth("wxfine", Some("r-own"), &[1]), secs(1), now())
        .await
        .unwrap();
    let same = recover(listed("wxfine", "r-own"), Known::Unknown).await;
    assert_eq!(same, RecoverOutcome::Unchanged);
    let other = recover(listed("wxfine", "r-from-list"), Known::Unknown).await;
    assert_eq!(
        other,
        RecoverOutcome::Restored,
        "WeChat's listed token is the current one"
    );
    let fine = s.load_authorizer(&appid("wxfine")).await.unwrap().unwrap();
    assert_eq!(fine.refresh_token, Some(r.clone()));
    assert_eq!(
        fine.record.permission_ids,
        vec![PermissionId(1)],
        "the grant is kept"
    );

    // Authorized after the listing was made: the listing's older token is not put back.
    s.save_authorization(&auth("wxlater", Some("r-later"), &[1]), secs(5000), now())
        .await
        .unwrap();
    let older = recover(listed("wxlater", "r-from-list"), Known::Unknown).await;
    assert_eq!(older, RecoverOutcome::Unchanged);

    s.save_authorization(&auth("wxrefused", Some("r-bad"), &[1]), secs(1), now())
        .await
        .unwrap();
    let refused = s
        .load_authorizer(&appid("wxrefused"))
        .await
        .unwrap()
        .unwrap();
    let credentials = TokenSlot::from(refused).credentials.unwrap();
    assert!(s.mark_needs_reauth(&credentials, now()).await.unwrap());
    let restored = recover(listed("wxrefused", "r-bad"), Known::Unknown).await;
    assert_eq!(restored, RecoverOutcome::Restored);
    let restored = s
        .load_authorizer(&appid("wxrefused"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.record.status, AuthorizerStatus::Authorized);

    s.save_authorization(&auth("wxgone", Some("r-gone"), &[1]), secs(1), now())
        .await
        .unwrap();
    s.revoke_authorizer(&appid("wxgone"), secs(50), now())
        .await
        .unwrap();
    // Revoked "now", after the listed authorization time (100 s after the epoch).
    assert_eq!(
        recover(listed("wxgone", "r-gone"), Known::Unknown).await,
        RecoverOutcome::Unchanged,
        "a revocation newer than the listed authorization stands"
    );
    let kinds = kinds(&s, &appid("wxfine")).await;
    assert_eq!(kinds.last(), Some(&HistoryKind::RefreshTokenRecovered));
}

/// The reconcile's lease admits one run; only its holder saves progress; the scan reads every
/// authorizer without tokens or snapshots.
pub async fn the_reconcile_lease_admits_one_run_and_the_scan_reads_every_authorizer(
    s: impl Fixture,
) {
    let t = now();
    let a = lease("run-a", t.plus(std::time::Duration::from_secs(60)));
    let b = lease("run-b", t.plus(std::time::Duration::from_secs(60)));
    let first = s.take_reconcile(&a, t).await.unwrap();
    assert_eq!(first, Some(ReconcileProgress::default()));
    assert_eq!(s.take_reconcile(&b, t).await.unwrap(), None);
    let progress = ReconcileProgress {
        offset: 500,
        total_count: 1200,
        compared: 500,
        runs: 1,
        ..ReconcileProgress::default()
    };
    assert!(!s.save_reconcile("run-b", &progress, true).await.unwrap());
    assert!(s.save_reconcile("run-a", &progress, true).await.unwrap());
    assert_eq!(s.take_reconcile(&b, t).await.unwrap(), Some(progress));
    // A lapsed lease is taken over.
    let late = t.plus(std::time::Duration::from_secs(61));
    assert!(s.take_reconcile(&a, late).await.unwrap().is_some());

    for i in 0..3 {
        s.save_authorization(
            &auth(&format!("wxscan{i}"), Some("r"), &[1]),
            secs(1),
            now(),
        )
        .await
        .unwrap();
    }
    let snap = InfoSnapshot {
        json: "{}".into(),
        fetched_at: now(),
    };
    s.save_info_snapshot(&appid("wxscan0"), &snap)
        .await
        .unwrap();
    let mut scanned = s.scan_authorizers().await.unwrap();
    scanned.sort_by(|x, y| x.record.authorizer_appid.cmp(&y.record.authorizer_appid));
    assert_eq!(scanned.len(), 3);
    assert!(scanned.iter().all(|a| a.refresh_token.is_some()));
    assert!(scanned
        .iter()
        .all(|a| a.access.is_none() && a.info.is_none()));
}

/// An older info snapshot never replaces a newer one, and none creates an authorizer.
pub async fn an_older_info_snapshot_never_replaces_a_newer_one(s: impl Fixture) {
    let app = appid("wxinfo");
    s.save_authorization(&auth(app.as_str(), Some("r"), &[1]), secs(1), now())
        .await
        .unwrap();
    let snap = |json: &str, ms: i64| InfoSnapshot {
        json: json.into(),
        fetched_at: Timestamp::from_millis(ms),
    };
    s.save_info_snapshot(&app, &snap("{\"n\":2}", 2000))
        .await
        .unwrap();
    s.save_info_snapshot(&app, &snap("{\"n\":1}", 1000))
        .await
        .unwrap();
    let stored = s.load_authorizer(&app).await.unwrap().unwrap();
    assert_eq!(stored.info.unwrap().json, "{\"n\":2}");
    // A snapshot for an unknown authorizer creates nothing.
    s.save_info_snapshot(&appid("wxnobody"), &snap("{}", 1))
        .await
        .unwrap();
    assert_eq!(s.load_authorizer(&appid("wxnobody")).await.unwrap(), None);
}

/// The `ext` of an authorization is stored on the record and its history items, a later
/// authorization without one keeps it, a revocation carries it, and the `ext` remembered for a
/// pre-auth code lasts until it lapses.
pub async fn the_binding_is_stored_with_the_record_and_its_history(s: impl Fixture) {
    let mut bound = auth("wxbound", Some("r1"), &[1]);
    bound.ext = Some("customer-42".into());
    let record = s.save_authorization(&bound, now(), now()).await.unwrap();
    assert_eq!(record.ext.as_deref(), Some("customer-42"));
    let again = s
        .save_authorization(&auth("wxbound", Some("r1"), &[1, 2]), now(), now())
        .await
        .unwrap();
    assert_eq!(
        again.ext.as_deref(),
        Some("customer-42"),
        "kept without a new link"
    );
    let stored = s.load_authorizer(&appid("wxbound")).await.unwrap().unwrap();
    assert_eq!(stored.record.ext.as_deref(), Some("customer-42"));
    let listed = s.list_authorizers(None, 10).await.unwrap().unwrap();
    assert_eq!(listed.items[0].ext.as_deref(), Some("customer-42"));
    s.revoke_authorizer(&appid("wxbound"), far(), far())
        .await
        .unwrap();
    let history = s.history(&appid("wxbound")).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history
            .iter()
            .all(|h| h.ext.as_deref() == Some("customer-42")),
        "{history:?}"
    );

    s.save_pending_ext(&PendingExt {
        pre_auth_hash: "hash-of-pre",
        ext: "customer-7",
        until: far(),
    })
    .await
    .unwrap();
    assert_eq!(
        s.pending_ext("hash-of-pre").await.unwrap().as_deref(),
        Some("customer-7")
    );
    s.save_pending_ext(&PendingExt {
        pre_auth_hash: "hash-of-old",
        ext: "customer-8",
        until: secs(1),
    })
    .await
    .unwrap();
    assert_eq!(s.pending_ext("hash-of-old").await.unwrap(), None, "lapsed");
    assert_eq!(s.pending_ext("hash-unknown").await.unwrap(), None);
}
