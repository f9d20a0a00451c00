//! The handler through the production wiring, on the memory store and an in-process WeChat.

use super::handle;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::time::Duration;
use wxopen::clock::Timestamp;
use wxopen::store::AuthorizerStore;
use wxopen::testing::INFO_OFFICIAL_ACCOUNT;
use wxopen_lambda::testing::*;
use wxopen_models::AuthorizerAppid;

async fn call(p: &Platform, req: Request) -> Response<Body> {
    handle(&p.core.authorizers(), req)
        .await
        .expect("the handler answers HTTP")
}

fn get_one(appid: &str, query: &[(&str, &str)]) -> Request {
    http_event_with_path_param(&format!("/authorizers/{appid}"), appid, query)
}

#[tokio::test]
async fn info_merges_live_wechat_info_with_the_stored_record_and_saves_a_snapshot() {
    let p = Platform::new().with_ticket().await;
    p.authorized(SEED_APPID).await;
    let official = serde_json::from_str(INFO_OFFICIAL_ACCOUNT).unwrap();
    p.wechat
        .script("api_get_authorizer_info", [Reply::Json(official)]);
    let resp = call(&p, get_one(SEED_APPID, &[])).await;
    assert_eq!(resp.status(), 200);
    let body = body_json(&resp);
    assert_eq!(body["authorizer_appid"], SEED_APPID);
    assert_eq!(body["status"], "authorized");
    assert_eq!(body["permission_ids"], json!([1, 15]));
    assert_eq!(
        body["permissions"][1],
        json!({"id": 15, "name": "Custom menu", "name_zh": "自定义菜单权限"})
    );
    assert_eq!(body["account_kind"], "official_account");
    assert_eq!(
        body["authorizer_info"]["nick_name"],
        "WeixinSDK Demo Special"
    );
    assert_eq!(body["authorizer_info"]["service_type_info"]["id"], 2);
    assert_eq!(body["info_source"], "live");
    assert!(
        !body_text(&resp).contains("refresh-of"),
        "no token in the answer"
    );
    let appid = AuthorizerAppid::parse(SEED_APPID).unwrap();
    let stored = p.core.store.load_authorizer(&appid).await.unwrap().unwrap();
    assert!(stored.info.is_some(), "the snapshot is saved");
    // Within max_age the snapshot answers, without WeChat; max_age 0 always asks WeChat.
    let direct_with =
        |age: u64| direct(json!({"authorizer_appid": SEED_APPID, "max_age_seconds": age}));
    let calls = p.wechat.count("api_get_authorizer_info");
    assert_eq!(
        body_json(&call(&p, direct_with(300)).await)["info_source"],
        "snapshot"
    );
    assert_eq!(p.wechat.count("api_get_authorizer_info"), calls);
    assert_eq!(
        body_json(&call(&p, direct_with(0)).await)["info_source"],
        "live"
    );
    assert_eq!(p.wechat.count("api_get_authorizer_info"), calls + 1);
}

#[tokio::test]
async fn snapshot_false_answers_live_without_saving() {
    let p = Platform::new().with_ticket().await;
    p.authorized("wxnosnapshot").await;
    let req = direct(json!({"authorizer_appid": "wxnosnapshot", "snapshot": false}));
    assert_eq!(body_json(&call(&p, req).await)["info_source"], "live");
    let appid = AuthorizerAppid::parse("wxnosnapshot").unwrap();
    let stored = p.core.store.load_authorizer(&appid).await.unwrap().unwrap();
    assert!(stored.info.is_none());
}

