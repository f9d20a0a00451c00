//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use lambda_http::{Body, Response};
use serde_json::json;
use wxopen::clock::now_secs;
use wxopen::state::StateSigner;
use wxopen::store::AuthorizerStore;
use wxopen_lambda::testing::*;
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::{AuthorizerAppid, PermissionId, Secret};

/// A state as `authorize` signs it, for `ext`, valid for ten minutes.
fn state(ext: Option<&str>) -> String {
    StateSigner::new(Secret::new(STATE_SECRET))
        .issue(ext, now_secs() + 600)
        .unwrap()
}

async fn get(p: &Platform, query: &[(&str, &str)], headers: &[(&str, &str)]) -> Response<Body> {
    let service = p.core.authorization(false).unwrap();
    let req = http_event("GET", "/wechat/callback", query, headers, None);
    handle(&service, req)
        .await
        .expect("the handler answers HTTP")
}

const HTML: (&str, &str) = ("accept", "text/html,application/xhtml+xml");

#[tokio::test]
async fn callback_exchanges_stores_and_shows_the_account_and_its_permissions() {
    let p = Platform::new().with_ticket().await;
    p.wechat.answer_like_the_seed();
    let state = state(None);
    let query = [
        ("auth_code", "queryauthcode@@@1"),
        ("expires_in", "600"),
        ("state", &state),
    ];
    let resp = get(&p, &query, &[HTML]).await;
    assert_eq!(resp.status(), 200);
    let page = body_text(&resp);
    assert!(page.contains("Authorization complete"), "{page}");
    assert!(
        page.contains("WeixinSDK Demo Special"),
        "the account's name: {page}"
    );
    assert!(page.contains(SEED_APPID));
    for name in ["Message management", "User management", "Account services"] {
        assert!(page.contains(name), "{name} in {page}");
    }
    let appid = AuthorizerAppid::parse(SEED_APPID).unwrap();
    let stored = p.core.store.load_authorizer(&appid).await.unwrap().unwrap();
    assert_eq!(stored.record.status, AuthorizerStatus::Authorized);
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        "dTo-YCXPL4llX-u1W1pPpnp8Hgm4wpJtlR6iV0doKdY"
    );
    assert_eq!(
        stored.record.permission_ids,
        vec![PermissionId(1), PermissionId(2), PermissionId(3)]
    );
    assert!(
        stored.info.is_some(),
        "the profile fetched for the page is kept"
    );
    assert_eq!(p.wechat.count("api_query_auth"), 1);
}

#[tokio::test]
async fn callback_redirects_to_the_success_url_with_the_appid_and_ext_signed() {
    let p = Platform::with(&[
        ("AUTH_SUCCESS_URL", "https://console.example/done?tab=1"),
        ("AUTH_SUCCESS_SIGNING_KEY", "the-platforms-success-key"),
    ])
    .with_ticket()
    .await;
    let state = state(Some("tenant-42"));
    let resp = get(
        &p,
        &[("auth_code", "code-wxtenant42app"), ("state", &state)],
        &[],
    )
    .await;
    assert_eq!(resp.status(), 302);
    let q = query_of(&header(&resp, "location").unwrap());
    assert_eq!(q["tab"], "1");
    assert_eq!(q["authorizer_appid"], "wxtenant42app");
    assert_eq!(q["ext"], "tenant-42");
    let expires_at: i64 = q["expires_at"].parse().unwrap();
    assert!(expires_at > now_secs());
    let key = Secret::new("the-platforms-success-key");
    let verify = |key: &Secret, appid, ext| {
        wxopen::state::verify_success(key, appid, ext, expires_at, &q["signature"], now_secs())
    };
    assert!(verify(&key, "wxtenant42app", Some("tenant-42")));
    assert!(!verify(&key, "wxsomeoneelse", Some("tenant-42")));
    assert!(!verify(&key, "wxtenant42app", Some("tenant-43")));
    assert!(
        !verify(
            &Secret::new(STATE_SECRET),
            "wxtenant42app",
            Some("tenant-42")
        ),
        "signed with the success key, not the state key"
    );
    let appid = AuthorizerAppid::parse("wxtenant42app").unwrap();
    let stored = p.core.store.load_authorizer(&appid).await.unwrap().unwrap();
    assert_eq!(
        stored.record.ext.as_deref(),
        Some("tenant-42"),
        "the binding is stored"
    );
}

