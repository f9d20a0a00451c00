//! Tickets, token leases and token writes.

use super::*;
use std::time::Duration;
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::VerifyTicket;

/// A newer ticket replaces an older one; an older or replayed one is ignored.
pub async fn a_newer_ticket_replaces_an_older_one_and_an_older_or_replayed_one_is_ignored(
    s: impl Fixture,
) {
    assert_eq!(s.load_ticket().await.unwrap(), None);
    let save = |t: &'static str, at: i64| {
        let s = &s;
        async move {
            s.save_ticket(&VerifyTicket::new(t), secs(at))
                .await
                .unwrap()
        }
    };
    assert_eq!(save("t100", 100).await, TicketSave::Saved);
    assert_eq!(save("t200", 200).await, TicketSave::Saved);
    let stale = TicketSave::Stale {
        stored_create_time: secs(200),
    };
    assert_eq!(save("t150", 150).await, stale);
    assert_eq!(save("t200-replay", 200).await, stale);
    let stored = s.load_ticket().await.unwrap().unwrap();
    assert_eq!(
        (stored.ticket.expose(), stored.create_time),
        ("t200", secs(200))
    );
}

/// The component token lease admits one holder, and only the holder writes.
pub async fn component_token_lease_admits_one_holder_and_only_the_holder_writes(s: impl Fixture) {
    let key = TokenKey::Component;
    let t = now();
    let until = t.plus(Duration::from_secs(10));
    assert!(s
        .take_lease(&key, &lease("A", until), t)
        .await
        .unwrap()
        .is_some());
    assert!(s
        .take_lease(&key, &lease("B", until), t)
        .await
        .unwrap()
        .is_none());
    // The holder may take it again (a retry of its own).
    assert!(s
        .take_lease(&key, &lease("A", until), t)
        .await
        .unwrap()
        .is_some());

    let ct = token("ct-1");
    assert!(
        !s.write_token(&key, &write("B", &ct)).await.unwrap(),
        "a non-holder must not write"
    );
    assert_eq!(component_token(&s).await, None);
    assert!(s.write_token(&key, &write("A", &ct)).await.unwrap());
    let slot = s.load_slot(&key).await.unwrap().unwrap();
    assert_eq!(slot.token, Some(ct.clone()));
    assert_eq!(slot.lease, None, "a successful write clears the lease");
    // A slow former holder whose lease was cleared cannot overwrite the newer token.
    let stale = token("ct-stale");
    assert!(!s.write_token(&key, &write("A", &stale)).await.unwrap());
    assert_eq!(component_token(&s).await, Some(ct));
}

/// A lapsed lease can be taken over, and a released one at once.
pub async fn a_lapsed_lease_can_be_taken_over_and_a_released_one_at_once(s: impl Fixture) {
    let key = TokenKey::Component;
    let t = now();
    let ms = |m: u64| t.plus(Duration::from_millis(m));
    let take = |owner: &'static str, at: u64| {
        let (s, key) = (&s, &key);
        async move {
            let until = if owner == "dead" { ms(100) } else { ms(10_000) };
            s.take_lease(key, &lease(owner, until), ms(at))
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(take("dead", 0).await);
    assert!(!take("B", 50).await);
    assert!(take("B", 101).await);
    s.release_lease(&key, "dead").await.unwrap(); // not the holder: no effect
    assert!(!take("C", 200).await);
    s.release_lease(&key, "B").await.unwrap();
    assert!(take("C", 200).await);
}

/// A token is dropped only while it is still the stored one.
pub async fn a_token_is_dropped_only_while_it_is_still_the_stored_one(s: impl Fixture) {
    let key = TokenKey::Component;
    s.take_lease(&key, &lease("A", far()), now()).await.unwrap();
    let ct = token("ct-new");
    s.write_token(&key, &write("A", &ct)).await.unwrap();
    assert!(!s
        .drop_token(&key, &AccessToken::new("ct-old"))
        .await
        .unwrap());
    assert_eq!(component_token(&s).await, Some(ct));
    assert!(s
        .drop_token(&key, &AccessToken::new("ct-new"))
        .await
        .unwrap());
    assert_eq!(component_token(&s).await, None);
}

/// A stale token writer loses; the holder with the right version wins and keeps the new
/// refresh token.
pub async fn a_stale_token_writer_loses(s: impl Fixture) {
    let app = appid("wxstale");
    let key = TokenKey::Authorizer(app.clone());
    s.save_authorization(&auth(app.as_str(), Some("r1"), &[1]), secs(1), now())
        .await
        .unwrap();
    let leased = s
        .take_lease(&key, &lease("A", far()), now())
        .await
        .unwrap()
        .unwrap();
    assert!(s
        .take_lease(&key, &lease("B", far()), now())
        .await
        .unwrap()
        .is_none());
    let version = leased.credentials.unwrap().record.version;
    let new = token("new-access");

    // A re-authorization lands while A is refreshing: the version moves on.
    s.save_authorization(&auth(app.as_str(), Some("r-reauth"), &[1]), secs(2), now())
        .await
        .unwrap();
    let from_refresh = RefreshToken::new("r-from-refresh");
    let stale = authorizer_write("A", &new, version, Some(&from_refresh));
    assert!(
        !s.write_token(&key, &stale).await.unwrap(),
        "a writer holding an old version must lose"
    );
    let stored = s.load_authorizer(&app).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token, Some(RefreshToken::new("r-reauth")));
    assert_ne!(
        stored.access.map(|a| a.token),
        Some(AccessToken::new("new-access"))
    );

    // With the right version and the lease, the write succeeds and a new refresh token is kept.
    let leased = s
        .take_lease(&key, &lease("A", far()), now())
        .await
        .unwrap()
        .unwrap();
    let version = leased.credentials.unwrap().record.version;
    assert!(
        !s.write_token(&key, &authorizer_write("B", &new, version, None))
            .await
            .unwrap(),
        "a non-holder must lose"
    );
    let rotated = RefreshToken::new("r-rotated");
    let winner = authorizer_write("A", &new, version, Some(&rotated));
    assert!(s.write_token(&key, &winner).await.unwrap());
    let stored = s.load_authorizer(&app).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token, Some(rotated));
    assert_eq!(stored.access.unwrap().token, AccessToken::new("new-access"));
    assert_eq!(stored.lease, None);
    assert_eq!(stored.record.version, version + 1);
    assert_eq!(
        kinds(&s, &app).await.last(),
        Some(&HistoryKind::RefreshTokenReplaced)
    );
}

