use super::*;
use crate::store::CachedToken;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::{AccessToken, AuthorizerAppid, PermissionId};

fn appid() -> AuthorizerAppid {
    AuthorizerAppid::parse("wxrules").unwrap()
}

fn stored(status: AuthorizerStatus, refresh: Option<&str>, perms: &[u32]) -> StoredAuthorizer {
    StoredAuthorizer {
        record: AuthorizerRecord {
            authorizer_appid: appid(),
            status,
            permission_ids: perms.iter().copied().map(PermissionId).collect(),
            authorized_at: 100,
            updated_at: 100,
            revoked_at: (status == AuthorizerStatus::Revoked).then_some(500),
            version: 3,
            has_refresh_token: refresh.is_some(),
            ext: None,
        },
        refresh_token: refresh.map(RefreshToken::new),
        access: None,
        lease: None,
        info: None,
        last_authorized_at: Timestamp::from_secs(100),
    }
}

fn auth(refresh: Option<&str>, perms: &[u32]) -> NewAuthorization {
    NewAuthorization {
        authorizer_appid: appid(),
        refresh_token: refresh.map(RefreshToken::new),
        access: Some(CachedToken {
            token: AccessToken::new("a"),
            expires_at: Timestamp::from_secs(9_000),
        }),
        permission_ids: perms.iter().copied().map(PermissionId).collect(),
        code_hash: None,
        ext: None,
    }
}

#[test]
fn history_kind_says_what_the_exchange_changed() {
    let on = |e: Option<&StoredAuthorizer>, a: &NewAuthorization| authorization_kind(e, a);
    let authorized = stored(AuthorizerStatus::Authorized, Some("r1"), &[1, 2]);
    assert_eq!(on(None, &auth(Some("r1"), &[1])), HistoryKind::Authorized);
    assert_eq!(
        on(Some(&authorized), &auth(Some("r1"), &[1])),
        HistoryKind::PermissionsChanged
    );
    assert_eq!(
        on(Some(&authorized), &auth(Some("r2"), &[1, 2])),
        HistoryKind::RefreshTokenReplaced
    );
    assert_eq!(
        on(Some(&authorized), &auth(Some("r1"), &[1, 2])),
        HistoryKind::Reauthorized
    );
    let revoked = stored(AuthorizerStatus::Revoked, None, &[1]);
    assert_eq!(
        on(Some(&revoked), &auth(Some("r3"), &[5])),
        HistoryKind::Reauthorized
    );
}

#[test]
fn an_exchange_without_refresh_token_needs_reauth_but_keeps_the_stored_one() {
    let existing = stored(AuthorizerStatus::Authorized, Some("r1"), &[1]);
    let plan = plan_authorization(
        Some(&existing),
        &auth(None, &[1]),
        Timestamp::from_secs(200),
        Timestamp::from_secs(300),
    );
    assert_eq!(plan.record.status, AuthorizerStatus::NeedsReauth);
    assert_eq!(plan.refresh_token, Some(RefreshToken::new("r1")));
    assert!(plan.record.has_refresh_token);
    assert_eq!(plan.record.version, 4);
    assert_eq!(plan.expected_version, Some(3));
    assert_eq!(
        plan.record.authorized_at, 100,
        "the first authorization time stays"
    );
    assert_eq!(plan.last_authorized_at, Timestamp::from_secs(200));

    let fresh = plan_authorization(
        None,
        &auth(None, &[]),
        Timestamp::from_secs(7),
        Timestamp::from_secs(8),
    );
    assert_eq!(fresh.record.status, AuthorizerStatus::NeedsReauth);
    assert!(!fresh.record.has_refresh_token);
    assert_eq!((fresh.record.version, fresh.expected_version), (1, None));
}

#[test]
fn a_revocation_sent_before_the_last_authorization_is_stale() {
    let mut existing = stored(AuthorizerStatus::Authorized, Some("r1"), &[1]);
    existing.last_authorized_at = Timestamp::from_secs(1_000);
    assert_eq!(
        plan_revocation(
            &existing,
            Timestamp::from_secs(999),
            Timestamp::from_secs(2_000)
        ),
        None
    );
    let revoked = plan_revocation(
        &existing,
        Timestamp::from_secs(1_000),
        Timestamp::from_secs(2_000),
    )
    .unwrap();
    assert_eq!(revoked.status, AuthorizerStatus::Revoked);
    assert_eq!(revoked.revoked_at, Some(2_000));
    assert_eq!(revoked.version, 4);
    assert!(!revoked.has_refresh_token);
    let again = stored(AuthorizerStatus::Revoked, None, &[1]);
    assert_eq!(
        plan_revocation(
            &again,
            Timestamp::from_secs(9_999),
            Timestamp::from_secs(10_000)
        ),
        None
    );
}

