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

fn error_page(status: StatusCode, message: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>WeChat (simulator)</title></head>\
             <body><h1 id=\"sim-error\">Authorization unavailable</h1><p>{}</p></body></html>",
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
                 <button type=\"submit\" id=\"authorize-{appid}\">Authorize</button></form></li>",
                name = escape(a.name),
                kind = a.kind.replace('_', " "),
                appid = a.appid,
                pre = escape(&pre_auth_code),
                redirect = escape(&redirect_uri),
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorize a third-party platform (WeChat simulator)</title></head>\
         <body><h1 id=\"sim-authorization-page\">Authorize {component}</h1>\
         <p>Choose the account that authorizes this third-party platform.</p><ul>{rows}</ul></body></html>",
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