#[tokio::test]
async fn info_types_the_mini_program_variant_and_reads_the_last_path_segment() {
    let p = Platform::new().with_ticket().await;
    p.authorized("wxminiprogram").await;
    // As `cargo lambda watch` mounts it: no path parameter, the AppID is the last segment.
    let req = http_event(
        "GET",
        "/lambda-url/authorizer-info/wxminiprogram",
        &[],
        &[],
        None,
    );
    let body = body_json(&call(&p, req).await);
    assert_eq!(body["authorizer_appid"], "wxminiprogram");
    assert_eq!(body["account_kind"], "mini_program");
    assert_eq!(
        body["authorizer_info"]["miniprograminfo"]["network"]["RequestDomain"],
        json!(["https://www.qq.com"])
    );
    assert_eq!(body["authorizer_info"]["signature"], "Time is passing by.");
}

#[tokio::test]
async fn info_answers_404_for_unknown_409_for_revoked_and_400_for_bad_input() {
    let p = Platform::new().with_ticket().await;
    let resp = call(&p, get_one("wxnobody", &[])).await;
    assert_eq!(error_of(&resp), (404, json!("unknown_authorizer")));
    p.authorized("wxrevoked").await;
    let appid = AuthorizerAppid::parse("wxrevoked").unwrap();
    let later = Timestamp::now().plus(Duration::from_secs(5));
    p.core
        .store
        .revoke_authorizer(&appid, later, Timestamp::now())
        .await
        .unwrap();
    let resp = call(&p, get_one("wxrevoked", &[])).await;
    assert_eq!(error_of(&resp), (409, json!("authorizer_revoked")));
    let resp = call(&p, get_one("wx1", &[("max_age_seconds", "soon")])).await;
    assert_eq!(error_of(&resp), (400, json!("invalid_max_age_seconds")));
    let err = handle(
        &p.core.authorizers(),
        direct(json!({"authorizer_appid": "bad appid!"})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (400, "invalid_authorizer_appid")
    );
    assert_eq!(p.wechat.count("api_get_authorizer_info"), 0);
}

#[tokio::test]
async fn authorizers_are_listed_in_pages_without_tokens() {
    let p = Platform::new();
    for i in 0..5 {
        p.authorized(&format!("wxlist{i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "2")];
        q.extend(cursor.as_deref().map(|c| ("cursor", c)));
        let body = body_json(&call(&p, http_event("GET", "/authorizers", &q, &[], None)).await);
        for item in body["items"].as_array().unwrap() {
            seen.push(item["authorizer_appid"].as_str().unwrap().to_owned());
            assert!(item.get("refresh_token").is_none());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("wxlist{i}")).collect::<Vec<_>>()
    );
    let body = body_json(&call(&p, direct(json!({"limit": 10}))).await);
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    for (q, code) in [
        (("limit", "0"), "invalid_limit"),
        (("limit", "1000"), "invalid_limit"),
        (("cursor", "../x"), "invalid_cursor"),
    ] {
        let resp = call(&p, http_event("GET", "/authorizers", &[q], &[], None)).await;
        assert_eq!(error_of(&resp), (400, json!(code)));
    }
}

#[tokio::test]
async fn a_cursor_the_service_did_not_issue_is_a_400_naming_it() {
    let p = Platform::new();
    p.authorized("wxlisted1").await;
    for cursor in ["wxneverissued", "wxlisted0"] {
        let req = http_event("GET", "/authorizers", &[("cursor", cursor)], &[], None);
        let resp = call(&p, req).await;
        assert_eq!(error_of(&resp), (400, json!("invalid_cursor")), "{cursor}");
        let message = body_json(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(cursor) && message.contains("next_cursor"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn every_time_in_the_answer_is_epoch_seconds() {
    let p = Platform::new().with_ticket().await;
    p.authorized("wxseconds").await;
    let body = body_json(&call(&p, get_one("wxseconds", &[])).await);
    let now = wxopen::clock::now_secs();
    for field in ["authorized_at", "updated_at", "info_fetched_at"] {
        let at = body[field]
            .as_i64()
            .unwrap_or_else(|| panic!("{field}: {body}"));
        assert!(
            (now - 60..=now + 60).contains(&at),
            "{field} = {at}, now {now}"
        );
    }
}
