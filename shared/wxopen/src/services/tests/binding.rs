//! Binding an authorization to the platform's own customer: only through a minted link, stored
//! server-side, and a success redirect whose signature a changed URL fails.

use super::*;
use crate::state::verify_success;
use crate::store::HistoryReader;

/// The instance's authorization use case, with a success URL.
fn with_success_url(i: &Instance) -> Authorization {
    Authorization::new(
        i.api.clone(),
        i.store.clone(),
        i.store.clone(),
        i.exchanger.clone(),
        StateSigner::new(Secret::new("s".repeat(32))),
        AuthPages {
            page_base: url::Url::parse("https://mp.example").unwrap(),
            callback: Some(url::Url::parse("https://platform.example/wechat/callback").unwrap()),
            success: Some(url::Url::parse("https://shop.example/connected").unwrap()),
            success_key: Secret::new("success-key"),
            anonymous: true,
        },
    )
}

/// Mints a link for `ext` and opens it: the authorization page's URL.
async fn open_minted_link(auth: &Authorization, ext: &str) -> String {
    let link = auth
        .mint_link(&LinkRequest {
            ext: ext.into(),
            ..Default::default()
        })
        .unwrap();
    auth.start(&AuthorizeRequest {
        link: Some(link_token(&link.url)),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn link_token(url: &str) -> String {
    assert!(
        url.starts_with("https://platform.example/wechat/authorize?link="),
        "{url}"
    );
    query(url)["link"].clone()
}

#[tokio::test]
async fn a_minted_link_binds_the_record_the_history_and_a_signed_redirect_to_its_ext() {
    let w = World::new().await;
    let i = w.instance();
    let auth = with_success_url(&i);
    let link = auth
        .mint_link(&LinkRequest {
            ext: "customer-42".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(link.expires_at.secs() > Timestamp::now().plus(LINK_LIFETIME).secs() - 5);
    assert_eq!(w.wechat.total(), 0, "minting calls no WeChat API");
    let page = auth
        .start(&AuthorizeRequest {
            link: Some(link_token(&link.url)),
            ..Default::default()
        })
        .await
        .unwrap();
    let state = query(&query(&page)["redirect_uri"])["state"].clone();
    let done = auth
        .complete(Some("code-wxbound"), Some(&state))
        .await
        .unwrap();
    assert_eq!(done.record.ext.as_deref(), Some("customer-42"));
    let history = w.store.history(&appid("wxbound")).await.unwrap();
    assert_eq!(history.last().unwrap().ext.as_deref(), Some("customer-42"));

    let redirect = query(done.redirect.as_deref().unwrap());
    assert_eq!(redirect["authorizer_appid"], "wxbound");
    assert_eq!(redirect["ext"], "customer-42");
    let expires_at: i64 = redirect["expires_at"].parse().unwrap();
    let key = Secret::new("success-key");
    let now = Timestamp::now().secs();
    let verify = |appid: &str, ext: &str, expires_at: i64| {
        verify_success(
            &key,
            appid,
            Some(ext),
            expires_at,
            &redirect["signature"],
            now,
        )
    };
    assert!(verify("wxbound", "customer-42", expires_at));
    // Whoever types the URL with another customer or account fails the check.
    assert!(!verify("wxbound", "customer-43", expires_at));
    assert!(!verify("wxother", "customer-42", expires_at));
    assert!(!verify("wxbound", "customer-42", expires_at + 1));
}

#[tokio::test]
async fn the_binding_holds_when_the_authorized_push_exchanges_the_code_first() {
    let w = World::new().await;
    let i = w.instance();
    let auth = with_success_url(&i);
    let page = open_minted_link(&auth, "customer-7").await;
    let q = query(&page);
    let pre_auth_code = q["pre_auth_code"].clone();
    let state = query(&q["redirect_uri"])["state"].clone();
    // WeChat's push names the pre-auth code, and wins the race with the browser.
    let xml = format!("<xml><AppId>wx_component_svc</AppId><CreateTime>{}</CreateTime><InfoType>authorized</InfoType><AuthorizerAppid>wxpushed</AuthorizerAppid><AuthorizationCode>code-wxpushed</AuthorizationCode><PreAuthCode>{pre_auth_code}</PreAuthCode></xml>", Timestamp::now().secs());
    let sealed = i.crypto.seal(&xml, "1", "n");
    i.pushes.handle(&signed(&sealed)).await.unwrap();
    let stored = w.stored("wxpushed").await;
    assert_eq!(stored.record.ext.as_deref(), Some("customer-7"));
    // The browser arrives second: the stored binding is the answer.
    let done = auth
        .complete(Some("code-wxpushed"), Some(&state))
        .await
        .unwrap();
    assert_eq!(done.record.ext.as_deref(), Some("customer-7"));
    assert_eq!(
        query(done.redirect.as_deref().unwrap())["ext"],
        "customer-7"
    );
}

#[tokio::test]
async fn an_unsigned_ext_is_refused_before_any_wechat_call_and_a_bad_link_is_forbidden() {
    let w = World::new().await;
    let i = w.instance();
    let auth = with_success_url(&i);
    let err = auth
        .start(&AuthorizeRequest {
            ext: Some("customer-42".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Invalid {
                code: "unsigned_ext",
                ..
            }
        ),
        "{err:?}"
    );
    let signer = StateSigner::new(Secret::new("s".repeat(32)));
    let claims = |expires_at| crate::state::LinkClaims {
        ext: "customer-42".into(),
        auth_type: None,
        biz_appid: None,
        mobile: false,
        expires_at,
    };
    let expired = signer.issue_link(&claims(Timestamp::now().secs() - 1));
    let forged = StateSigner::new(Secret::new("x".repeat(32)))
        .issue_link(&claims(Timestamp::now().secs() + 60));
    let good = signer.issue_link(&claims(Timestamp::now().secs() + 60));
    let altered = format!("{}A", good);
    for (token, expected) in [
        (expired, crate::state::LinkError::Expired),
        (forged, crate::state::LinkError::Forged),
        (altered, crate::state::LinkError::Malformed),
    ] {
        let err = auth
            .start(&AuthorizeRequest {
                link: Some(token),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ServiceError::Link(e) if *e == expected || (expected == crate::state::LinkError::Malformed && *e == crate::state::LinkError::Forged)),
            "{err:?}"
        );
    }
    assert_eq!(w.wechat.total(), 0, "no WeChat API was called");
    // A link needs a customer and a lifetime within bounds.
    assert!(auth
        .mint_link(&LinkRequest {
            ext: " ".into(),
            ..Default::default()
        })
        .is_err());
    assert!(auth
        .mint_link(&LinkRequest {
            ext: "c".into(),
            expires_in: Some(MAX_LINK_LIFETIME + Duration::from_secs(1)),
            ..Default::default()
        })
        .is_err());
}
