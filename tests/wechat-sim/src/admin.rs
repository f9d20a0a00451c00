//! `/_sim/...`: counters, faults and pushes on demand, for tests and for `make dev`.

use crate::push::{push_event, push_ticket};
use crate::state::Fault;
use crate::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use wxopen::clock::now_secs;

/// `GET /_sim/calls`: calls per endpoint.
pub async fn calls(State(shared): State<Shared>) -> Json<Value> {
    Json(json!(shared.lock().unwrap().calls))
}

/// `GET /_sim/status`: whether a ticket was delivered, and which accounts are authorized.
pub async fn status(State(shared): State<Shared>) -> Json<Value> {
    let state = shared.lock().unwrap();
    let authorized: Vec<&String> = state.authorizations.keys().take(100).collect();
    Json(
        json!({"tickets_delivered": state.tickets_delivered, "authorized": authorized, "authorized_count": state.authorizations.len()}),
    )
}

/// `POST /_sim/seed` `{"count": N}`: authorizes N generated Official Accounts at once.
pub async fn seed(State(shared): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let count = body["count"].as_u64().unwrap_or(0) as usize;
    let total = shared.lock().unwrap().seed_authorizations(count);
    Json(json!({"authorized_count": total}))
}

/// `POST /_sim/faults` `{"endpoint", "errcode"?, "delay_ms"?, "count"}`: the next `count` calls
/// of `endpoint` fail with `errcode` and/or wait `delay_ms`.
pub async fn add_fault(State(shared): State<Shared>, Json(fault): Json<Fault>) -> StatusCode {
    if fault.count == 0 {
        return StatusCode::BAD_REQUEST;
    }
    shared.lock().unwrap().add_fault(fault);
    StatusCode::NO_CONTENT
}

/// `POST /_sim/expire-codes`: every issued authorization code expires now.
pub async fn expire_codes(State(shared): State<Shared>) -> StatusCode {
    for code in shared.lock().unwrap().auth_codes.values_mut() {
        code.expires_at = now_secs() - 1;
    }
    StatusCode::NO_CONTENT
}

/// `POST /_sim/push/ticket`: pushes a new ticket now.
pub async fn push_ticket_now(State(shared): State<Shared>) -> (StatusCode, Json<Value>) {
    match push_ticket(&shared).await {
        Ok(delivered) => (StatusCode::OK, Json(json!({"delivered": delivered}))),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(json!({"error": e}))),
    }
}

/// `POST /_sim/push/unauthorized` `{"authorizer_appid"}`: the account revokes; its refresh
/// token dies and `unauthorized` is pushed.
pub async fn push_unauthorized(
    State(shared): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let appid = body["authorizer_appid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let xml = {
        let mut state = shared.lock().unwrap();
        if state.authorizations.remove(&appid).is_none() {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "that account has not authorized"})),
            );
        }
        state.authorizer_tokens.remove(&appid);
        format!(
            "<xml><AppId><![CDATA[{}]]></AppId><CreateTime>{}</CreateTime><InfoType><![CDATA[unauthorized]]></InfoType>\
             <AuthorizerAppid><![CDATA[{appid}]]></AuthorizerAppid></xml>",
            state.config.component_appid,
            now_secs()
        )
    };
    match push_event(&shared, &xml).await {
        Ok(delivered) => (StatusCode::OK, Json(json!({"delivered": delivered}))),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(json!({"error": e}))),
    }
}

/// `GET /_sim/sent`: the customer-service messages accepted, in order.
pub async fn sent(State(shared): State<Shared>) -> Json<Value> {
    Json(json!(shared.lock().unwrap().sent))
}

/// `POST /_sim/push/updateauthorized` `{"authorizer_appid", "permissions": [ids]}`: the account
/// changes the permission sets it grants; `updateauthorized` is pushed with a fresh code.
pub async fn push_updateauthorized(
    State(shared): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let appid = body["authorizer_appid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some(permissions) = body["permissions"].as_array().map(|ids| {
        ids.iter()
            .filter_map(|id| id.as_u64().map(|id| id as u32))
            .collect::<Vec<_>>()
    }) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "permissions must be a list of ids"})),
        );
    };
    let xml = {
        let mut state = shared.lock().unwrap();
        if !state.authorizations.contains_key(&appid) {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "that account has not authorized"})),
            );
        }
        state.grants.insert(appid.clone(), permissions);
        let ttl = state.config.auth_code_ttl;
        let code = state.issue_code("queryauthcode@@@sim-", Some(&appid), ttl);
        format!(
            "<xml><AppId><![CDATA[{}]]></AppId><CreateTime>{now}</CreateTime><InfoType><![CDATA[updateauthorized]]></InfoType>\
             <AuthorizerAppid><![CDATA[{appid}]]></AuthorizerAppid><AuthorizationCode><![CDATA[{code}]]></AuthorizationCode>\
             <AuthorizationCodeExpiredTime>{exp}</AuthorizationCodeExpiredTime></xml>",
            state.config.component_appid,
            now = now_secs(),
            exp = now_secs() + ttl,
        )
    };
    match push_event(&shared, &xml).await {
        Ok(delivered) => (StatusCode::OK, Json(json!({"delivered": delivered}))),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(json!({"error": e}))),
    }
}

/// `POST /_sim/refuse-token` `{"authorizer_appid"}` or `{"component": true}`: WeChat refuses
/// the current token (40001) from now on, as after another instance's refresh.
pub async fn refuse_token(State(shared): State<Shared>, Json(body): Json<Value>) -> StatusCode {
    let mut state = shared.lock().unwrap();
    if body["component"] == true {
        state.refuse_component_tokens();
        return StatusCode::NO_CONTENT;
    }
    match body["authorizer_appid"].as_str() {
        Some(appid) if state.refuse_authorizer_token(appid) => StatusCode::NO_CONTENT,
        _ => StatusCode::NOT_FOUND,
    }
}
