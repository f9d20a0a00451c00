//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use serde_json::json;
use wxopen::clock::now_secs;
use wxopen::state::{LinkClaims, StateSigner};
use wxopen_lambda::testing::*;
use wxopen_models::Secret;

async fn get(p: &Platform, query: &[(&str, &str)]) -> lambda_http::Response<lambda_http::Body> {
    let service = p.core.authorization(true).unwrap();
    let req = http_event("GET", "/wechat/authorize", query, &[], None);
    handle(&service, req)
        .await
        .expect("the handler answers HTTP")
}

async fn location(p: &Platform, query: &[(&str, &str)]) -> String {
    let resp = get(p, query).await;
    header(&resp, "location").unwrap_or_else(|| panic!("no redirect: {}", body_text(&resp)))
}

async fn mint(p: &Platform, payload: serde_json::Value) -> serde_json::Value {
    let service = p.core.authorization(true).unwrap();
    body_json(&handle(&service, direct(payload)).await.unwrap())
}

#[tokio::test]
async fn authorize_redirects_to_the_pc_authorization_page_with_a_signed_state() {
    let p = Platform::new().with_ticket().await;
    let resp = get(&p, &[]).await;
    assert_eq!(resp.status(), 302);
    let location = header(&resp, "location").unwrap();
    assert!(
        location.starts_with("https://mp.weixin.qq.com/cgi-bin/componentloginpage?"),
        "{location}"
    );
    let q = query_of(&location);
    assert_eq!(q["component_appid"], COMPONENT);
    assert!(q["pre_auth_code"].starts_with("pre-"));
    assert_eq!(q["auth_type"], "3");
    let redirect = &q["redirect_uri"];
    assert!(
        redirect.starts_with(&format!("{CALLBACK_URL}?state=")),
        "{redirect}"
    );
    assert_eq!(p.wechat.count("api_create_preauthcode"), 1);
    assert_eq!(p.wechat.count("api_component_token"), 1);
}

#[tokio::test]
async fn authorize_supports_mobile_auth_type_and_biz_appid() {
    let p = Platform::new().with_ticket().await;
    let page = location(&p, &[("mobile", "1"), ("auth_type", "2")]).await;
    assert!(
        page.starts_with(
            "https://mp.weixin.qq.com/safe/bindcomponent?action=bindcomponent&no_scan=1&"
        ),
        "{page}"
    );
    assert!(page.ends_with("#wechat_redirect"));
    assert_eq!(query_of(&page)["auth_type"], "2");
    let q = query_of(&location(&p, &[("biz_appid", SEED_APPID), ("auth_type", "1")]).await);
    assert_eq!(q["biz_appid"], SEED_APPID);
    assert!(!q.contains_key("auth_type"), "biz_appid excludes auth_type");
}

#[tokio::test]
async fn a_minted_link_opens_the_page_with_its_own_choices_and_calls_wechat_only_when_opened() {
    let p = Platform::new().with_ticket().await;
    let link = mint(
        &p,
        json!({"ext": "customer-42", "auth_type": 1, "mobile": true, "expires_in": 3600}),
    )
    .await;
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://platform.example/wechat/authorize?link="),
        "{url}"
    );
    let expires_at = link["expires_at"].as_i64().unwrap();
    assert!((now_secs() + 3590..=now_secs() + 3600).contains(&expires_at));
    assert_eq!(p.wechat.total(), 0, "minting calls no WeChat API");
    // Opened, the page has the link's choices, whatever the query adds.
    let token = query_of(url)["link"].clone();
    let page = location(&p, &[("link", &token), ("auth_type", "3")]).await;
    assert!(page.contains("/safe/bindcomponent?"), "{page}");
    assert_eq!(query_of(&page)["auth_type"], "1");
    assert_eq!(p.wechat.count("api_create_preauthcode"), 1);
}

