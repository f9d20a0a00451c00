//! Registrations: one live registration per identity, found by any of its keys, ended once;
//! and an authorizer stored before its registration was matched, bound to its `ext` once.

use super::{appid, auth, now, secs, Fixture};
use crate::clock::Timestamp;
use crate::store::{NewRegistration, RegistrationEnd, RegistrationUpdate, Started};
use std::time::Duration;
use wxopen_models::records::HistoryKind;
use wxopen_models::registration::{RegistrationKind, RegistrationState};

fn new<'a>(id: &'a str, identity: &'a str, created_at: Timestamp) -> NewRegistration<'a> {
    NewRegistration {
        id,
        kind: RegistrationKind::Enterprise,
        ext: "customer-7",
        identity,
        created_at,
        deadline: created_at.plus(Duration::from_secs(86_400)),
        keep_until: created_at.plus(Duration::from_secs(30 * 86_400)),
    }
}

/// A second registration of the same identity is answered by the live one; once that one has
/// ended (or expired), the identity is free for a new one.
pub async fn a_registration_holds_its_identity_only_while_it_waits(s: impl Fixture) {
    let t = now();
    assert_eq!(
        s.start_registration(&new("r1", "id-acme", t), t)
            .await
            .unwrap(),
        Started::New
    );
    match s
        .start_registration(&new("r2", "id-acme", t), t)
        .await
        .unwrap()
    {
        Started::Existing(live) => {
            assert_eq!((live.id.as_str(), live.ext.as_str()), ("r1", "customer-7"));
            assert_eq!(live.state(t), RegistrationState::Waiting);
        }
        other => panic!("{other:?}"),
    }
    assert!(s.registration("r2").await.unwrap().is_none(), "not stored");
    let failed = RegistrationEnd::Failed {
        status: 100001,
        reason: "timed out".into(),
    };
    s.end_registration("r1", &failed, t).await.unwrap();
    assert_eq!(
        s.start_registration(&new("r3", "id-acme", t), t)
            .await
            .unwrap(),
        Started::New
    );
    let by_identity = s.find_registration(&["id-acme".into()]).await.unwrap();
    assert_eq!(by_identity.unwrap().id, "r3");
    // Past its deadline a waiting registration has expired and gives its identity up.
    let later = t.plus(Duration::from_secs(86_401));
    assert_eq!(
        s.registration("r3").await.unwrap().unwrap().state(later),
        RegistrationState::Expired
    );
    assert_eq!(
        s.start_registration(&new("r4", "id-acme", later), later)
            .await
            .unwrap(),
        Started::New
    );
}

/// Keys added later find the registration; its first end stays whatever arrives after it.
pub async fn a_registration_is_found_by_its_keys_and_ends_once(s: impl Fixture) {
    let t = secs(1_900_000_000);
    s.start_registration(&new("r1", "id-one", t), t)
        .await
        .unwrap();
    let keys = ["task:t-1".to_owned()];
    let account = appid("wxnewmini");
    s.update_registration(
        "r1",
        &RegistrationUpdate {
            keys: &keys,
            verification_url: Some("https://wx.example/verify?t=1"),
            appid: Some(&account),
        },
    )
    .await
    .unwrap();
    let found = s
        .find_registration(&["unknown".into(), "task:t-1".into()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "r1");
    assert_eq!(
        found.verification_url.as_deref(),
        Some("https://wx.example/verify?t=1")
    );
    assert_eq!(found.appid.as_ref(), Some(&account));
    assert!(s
        .find_registration(&["unknown".into()])
        .await
        .unwrap()
        .is_none());

    let registered = RegistrationEnd::Registered(account.clone());
    let ended = s
        .end_registration("r1", &registered, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.end, Some(registered.clone()));
    let failed = RegistrationEnd::Failed {
        status: 1001,
        reason: "limit".into(),
    };
    let again = s.end_registration("r1", &failed, t).await.unwrap().unwrap();
    assert_eq!(again.end, Some(registered), "the first end stays");
    assert_eq!(again.state(t), RegistrationState::Registered);
    assert!(s
        .end_registration("nope", &failed, t)
        .await
        .unwrap()
        .is_none());
}

/// An authorizer stored without `ext` is bound once, with an `authorized` history item
/// carrying it; one that has an `ext` keeps it; an unknown one is not created.
pub async fn an_authorizer_is_bound_to_its_ext_once(s: impl Fixture) {
    let app = appid("wxregistered");
    s.save_authorization(&auth("wxregistered", Some("r1"), &[17, 18]), now(), now())
        .await
        .unwrap();
    // Later than the authorization, so the history reads in order.
    let later = now().plus(Duration::from_secs(1));
    let bound = s
        .bind_ext(&app, "customer-7", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bound.ext.as_deref(), Some("customer-7"));
    let kept = s
        .bind_ext(&app, "customer-8", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.ext.as_deref(), Some("customer-7"));
    let stored = s.load_authorizer(&app).await.unwrap().unwrap();
    assert_eq!(stored.record.ext.as_deref(), Some("customer-7"));
    assert_eq!(stored.record.version, bound.version);
    let history = s.history(&app).await.unwrap();
    let kinds: Vec<_> = history.iter().map(|h| (h.kind, h.ext.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (HistoryKind::Authorized, None),
            (HistoryKind::Authorized, Some("customer-7".into()))
        ]
    );
    assert!(s
        .bind_ext(&appid("wxnotstored"), "customer-7", now())
        .await
        .unwrap()
        .is_none());
}
