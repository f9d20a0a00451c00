//! The APIs other functions call through `authorizer-api` and `component-api`: any account API
//! with an authorizer's `access_token` (an echo, and a binary QR code), and the component's web
//! APIs (`/sns/...`) with the `component_access_token`. Tokens are checked as WeChat does.

use crate::Shared;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use wxopen::clock::now_secs;

fn error(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": format!("{msg} rid: sim")})
}

/// Counts the call and applies a queued fault: its delay (before the token is checked, as a
/// slow network would), then its errcode.
async fn counted(shared: &Shared, endpoint: &str) -> Result<(), Value> {
    let fault = {
        let mut state = shared.lock().unwrap();
        *state.calls.entry(endpoint.to_owned()).or_default() += 1;
        state.take_fault(endpoint)
    };
    let Some(fault) = fault else { return Ok(()) };
    if let Some(ms) = fault.delay_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    match fault.errcode {
        Some(code) => Err(error(code, "injected fault")),
        None => Ok(()),
    }
}

/// The account whose valid `access_token` this is, or WeChat's error.
pub(crate) async fn authorizer_of(
    shared: &Shared,
    endpoint: &str,
    query: &HashMap<String, String>,
) -> Result<String, Value> {
    counted(shared, endpoint).await?;
    let state = shared.lock().unwrap();
    let token = query
        .get("access_token")
        .map(String::as_str)
        .unwrap_or_default();
    match state
        .authorizer_tokens
        .iter()
        .find(|(_, (t, _))| t == token)
    {
        None => Err(error(
            40001,
            "invalid credential, access_token is invalid or not latest",
        )),
        Some((_, (_, expires_at))) if *expires_at <= now_secs() => {
            Err(error(42001, "access_token expired"))
        }
        Some((appid, _)) => Ok(appid.clone()),
    }
}

/// Any other account API (`/cgi-bin/...`, `/datacube/...`, `/wxa/...`): an echo of what was
/// asked, for the account the token belongs to.
pub async fn echo(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Json<Value> {
    // Counted (and faults queued) under `account:<path>`, e.g. `account:cgi-bin/user/info`.
    let rest = uri.path().trim_start_matches('/').to_owned();
    let endpoint = format!("account:{rest}");
    match authorizer_of(&shared, &endpoint, &query).await {
        Err(e) => Json(e),
        Ok(appid) => {
            let mut shown = query.clone();
            shown.remove("access_token");
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            Json(
                json!({"errcode": 0, "errmsg": "ok", "authorizer_appid": appid, "method": method.as_str(), "path": rest, "query": shown, "body": body}),
            )
        }
    }
}

/// The bytes of the simulator's QR code: a JPEG header and the account, enough to tell apart.
pub fn qr_code_bytes(appid: &str) -> Vec<u8> {
    let mut bytes = vec![
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    bytes.extend_from_slice(appid.as_bytes());
    bytes.extend_from_slice(&[0xff, 0xd9]);
    bytes
}

/// `POST /wxa/getwxacode`: a Mini Program code as an image, or WeChat's JSON error.
pub async fn getwxacode(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    match authorizer_of(&shared, "wxa/getwxacode", &query).await {
        Err(e) => Json(e).into_response(),
        Ok(appid) => {
            let valid = serde_json::from_slice::<Value>(&body)
                .ok()
                .is_some_and(|b| b["path"].is_string());
            if !valid {
                return Json(error(41030, "invalid page path")).into_response();
            }
            (
                [(header::CONTENT_TYPE, "image/jpeg")],
                qr_code_bytes(&appid),
            )
                .into_response()
        }
    }
}

/// Checks the component token and the `component_appid` of a `/sns/...` call.
async fn component_call(
    shared: &Shared,
    endpoint: &str,
    query: &HashMap<String, String>,
) -> Result<(), Value> {
    counted(shared, endpoint).await?;
    let state = shared.lock().unwrap();
    let get = |k: &str| query.get(k).map(String::as_str).unwrap_or_default();
    match state.component_tokens.get(get("component_access_token")) {
        None => {
            return Err(error(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ))
        }
        Some(exp) if *exp <= now_secs() => return Err(error(42001, "access_token expired")),
        Some(_) => {}
    }
    if get("component_appid") != state.config.component_appid {
        return Err(error(40013, "invalid appid"));
    }
    if get("grant_type") != "authorization_code" {
        return Err(error(40002, "invalid grant_type"));
    }
    if !state.authorizations.contains_key(get("appid")) {
        return Err(error(61003, "component is not authorized by this account"));
    }
    Ok(())
}

/// `GET /sns/component/jscode2session`: codes `jscode-<anything>` are valid once.
pub async fn jscode2session(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    if let Err(e) = component_call(&shared, "sns/component/jscode2session", &query).await {
        return Json(e);
    }
    let code = query.get("js_code").cloned().unwrap_or_default();
    let mut state = shared.lock().unwrap();
    if !code.starts_with("jscode-") || !state.used_user_codes.insert(code.clone()) {
        return Json(error(40029, "invalid code"));
    }
    let session_key = state.next("sim-session-key-");
    Json(
        json!({"openid": format!("o-mp-{code}"), "session_key": session_key, "unionid": format!("u-{code}")}),
    )
}

/// `GET /sns/oauth2/component/access_token`: codes `oauthcode-<anything>` are valid once.
pub async fn oauth_access_token(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    if let Err(e) = component_call(&shared, "sns/oauth2/component/access_token", &query).await {
        return Json(e);
    }
    let code = query.get("code").cloned().unwrap_or_default();
    let mut state = shared.lock().unwrap();
    if !code.starts_with("oauthcode-") || !state.used_user_codes.insert(code.clone()) {
        return Json(error(40029, "invalid code"));
    }
    let access_token = state.next("sim-oauth-access-");
    let refresh_token = state.next("sim-oauth-refresh-");
    Json(
        json!({"access_token": access_token, "expires_in": 7200, "refresh_token": refresh_token, "openid": format!("o-oa-{code}"), "scope": "snsapi_base"}),
    )
}