#[tokio::test]
async fn callback_refuses_missing_forged_and_expired_state_before_calling_wechat() {
    let p = Platform::new().with_ticket().await;
    let expired = StateSigner::new(Secret::new(STATE_SECRET))
        .issue(None, now_secs() - 1)
        .unwrap();
    let forged = StateSigner::new(Secret::new("another-secret-0123456789abcdefgh"))
        .issue(None, now_secs() + 600)
        .unwrap();
    for (state, code) in [
        (None, "missing_state"),
        (Some(forged.as_str()), "invalid_state"),
        (Some(expired.as_str()), "expired_state"),
    ] {
        let mut q = vec![("auth_code", "c1")];
        q.extend(state.map(|s| ("state", s)));
        let resp = get(&p, &q, &[("accept", "application/json")]).await;
        assert_eq!(error_of(&resp), (403, json!(code)));
        let page = get(&p, &q, &[("accept", "text/html")]).await;
        assert_eq!(page.status(), 403);
        assert!(body_text(&page).contains("start the authorization again"));
    }
    assert_eq!(p.wechat.count("api_query_auth"), 0);
}

#[tokio::test]
async fn a_used_state_is_a_403_state_used_without_a_wechat_call_even_for_another_code() {
    let p = Platform::new().with_ticket().await;
    p.wechat.answer_like_the_seed();
    let state = state(Some("cust-7"));
    let json_accept = [("accept", "application/json")];
    let first = get(
        &p,
        &[("auth_code", "queryauthcode@@@1"), ("state", &state)],
        &json_accept,
    )
    .await;
    assert_eq!(first.status(), 200, "{}", body_text(&first));
    assert_eq!(p.wechat.count("api_query_auth"), 1);
    // The same state again, with the same code or another account's: refused, nothing spent.
    for code in ["queryauthcode@@@1", "queryauthcode@@@2"] {
        let again = get(&p, &[("auth_code", code), ("state", &state)], &json_accept).await;
        assert_eq!(error_of(&again), (403, json!("state_used")));
    }
    let page = get(&p, &[("auth_code", "c"), ("state", &state)], &[HTML]).await;
    assert_eq!(page.status(), 403);
    assert_eq!(p.wechat.count("api_query_auth"), 1);
}

#[tokio::test]
async fn callback_failures_name_their_cause_with_wechats_errcode() {
    let p = Platform::new().with_ticket().await;
    let state = state(None);
    let json_accept = [("accept", "application/json")];
    let resp = get(&p, &[("state", &state)], &json_accept).await;
    assert_eq!(error_of(&resp), (400, json!("missing_auth_code")));
    for (errcode, code) in [(61010, "auth_code_expired"), (61009, "auth_code_invalid")] {
        p.wechat.script("api_query_auth", [Reply::Errcode(errcode)]);
        // A fresh state each time: a state is used once, whatever WeChat answers.
        let state = self::state(None);
        let resp = get(&p, &[("auth_code", "old"), ("state", &state)], &json_accept).await;
        assert_eq!(error_of(&resp), (400, json!(code)));
        assert_eq!(body_json(&resp)["error"]["wechat_errcode"], errcode);
    }
}

#[tokio::test]
async fn an_expired_auth_code_shows_a_page_telling_the_person_to_start_again() {
    let p = Platform::new().with_ticket().await;
    p.wechat.script("api_query_auth", [Reply::Errcode(61010)]);
    let state = state(None);
    let resp = get(
        &p,
        &[("auth_code", "c"), ("state", &state)],
        &[("accept", "text/html")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        header(&resp, "content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let page = body_text(&resp);
    assert!(page.contains("has expired"), "{page}");
    assert!(page.contains("start the authorization again"), "{page}");
}

#[tokio::test]
async fn an_administrator_whose_browser_prefers_chinese_reads_the_pages_in_chinese() {
    let p = Platform::new().with_ticket().await;
    p.wechat.answer_like_the_seed();
    let headers = [HTML, ("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")];
    let state = state(None);
    let resp = get(
        &p,
        &[("auth_code", "queryauthcode@@@1"), ("state", &state)],
        &headers,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let page = body_text(&resp);
    assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
    assert!(page.contains("授权成功"), "{page}");
    assert!(page.contains("公众号"), "the account's type: {page}");
    assert!(page.contains("WeixinSDK Demo Special"), "its name: {page}");
    for name in ["消息管理权限", "用户管理权限", "帐号服务权限"] {
        assert!(page.contains(name), "{name} in {page}");
    }
    assert!(!page.contains("Message management"), "{page}");
    // A failure too: the advice in Chinese, the code as it is.
    let resp = get(
        &p,
        &[("auth_code", "queryauthcode@@@2"), ("state", "forged")],
        &headers,
    )
    .await;
    assert_eq!(resp.status(), 403);
    let page = body_text(&resp);
    assert!(
        page.contains("授权失败") && page.contains("重新发起授权"),
        "{page}"
    );
    assert!(page.contains("invalid_state"), "{page}");
}