/// The lease is refused for revoked or unknown authorizers.
pub async fn the_lease_is_refused_for_revoked_or_unknown_authorizers(s: impl Fixture) {
    let app = appid("wxrevoked");
    let key = TokenKey::Authorizer(app.clone());
    assert!(s
        .take_lease(&key, &lease("A", far()), now())
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.load_slot(&key).await.unwrap(), None);
    s.save_authorization(&auth(app.as_str(), Some("r1"), &[1]), secs(1), now())
        .await
        .unwrap();
    s.revoke_authorizer(&app, secs(10), now()).await.unwrap();
    assert!(s
        .take_lease(&key, &lease("A", far()), now())
        .await
        .unwrap()
        .is_none());
}

/// `needs_reauth` is marked only for the refresh token that failed; nothing is deleted.
pub async fn needs_reauth_is_marked_only_for_the_refresh_token_that_failed(s: impl Fixture) {
    let app = appid("wxreauth");
    s.save_authorization(&auth(app.as_str(), Some("r-current"), &[1]), secs(1), now())
        .await
        .unwrap();
    let mark = |r: &'static str| {
        let (s, app) = (&s, &app);
        async move {
            let mut refused = s.load_authorizer(app).await.unwrap().unwrap();
            refused.refresh_token = Some(RefreshToken::new(r));
            let credentials = TokenSlot::from(refused).credentials.unwrap();
            s.mark_needs_reauth(&credentials, now()).await.unwrap()
        }
    };
    assert!(!mark("r-old").await);
    assert_eq!(
        s.load_authorizer(&app)
            .await
            .unwrap()
            .unwrap()
            .record
            .status,
        AuthorizerStatus::Authorized
    );
    assert!(mark("r-current").await);
    let stored = s.load_authorizer(&app).await.unwrap().unwrap();
    assert_eq!(stored.record.status, AuthorizerStatus::NeedsReauth);
    assert_eq!(
        stored.refresh_token,
        Some(RefreshToken::new("r-current")),
        "nothing is deleted"
    );
    assert_eq!(
        kinds(&s, &app).await.last(),
        Some(&HistoryKind::NeedsReauth)
    );
}

/// One caller across all instances may ask WeChat for a ticket push per interval; every caller
/// learns when the wait began, and claims far enough apart start a new wait.
pub async fn one_ticket_request_is_claimed_per_interval(s: impl Fixture) {
    let every = Duration::from_secs(600);
    let t = now();
    let at = |secs: u64| t.plus(Duration::from_secs(secs));
    let claim = |when: Timestamp| {
        let s = &s;
        async move { s.claim_ticket_request(when, every).await.unwrap() }
    };
    let first = claim(t).await;
    assert!(first.claimed);
    assert_eq!(first.waiting_since, t);
    let again = claim(t).await;
    assert!(!again.claimed);
    assert_eq!(
        again.waiting_since, t,
        "a refused caller learns when the wait began"
    );
    assert!(!claim(at(599)).await.claimed);
    let second = claim(at(601)).await;
    assert!(second.claimed);
    assert_eq!(second.waiting_since, t, "the wait goes on");
    let later = claim(at(601 + 1800)).await;
    assert!(later.claimed);
    assert_eq!(
        later.waiting_since,
        at(601 + 1800),
        "three intervals without a claim: a new wait"
    );
}
