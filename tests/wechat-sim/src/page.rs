//! The authorization page (PC and mobile) and the "Authorize" confirmation, which sends the
//! browser to `redirect_uri` with `auth_code` and `expires_in` and pushes `authorized`.

use crate::push::push_event;
use crate::Shared;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::HashMap;
use wxopen::clock::now_secs;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The look of WeChat's pages, roughly: a centred card, WeChat's green button. Chinese first,
/// as WeChat writes them, English beside it for whoever runs `make dev`.
const STYLE: &str = "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>\
    body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;background:#f2f2f2;margin:0;color:#191919}\
    main{max-width:30rem;margin:3rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 1px 4px rgba(0,0,0,.08)}\
    h1{font-size:1.25rem;margin:0 0 .25rem}.en{color:#888;font-size:.85rem;display:block}\
    ul{list-style:none;padding:0}li.account form{display:flex;align-items:center;gap:.75rem;padding:.75rem 0;border-top:1px solid #eee}\
    li.account span{color:#888;font-size:.85rem;flex:1}button{background:#07c160;color:#fff;border:0;border-radius:4px;padding:.5rem 1.1rem;font-size:.95rem;cursor:pointer}\
    .banner{color:#888;font-size:.8rem;margin-top:1.5rem}</style>";

/// The banner every page carries: this is not WeChat.
const BANNER: &str =
    "<p class=\"banner\">微信模拟器 · WeChat simulator: nothing here reaches WeChat.</p>";

fn error_page(status: StatusCode, message: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>授权失败 · WeChat (simulator)</title>{STYLE}</head>\
             <body><main><h1 id=\"sim-error\">无法授权<span class=\"en\">Authorization unavailable</span></h1><p>{}</p>{BANNER}</main></body></html>",
            escape(message)
        )),
    )
        .into_response()
}

/// `GET /cgi-bin/componentloginpage` and `GET /safe/bindcomponent`.
pub async fn authorization_page(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let state = shared.lock().unwrap();
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("component_appid") != state.config.component_appid {
        return error_page(
            StatusCode::BAD_REQUEST,
            "component_appid is not this platform's",
        );
    }
    let pre_auth_code = get("pre_auth_code");
    match state.pre_auth_codes.get(&pre_auth_code) {
        None => return error_page(StatusCode::BAD_REQUEST, "pre_auth_code is invalid"),
        Some(c) if c.used => {
            return error_page(StatusCode::BAD_REQUEST, "pre_auth_code was already used")
        }
        Some(c) if c.expires_at <= now_secs() => {
            return error_page(StatusCode::BAD_REQUEST, "pre_auth_code has expired")
        }
        Some(_) => {}
    }
    let redirect_uri = get("redirect_uri");
    if url::Url::parse(&redirect_uri).is_err() {
        return error_page(StatusCode::BAD_REQUEST, "redirect_uri is not a URL");
    }
    let biz = q.get("biz_appid");
    let auth_type = get("auth_type");
    let rows: String = state
        .accounts
        .iter()
        .filter(|a| match (biz, auth_type.as_str()) {
            (Some(b), _) => a.appid == b,
            (None, "1") => a.kind == "official_account",
            (None, "2") => a.kind == "mini_program",
            _ => true,
        })
        .map(|a| {
            format!(
                "<li class=\"account\"><form method=\"post\" action=\"/_sim/confirm\">\
                 <strong>{name}</strong> <span>({kind}, {appid})</span>\
                 <input type=\"hidden\" name=\"pre_auth_code\" value=\"{pre}\">\
                 <input type=\"hidden\" name=\"redirect_uri\" value=\"{redirect}\">\
                 <input type=\"hidden\" name=\"appid\" value=\"{appid}\">\
                 <button type=\"submit\" id=\"authorize-{appid}\">授权 Authorize</button></form></li>",
                name = escape(a.name),
                kind = match a.kind {
                    "official_account" => "公众号 Official Account",
                    "mini_program" => "小程序 Mini Program",
                    other => other,
                },
                appid = a.appid,
                pre = escape(&pre_auth_code),
                redirect = escape(&redirect_uri),
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>授权给第三方平台 · Authorize a third-party platform (WeChat simulator)</title>{STYLE}</head>\
         <body><main><h1 id=\"sim-authorization-page\">授权给第三方平台 {component}<span class=\"en\">Authorize {component}</span></h1>\
         <p>请选择授权给该第三方平台的帐号<span class=\"en\">Choose the account that authorizes this third-party platform.</span></p><ul>{rows}</ul>{BANNER}</main></body></html>",
        component = escape(&state.config.component_appid)
    ))
    .into_response()
}

/// `POST /_sim/confirm`: the administrator pressed "Authorize".
pub async fn confirm(
    State(shared): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (location, event) = {
        let mut state = shared.lock().unwrap();
        let appid = get("appid");
        if state.account(&appid).is_none() {
            return error_page(StatusCode::BAD_REQUEST, "unknown account");
        }
        match state.pre_auth_codes.get_mut(&get("pre_auth_code")) {
            Some(c) if !c.used && c.expires_at > now_secs() => c.used = true,
            _ => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "pre_auth_code is invalid, used or expired: start again",
                )
            }
        }
        // A new authorization replaces the refresh token.
        let ttl = state.config.auth_code_ttl;
        let code = state.authorize(&appid);
        let mut url = url::Url::parse(&get("redirect_uri")).expect("checked on the page");
        url.query_pairs_mut()
            .append_pair("auth_code", &code)
            .append_pair("expires_in", &ttl.to_string());
        let event = format!(
            "<xml><AppId><![CDATA[{component}]]></AppId><CreateTime>{now}</CreateTime><InfoType><![CDATA[authorized]]></InfoType>\
             <AuthorizerAppid><![CDATA[{appid}]]></AuthorizerAppid><AuthorizationCode><![CDATA[{code}]]></AuthorizationCode>\
             <AuthorizationCodeExpiredTime>{exp}</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[{pre}]]></PreAuthCode></xml>",
            component = state.config.component_appid,
            now = now_secs(),
            exp = now_secs() + ttl,
            pre = get("pre_auth_code"),
        );
        (url.to_string(), event)
    };
    // Like WeChat, the push goes out beside the redirect; whoever exchanges the code first wins.
    let pusher = shared.clone();
    tokio::spawn(async move {
        if let Err(e) = push_event(&pusher, &event).await {
            tracing::warn!(error = %e, "authorized push failed");
        }
    });
    Redirect::to(&location).into_response()
}