fn listed(refresh: &str, auth_time: i64) -> AuthorizerListItem {
    AuthorizerListItem {
        authorizer_appid: appid(),
        refresh_token: RefreshToken::new(refresh),
        auth_time,
    }
}

#[test]
fn recovery_writes_only_what_differs_and_never_undoes_a_newer_revocation() {
    let t = Timestamp::from_secs;
    let r = listed("r", 1);
    assert_eq!(recovery(None, &r), RecoverOutcome::Added);
    let ok = stored(AuthorizerStatus::Authorized, Some("r"), &[]);
    assert_eq!(recovery(Some(&ok), &r), RecoverOutcome::Unchanged);
    let other = stored(AuthorizerStatus::Authorized, Some("r-other"), &[]); // authorized at 100
    assert_eq!(
        recovery(Some(&other), &listed("r", 100)),
        RecoverOutcome::Restored
    );
    assert_eq!(
        recovery(Some(&other), &listed("r", 99)),
        RecoverOutcome::Unchanged,
        "a listing older than the stored authorization never puts back the token it replaced"
    );
    let missing = stored(AuthorizerStatus::Authorized, None, &[]);
    assert_eq!(recovery(Some(&missing), &r), RecoverOutcome::Restored);
    let refused = stored(AuthorizerStatus::NeedsReauth, Some("r"), &[]);
    assert_eq!(recovery(Some(&refused), &r), RecoverOutcome::Restored);
    let revoked = stored(AuthorizerStatus::Revoked, None, &[]); // revoked at 500
    assert_eq!(
        recovery(Some(&revoked), &listed("r", 400)),
        RecoverOutcome::Unchanged
    );
    assert_eq!(
        recovery(Some(&revoked), &listed("r", 501)),
        RecoverOutcome::Restored
    );

    let (record, last) = recovered(Some(&revoked), &listed("r", 600), &[], t(700));
    assert_eq!(record.status, AuthorizerStatus::Authorized);
    assert_eq!((record.version, record.revoked_at, last), (4, None, t(600)));
    let restored = stored(AuthorizerStatus::NeedsReauth, Some("r-old"), &[3]);
    let (kept, _) = recovered(
        Some(&restored),
        &listed("r", 600),
        &[PermissionId(7)],
        t(700),
    );
    assert_eq!(
        kept.permission_ids,
        vec![PermissionId(3)],
        "a restored authorizer keeps its grant"
    );
    let (added, _) = recovered(None, &listed("r", 600), &[PermissionId(7)], t(700));
    assert_eq!((added.version, added.authorized_at), (1, 600));
    assert_eq!(
        added.permission_ids,
        vec![PermissionId(7)],
        "an added authorizer gets its grant"
    );
}

#[test]
fn a_lease_is_free_when_absent_lapsed_or_already_ours() {
    let now = Timestamp::from_millis(10_000);
    let held = |owner: &str, until| Lease {
        owner: owner.into(),
        until: Timestamp::from_millis(until),
    };
    assert!(lease_is_free(None, "me", now));
    assert!(lease_is_free(Some(&held("other", 9_999)), "me", now));
    assert!(lease_is_free(Some(&held("me", 20_000)), "me", now));
    assert!(!lease_is_free(Some(&held("other", 20_000)), "me", now));
}

#[test]
fn only_an_authorized_record_is_usable() {
    let r = |s| stored(s, Some("r"), &[]).record;
    assert_eq!(usable(&r(AuthorizerStatus::Authorized)), Ok(()));
    assert_eq!(
        usable(&r(AuthorizerStatus::Revoked)),
        Err(Unusable::Revoked)
    );
    assert_eq!(
        usable(&r(AuthorizerStatus::NeedsReauth)),
        Err(Unusable::NeedsReauth)
    );
    let marked = needs_reauth(&r(AuthorizerStatus::Authorized), Timestamp::from_secs(5));
    assert_eq!(
        (marked.status, marked.version),
        (AuthorizerStatus::NeedsReauth, 4)
    );
}

#[test]
fn an_authorization_from_a_link_sets_the_binding_and_one_without_keeps_it() {
    let now = Timestamp::from_secs(1_000);
    let mut bound = stored(AuthorizerStatus::Authorized, Some("r1"), &[1]);
    bound.record.ext = Some("customer-1".into());
    let plain = plan_authorization(Some(&bound), &auth(Some("r1"), &[1]), now, now);
    assert_eq!(plain.record.ext.as_deref(), Some("customer-1"));
    let mut from_link = auth(Some("r1"), &[1]);
    from_link.ext = Some("customer-2".into());
    let moved = plan_authorization(Some(&bound), &from_link, now, now);
    assert_eq!(moved.record.ext.as_deref(), Some("customer-2"));
    assert_eq!(
        plan_authorization(None, &auth(Some("r1"), &[1]), now, now)
            .record
            .ext,
        None
    );
}
