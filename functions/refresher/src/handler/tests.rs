//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use serde_json::json;
use std::time::Duration;
use wxopen::clock::{now_secs, Timestamp};
use wxopen::services::ReconcileSettings;
use wxopen::store::{AuthorizerStore, CachedToken, Lease, TokenKey, TokenStore, TokenWrite};
use wxopen_lambda::testing::*;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::{AccessToken, AuthorizerAppid};

/// A deadline as far as a 15-minute Lambda's.
fn deadline() -> Timestamp {
    Timestamp::now().plus(Duration::from_secs(900))
}

/// The stored component token, valid for `left` seconds more.
async fn component_token_left(p: &Platform, left: u64) {
    let now = Timestamp::now();
    let lease = Lease {
        owner: "seed".into(),
        until: now.plus(Duration::from_secs(1)),
    };
    let key = TokenKey::Component;
    p.core.store.take_lease(&key, &lease, now).await.unwrap();
    let token = CachedToken {
        token: AccessToken::new(format!("component-token-left-{left}")),
        expires_at: now.plus(Duration::from_secs(left)),
    };
    let write = TokenWrite {
        owner: "seed",
        token: &token,
        authorizer: None,
        now,
    };
    assert!(p.core.store.write_token(&key, &write).await.unwrap());
}

#[tokio::test]
async fn refresher_renews_the_component_token_only_under_twenty_minutes() {
    let p = Platform::new().with_ticket().await;
    component_token_left(&p, 3600).await;
    let refresher = p.core.refresher(ReconcileSettings::default());
    let report = handle(&refresher, json!({"source": "aws.events"}), deadline())
        .await
        .unwrap();
    assert!(!report.component_token_refreshed);
    assert_eq!(p.wechat.count("api_component_token"), 0);
    component_token_left(&p, 15 * 60).await;
    // A container that has not seen the token yet.
    let fresh = p
        .another_container()
        .refresher(ReconcileSettings::default());
    let report = handle(&fresh, json!({}), deadline()).await.unwrap();
    assert!(report.component_token_refreshed);
    assert_eq!(p.wechat.count("api_component_token"), 1);
    assert!(report.component_token_expires_at.secs() > now_secs() + 7000);
    let answer = serde_json::to_value(&report).unwrap();
    assert!(answer["component_token_expires_at"].as_i64().unwrap() > now_secs() + 7000);
}

fn listed(appid: &str, refresh: &str, auth_time: i64) -> AuthorizerListItem {
    serde_json::from_value(
        json!({"authorizer_appid": appid, "refresh_token": refresh, "auth_time": auth_time}),
    )
    .unwrap()
}

#[tokio::test]
async fn refresher_reconciles_authorizers_in_pages_of_500() {
    let p = Platform::new().with_ticket().await;
    p.authorized("wxhealthy").await;
    let mut list: Vec<_> = (0..499)
        .map(|i| {
            listed(
                &format!("wxlisted{i:03}"),
                &format!("listed-refresh-{i}"),
                1_700_000_000,
            )
        })
        .collect();
    list.push(listed("wxhealthy", "listed-healthy", 1_700_000_000));
    list.push(listed("wxlast", "listed-last", 1_700_000_000));
    *p.wechat.listed.lock().unwrap() = list;
    let refresher = p.core.refresher(ReconcileSettings::default());
    let report = handle(&refresher, json!({"job": "reconcile"}), deadline())
        .await
        .unwrap();
    assert_eq!(report.authorizers_listed, 501);
    assert_eq!(report.authorizers_added, 500);
    assert_eq!(
        p.wechat.count("api_get_authorizer_list"),
        2,
        "two pages of at most 500"
    );
    let get = |a: &str| {
        let appid = AuthorizerAppid::parse(a).unwrap();
        let store = p.core.store.clone();
        async move { store.load_authorizer(&appid).await.unwrap().unwrap() }
    };
    assert_eq!(
        get("wxhealthy").await.refresh_token.unwrap().expose(),
        "refresh-of-wxhealthy",
        "a usable refresh token from a later authorization than the listing is kept"
    );
    assert_eq!(
        get("wxlast").await.refresh_token.unwrap().expose(),
        "listed-last"
    );
}

#[tokio::test]
async fn refresher_without_a_ticket_fails_with_ticket_missing() {
    let p = Platform::new();
    let refresher = p.core.refresher(ReconcileSettings::default());
    let err = handle(&refresher, json!({}), deadline()).await.unwrap_err();
    assert_eq!(err.code, "ticket_missing");
}

#[tokio::test]
async fn an_unknown_job_is_a_named_error_and_calls_nothing() {
    let p = Platform::new().with_ticket().await;
    let refresher = p.core.refresher(ReconcileSettings::default());
    let err = handle(&refresher, json!({"job": "everything"}), deadline())
        .await
        .unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (400, "invalid_job"));
    assert_eq!(p.wechat.count("api_component_token"), 0);
}

#[tokio::test]
async fn the_sealing_jobs_are_named_jobs_and_memory_has_nothing_to_seal() {
    let p = Platform::new().with_ticket().await;
    let refresher = p.core.refresher(ReconcileSettings::default());
    let report = handle(&refresher, json!({"job": "seal_tokens"}), deadline())
        .await
        .unwrap();
    assert_eq!(
        (report.tokens_sealed, report.data_key.as_deref()),
        (Some(0), None)
    );
    let report = handle(&refresher, json!({"job": "rotate_data_key"}), deadline())
        .await
        .unwrap();
    assert_eq!(report.tokens_sealed, Some(0));
    let answer = serde_json::to_value(&report).unwrap();
    assert!(answer.get("data_key").is_none(), "{answer}");
    let plain = handle(&refresher, json!({}), deadline()).await.unwrap();
    let answer = serde_json::to_value(&plain).unwrap();
    assert!(answer.get("tokens_sealed").is_none(), "{answer}");
}