#[tokio::test]
async fn an_unsigned_ext_is_a_400_with_no_wechat_call_and_a_bad_link_a_403() {
    let p = Platform::new().with_ticket().await;
    let resp = get(&p, &[("ext", "customer-42")]).await;
    assert_eq!(error_of(&resp), (400, json!("unsigned_ext")));
    assert!(
        body_json(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invoke the authorize function directly"),
        "the fix is in the message"
    );
    let link = mint(&p, json!({"ext": "customer-42"})).await;
    let token = query_of(link["url"].as_str().unwrap())["link"].clone();
    let (payload, sig) = token.rsplit_once('.').unwrap();
    let claims = |ext: &str, expires_at| LinkClaims {
        ext: ext.into(),
        auth_type: None,
        biz_appid: None,
        mobile: false,
        expires_at,
    };
    let expired = StateSigner::new(Secret::new(STATE_SECRET))
        .issue_link(&claims("customer-42", now_secs() - 1));
    let forged = StateSigner::new(Secret::new("another-secret-0123456789abcdefgh"))
        .issue_link(&claims("customer-43", now_secs() + 600));
    let altered = format!("{payload}x.{sig}");
    for (token, code) in [
        (expired.as_str(), "expired_link"),
        (forged.as_str(), "invalid_link"),
        (altered.as_str(), "invalid_link"),
        ("garbage", "invalid_link"),
    ] {
        let resp = get(&p, &[("link", token)]).await;
        assert_eq!(error_of(&resp), (403, json!(code)), "{token}");
    }
    assert_eq!(p.wechat.total(), 0, "no WeChat API was called");
    // Minting needs an ext, and a lifetime within bounds.
    let service = p.core.authorization(true).unwrap();
    for payload in [
        json!({}),
        json!({"ext": "c", "expires_in": 99999999}),
        json!({"ext": "c", "expires_in": "soon"}),
        json!({"ext": "e".repeat(300)}),
    ] {
        let err = handle(&service, direct(payload.clone())).await.unwrap_err();
        assert_eq!(err.status, 400, "{payload}");
    }
    let err = handle(&service, direct(json!({"ext": "e".repeat(300)})))
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_ext");
}

#[tokio::test]
async fn authorize_refuses_bad_parameters_and_reports_a_missing_ticket() {
    let p = Platform::new();
    for (name, value, code) in [
        ("auth_type", "5", "invalid_auth_type"),
        ("auth_type", "x", "invalid_auth_type"),
        ("biz_appid", "wx bad", "invalid_biz_appid"),
    ] {
        let resp = get(&p, &[(name, value)]).await;
        assert_eq!(error_of(&resp), (400, json!(code)), "{name}={value}");
    }
    let resp = get(&p, &[]).await;
    assert_eq!(error_of(&resp), (503, json!("ticket_missing")));
    assert_eq!(p.wechat.count("api_create_preauthcode"), 0);
}

#[tokio::test]
async fn authorize_will_not_start_without_its_callback_url() {
    let p = Platform::with(&[("AUTH_CALLBACK_URL", "")]);
    let err = p
        .core
        .authorization(true)
        .err()
        .expect("a configuration error");
    assert!(err.to_string().contains("AUTH_CALLBACK_URL"), "{err}");
    assert!(
        p.core.authorization(false).is_ok(),
        "the callback does not need it"
    );
}

#[tokio::test]
async fn a_minted_link_opens_until_it_expires_and_then_is_a_403_without_a_wechat_call() {
    let p = Platform::new().with_ticket().await;
    let link = mint(&p, json!({"ext": "customer-42", "expires_in": 600})).await;
    let token = query_of(link["url"].as_str().unwrap())["link"].clone();
    p.clock.advance(std::time::Duration::from_secs(599));
    assert_eq!(get(&p, &[("link", &token)]).await.status(), 302);
    p.clock.advance(std::time::Duration::from_secs(2));
    let resp = get(&p, &[("link", &token)]).await;
    assert_eq!(error_of(&resp), (403, json!("expired_link")));
    assert_eq!(
        p.wechat.count("api_create_preauthcode"),
        1,
        "only the open in time"
    );
}

#[tokio::test]
async fn by_default_the_public_route_serves_only_minted_links_and_spends_nothing_anonymously() {
    let p = Platform::with(&[("AUTH_ANONYMOUS", "false")])
        .with_ticket()
        .await;
    for _ in 0..50 {
        let resp = get(&p, &[("auth_type", "3")]).await;
        assert_eq!(error_of(&resp), (403, json!("link_required")));
    }
    assert_eq!(p.wechat.total(), 0, "50 anonymous hits, no WeChat call");
    let message = body_json(&get(&p, &[]).await)["error"]["message"].clone();
    assert!(
        message.as_str().unwrap().contains("AUTH_ANONYMOUS"),
        "{message}"
    );
    // A minted link still opens the page, spending one pre-auth code.
    let link = mint(&p, json!({"ext": "customer-7"})).await;
    let token = query_of(link["url"].as_str().unwrap())["link"].clone();
    let page = location(&p, &[("link", &token)]).await;
    assert!(page.contains("pre_auth_code=pre-"), "{page}");
    assert_eq!(p.wechat.count("api_create_preauthcode"), 1);
}

#[tokio::test]
async fn a_link_opened_in_a_flood_spends_three_pre_auth_codes_a_minute() {
    let p = Platform::new().with_ticket().await;
    let link = mint(&p, json!({"ext": "customer-9"})).await;
    let token = query_of(link["url"].as_str().unwrap())["link"].clone();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(get(&p, &[("link", &token)]).await.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 302).count(),
        3,
        "{statuses:?}"
    );
    let resp = get(&p, &[("link", &token)]).await;
    assert_eq!(error_of(&resp), (429, json!("link_busy")));
    assert_eq!(p.wechat.count("api_create_preauthcode"), 3);
    // The next minute opens again.
    p.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(get(&p, &[("link", &token)]).await.status(), 302);
    assert_eq!(p.wechat.count("api_create_preauthcode"), 4);
}
