//! `POST /cgi-bin/component/<name>`: WeChat's component APIs, with WeChat's own errcodes.

use crate::Shared;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use wxopen::clock::now_secs;

fn error(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": format!("{msg} rid: sim")})
}

/// `POST /cgi-bin/component/clear_quota/v2`, counted as `clear_quota`.
pub async fn clear_quota(
    shared: State<Shared>,
    query: Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Json<Value> {
    handle(shared, Path("clear_quota".to_owned()), query, body).await
}

/// Dispatches one API call after counting it and applying any queued fault.
pub async fn handle(
    State(shared): State<Shared>,
    Path(endpoint): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let fault = {
        let mut state = shared.lock().unwrap();
        *state.calls.entry(endpoint.clone()).or_default() += 1;
        state.take_fault(&endpoint)
    };
    if let Some(fault) = &fault {
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(code) = fault.errcode {
            return Json(error(code, "injected fault"));
        }
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return Json(error(47001, "data format error"));
    };
    let mut state = shared.lock().unwrap();
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if field("component_appid") != state.config.component_appid {
        return Json(error(40013, "invalid appid"));
    }
    if endpoint == "api_start_push_ticket" {
        if field("component_secret") != state.config.component_appsecret {
            return Json(error(40125, "invalid appsecret"));
        }
        drop(state);
        // Like WeChat, the push arrives at the event URL shortly after the answer.
        let pusher = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::push::push_ticket(&pusher).await {
                tracing::warn!(error = %e, "ticket push after api_start_push_ticket failed");
            }
        });
        return Json(json!({"errcode": 0, "errmsg": "ok"}));
    }
    if endpoint == "clear_quota" {
        // `/cgi-bin/component/clear_quota/v2`, with the AppSecret and no token.
        if field("appsecret") != state.config.component_appsecret {
            return Json(error(40125, "invalid appsecret"));
        }
        let appid = field("appid");
        state.quota_resets.push(appid);
        return Json(json!({"errcode": 0, "errmsg": "ok"}));
    }
    if endpoint != "api_component_token" {
        let token = query
            .get("component_access_token")
            .cloned()
            .unwrap_or_default();
        match state.component_tokens.get(&token) {
            None => {
                return Json(error(
                    40001,
                    "invalid credential, access_token is invalid or not latest",
                ))
            }
            Some(expires_at) if *expires_at <= now_secs() => {
                return Json(error(42001, "access_token expired"))
            }
            Some(_) => {}
        }
    }
    let ttl = state.config.token_ttl;
    Json(match endpoint.as_str() {
        "api_component_token" => {
            if field("component_appsecret") != state.config.component_appsecret {
                error(40125, "invalid appsecret")
            } else if state.latest_ticket.is_none() {
                error(61005, "component verify ticket is expired")
            } else if !state.ticket_valid(&field("component_verify_ticket")) {
                error(61006, "component verify ticket is invalid")
            } else {
                let token = state.next("sim-component-token-");
                state
                    .component_tokens
                    .insert(token.clone(), now_secs() + ttl);
                json!({"component_access_token": token, "expires_in": ttl})
            }
        }
        "api_create_preauthcode" => {
            let ttl = state.config.pre_auth_code_ttl;
            let code = state.issue_code("preauthcode@@@sim-", None, ttl);
            json!({"pre_auth_code": code, "expires_in": ttl})
        }
        "api_query_auth" => {
            let code = field("authorization_code");
            match state.auth_codes.get_mut(&code) {
                None => error(61009, "code is invalid"),
                Some(c) if c.used => error(61009, "code is invalid"),
                Some(c) if c.expires_at <= now_secs() => error(61010, "code is expired"),
                Some(c) => {
                    c.used = true;
                    let appid = c.appid.clone().unwrap_or_default();
                    let refresh = state
                        .authorizations
                        .get(&appid)
                        .map(|a| a.refresh_token.clone())
                        .unwrap_or_default();
                    let access = state.next("sim-authorizer-token-");
                    state
                        .authorizer_tokens
                        .insert(appid.clone(), (access.clone(), now_secs() + ttl));
                    let permissions = state.permissions(&appid);
                    json!({"authorization_info": {
                        "authorizer_appid": appid,
                        "authorizer_access_token": access,
                        "expires_in": ttl,
                        "authorizer_refresh_token": refresh,
                        "func_info": permissions.iter().map(|id| json!({"funcscope_category": {"id": id}})).collect::<Vec<_>>()
                    }})
                }
            }
        }
        "api_authorizer_token" => {
            let appid = field("authorizer_appid");
            let valid = state
                .authorizations
                .get(&appid)
                .is_some_and(|a| a.refresh_token == field("authorizer_refresh_token"));
            if valid {
                let access = state.next("sim-authorizer-token-");
                state
                    .authorizer_tokens
                    .insert(appid.clone(), (access.clone(), now_secs() + ttl));
                json!({"authorizer_access_token": access, "expires_in": ttl, "authorizer_refresh_token": field("authorizer_refresh_token")})
            } else {
                error(61023, "refresh_token is invalid")
            }
        }
        "api_get_authorizer_info" => match state.info(&field("authorizer_appid")) {
            Some(info) => info,
            None => error(61003, "component is not authorized by this account"),
        },
        "api_get_authorizer_list" => {
            let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let count = body.get("count").and_then(Value::as_u64).unwrap_or(0) as usize;
            if count == 0 || count > 500 {
                error(40097, "invalid args: count must be between 1 and 500")
            } else {
                let total = state.authorizations.len();
                let list: Vec<Value> = state
                    .authorizations
                    .iter()
                    .skip(offset)
                    .take(count)
                    .map(|(appid, a)| json!({"authorizer_appid": appid, "refresh_token": a.refresh_token, "auth_time": a.auth_time}))
                    .collect();
                json!({"total_count": total, "list": list})
            }
        }
        "api_get_authorizer_option" => json!({
            "authorizer_appid": field("authorizer_appid"), "option_name": field("option_name"), "option_value": "1"
        }),
        "api_set_authorizer_option" => json!({"errcode": 0, "errmsg": "ok"}),
        _ => error(40066, "invalid url"),
    })
}

