//! `/_sim/...`: counters, faults and pushes on demand, for tests and for `make dev`.

use crate::push::{push_event, push_ticket};
use crate::state::Fault;
use crate::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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

/// `POST /_sim/seed` `{"count": N}`: authorizes N generated Official Accounts at once;
/// `{"mini_programs": N}`: N generated Mini Programs, answered with their AppIDs and a fresh
/// authorization code each (exchange them to store the accounts).
pub async fn seed(State(shared): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    let mut state = shared.lock().unwrap();
    if let Some(n) = body["mini_programs"].as_u64() {
        let seeded = state.seed_mini_programs(n as usize);
        let list: Vec<Value> = seeded
            .iter()
            .map(|(appid, code)| json!({"appid": appid, "code": code}))
            .collect();
        return Json(json!({"mini_programs": list}));
    }
    let count = body["count"].as_u64().unwrap_or(0) as usize;
    let total = state.seed_authorizations(count);
    Json(json!({"authorized_count": total}))
}

/// The endpoints the simulator counts, and so can fail: WeChat's component APIs by name, and
/// the account APIs it serves by path. Any other account API is `account:<path>`.
const FAULT_ENDPOINTS: &[&str] = &[
    "api_component_token",
    "api_create_preauthcode",
    "api_query_auth",
    "api_authorizer_token",
    "api_get_authorizer_info",
    "api_get_authorizer_list",
    "api_get_authorizer_option",
    "api_set_authorizer_option",
    "api_start_push_ticket",
    "clear_quota",
    "message/custom/send",
    "wxa/getwxacode",
    "sns/component/jscode2session",
    "sns/oauth2/component/access_token",
    "fastregisterenterpriseweapp",
    "fastregisterpersonalweapp",
    "fastregisterbetaweapp",
];

/// Why a fault cannot be queued: one that would never fire is refused, not kept silently.
fn refusal(fault: &Fault) -> Option<String> {
    if fault.count == 0 {
        return Some("count must be at least 1".to_owned());
    }
    if fault.errcode.is_none() && fault.delay_ms.is_none() {
        return Some("give an errcode, a delay_ms, or both".to_owned());
    }
    let account_path = fault.endpoint.strip_prefix("account:");
    if FAULT_ENDPOINTS.contains(&fault.endpoint.as_str())
        || account_path.is_some_and(|p| !p.is_empty() && !p.starts_with('/'))
    {
        return None;
    }
    Some(format!(
        "unknown endpoint {:?}: one of {} or account:<path> (e.g. account:cgi-bin/user/info)",
        fault.endpoint,
        FAULT_ENDPOINTS.join(", ")
    ))
}

/// `POST /_sim/faults` `{"endpoint", "errcode"?, "delay_ms"?, "count"}`: the next `count` calls
/// of `endpoint` fail with `errcode` and/or wait `delay_ms`. 400 with the reason for a fault
/// that would never fire (an unknown endpoint, no effect, no count).
pub async fn add_fault(State(shared): State<Shared>, Json(fault): Json<Fault>) -> Response {
    if let Some(reason) = refusal(&fault) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": reason}))).into_response();
    }
    shared.lock().unwrap().add_fault(fault);
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/expire-codes`: every issued authorization code expires now.
pub async fn expire_codes(State(shared): State<Shared>) -> StatusCode {
    for code in shared.lock().unwrap().auth_codes.values_mut() {
        code.expires_at = now_secs() - 1;
    }
    StatusCode::NO_CONTENT
}

/// The answer to a push route: whether the push was delivered, or why it could not be sent.
fn answer(pushed: Result<bool, String>) -> (StatusCode, Json<Value>) {
    match pushed {
        Ok(delivered) => (StatusCode::OK, Json(json!({"delivered": delivered}))),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(json!({"error": e}))),
    }
}

/// `POST /_sim/push/ticket`: pushes a new ticket now.
pub async fn push_ticket_now(State(shared): State<Shared>) -> (StatusCode, Json<Value>) {
    answer(push_ticket(&shared).await)
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
    answer(push_event(&shared, &xml).await)
}

/// `POST /_sim/push/component` `{"info_type", "fields": {...}}`: pushes any other component
/// push now (fast registration, ICP filing, verification, or a type WeChat has not documented),
/// `fields` as its elements (objects nested), beside `AppId`, `CreateTime` and `InfoType`.
pub async fn push_component(
    State(shared): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let info_type = body["info_type"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let fields = match &body["fields"] {
        Value::Object(map) => map.clone(),
        Value::Null => serde_json::Map::new(),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "fields must be an object"})),
            )
        }
    };
    if info_type.is_empty() || is_basic_info_type(&info_type) {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": "info_type must name a push other than the ticket and the authorization kinds (they have their own routes)"}),
            ),
        );
    }
    let component = shared.lock().unwrap().config.component_appid.clone();
    let event = wxopen_models::events::ComponentEvent::Other {
        component_appid: wxopen_models::ComponentAppid::parse(&component)
            .expect("the simulator's component"),
        create_time: now_secs(),
        info_type,
        fields,
    };
    answer(push_event(&shared, &event.to_xml()).await)
}

fn is_basic_info_type(info_type: &str) -> bool {
    matches!(
        info_type,
        "component_verify_ticket" | "authorized" | "updateauthorized" | "unauthorized"
    )
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
    answer(push_event(&shared, &xml).await)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(endpoint: &str, errcode: Option<i64>, count: u32) -> Fault {
        Fault {
            endpoint: endpoint.to_owned(),
            errcode,
            delay_ms: None,
            count,
        }
    }

    #[test]
    fn faults_that_would_fire_are_queued() {
        for endpoint in [
            "api_query_auth",
            "message/custom/send",
            "account:cgi-bin/user/info",
        ] {
            assert_eq!(refusal(&fault(endpoint, Some(-1), 2)), None, "{endpoint}");
        }
    }

    #[test]
    fn faults_that_would_never_fire_are_refused_with_the_reason() {
        let unknown = refusal(&fault("api_query_authh", Some(-1), 1)).unwrap();
        assert!(
            unknown.contains("unknown endpoint \"api_query_authh\"")
                && unknown.contains("api_query_auth,"),
            "{unknown}"
        );
        assert!(refusal(&fault("account:", Some(-1), 1)).is_some());
        assert!(refusal(&fault("api_query_auth", Some(-1), 0))
            .unwrap()
            .contains("count"));
        assert!(refusal(&fault("api_query_auth", None, 1))
            .unwrap()
            .contains("errcode"));
    }
}