/// `POST /cgi-bin/message/custom/send?access_token=`: a customer-service message, accepted
/// only with a valid authorizer access token (a component token is refused, as WeChat does).
pub async fn custom_send(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let endpoint = "message/custom/send";
    let fault = {
        let mut state = shared.lock().unwrap();
        *state.calls.entry(endpoint.to_owned()).or_default() += 1;
        state.take_fault(endpoint)
    };
    if let Some(fault) = &fault {
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(code) = fault.errcode {
            return Json(error(code, "injected fault"));
        }
    }
    let token = query.get("access_token").cloned().unwrap_or_default();
    let mut state = shared.lock().unwrap();
    let owner = state
        .authorizer_tokens
        .iter()
        .find(|(_, (t, _))| *t == token)
        .map(|(appid, (_, expires_at))| (appid.clone(), *expires_at));
    let appid = match owner {
        None => {
            return Json(error(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ))
        }
        Some((_, expires_at)) if expires_at <= now_secs() => {
            return Json(error(42001, "access_token expired"))
        }
        Some((appid, _)) => appid,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return Json(error(47001, "data format error"));
    };
    let touser = body["touser"].as_str().unwrap_or_default().to_owned();
    let content = body["text"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if touser.is_empty() || body["msgtype"] != "text" || content.is_empty() {
        return Json(error(44002, "empty post data or invalid msgtype"));
    }
    state.sent.push(crate::state::SentMessage {
        appid,
        touser,
        content,
        at_ms: wxopen::clock::Timestamp::now().millis(),
    });
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}
