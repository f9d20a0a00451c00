//! Fast registration of Mini Programs, as WeChat plays it since its 2026 `new_version` flows:
//! the platform's call answers a task (or a beta unique id) and the URL the person opens; the
//! person's side is played from the admin API (`/_sim/registrations/complete`), which creates
//! the Mini Program, authorizes it and pushes the registration push (and the `authorized` push
//! WeChat also sends for beta and, at times, for the others) to the event URL.

use crate::push::push_event;
use crate::Shared;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use wxopen::clock::now_secs;

fn error(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": format!("{msg} rid: sim")})
}

/// A registration the platform started.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimRegistration {
    /// `enterprise`, `personal` or `beta`.
    pub kind: String,
    /// The task id (enterprise, personal) or the unique id (beta).
    pub id: String,
    /// What the platform sent, as WeChat echoes it in the push's `info`.
    pub info: Map<String, Value>,
    /// `waiting`, `registered` or `failed`.
    pub state: String,
    /// The Mini Program created, once registered.
    pub appid: Option<String>,
}

/// The fields each kind needs, and those WeChat echoes in the push.
fn required(kind: &str) -> &'static [&'static str] {
    match kind {
        "enterprise" => &["name", "code", "component_phone"],
        "personal" => &["idname", "wxuser"],
        _ => &["name", "openid"],
    }
}

/// `POST /wxa/component/fastregister{enterprise,personal,beta}weapp`: checks the component
/// token (`access_token` for beta), the fields and the new-version flag, refuses a second task
/// for the same names while one waits (89249, as WeChat does), and answers the task.
async fn create(shared: Shared, kind: &str, query: HashMap<String, String>, body: Value) -> Value {
    let endpoint = format!("fastregister{kind}weapp");
    let fault = {
        let mut state = shared.lock().unwrap();
        *state.calls.entry(endpoint.clone()).or_default() += 1;
        state.take_fault(&endpoint)
    };
    if let Some(fault) = fault {
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        if let Some(code) = fault.errcode {
            return error(code, "injected fault");
        }
    }
    let mut state = shared.lock().unwrap();
    let token_param = if kind == "beta" {
        "access_token"
    } else {
        "component_access_token"
    };
    let token = query.get(token_param).cloned().unwrap_or_default();
    match state.component_tokens.get(&token) {
        None => {
            return error(
                40001,
                "invalid credential, access_token is invalid or not latest",
            )
        }
        Some(expires_at) if *expires_at <= now_secs() => {
            return error(42001, "access_token expired")
        }
        Some(_) => {}
    }
    let Value::Object(fields) = body else {
        return error(47001, "data format error");
    };
    if kind != "beta"
        && (query.get("action").map(String::as_str) != Some("create")
            || fields.get("new_version") != Some(&Value::Bool(true)))
    {
        return error(
            89250,
            "the old fast registration is retired: action=create with new_version",
        );
    }
    let mut info = Map::new();
    for name in required(kind) {
        match fields
            .get(*name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        {
            Some(v) => {
                info.insert((*name).to_owned(), v.into());
            }
            None => return error(47001, &format!("data format error: {name} missing")),
        }
    }
    let busy = state
        .registrations
        .iter()
        .any(|r| r.kind == kind && r.state == "waiting" && r.info == info);
    if busy {
        return error(
            89249,
            "task running: the same details have a task within 24h",
        );
    }
    let id = state.next(if kind == "beta" { "unique-" } else { "task-" });
    let url = format!("https://wx.sim/verify?id={id}");
    state.registrations.push(SimRegistration {
        kind: kind.to_owned(),
        id: id.clone(),
        info,
        state: "waiting".into(),
        appid: None,
    });
    match kind {
        "beta" => json!({"errcode": 0, "errmsg": "ok", "unique_id": id, "authorize_url": url}),
        _ => json!({"errcode": 0, "errmsg": "ok", "taskid": id, "authorize_url": url}),
    }
}

/// `POST /wxa/component/fastregisterenterpriseweapp`.
pub async fn enterprise(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    Json(b): Json<Value>,
) -> Json<Value> {
    Json(create(s, "enterprise", q, b).await)
}

/// `POST /wxa/component/fastregisterpersonalweapp`.
pub async fn personal(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    Json(b): Json<Value>,
) -> Json<Value> {
    Json(create(s, "personal", q, b).await)
}

/// `POST /wxa/component/fastregisterbetaweapp`.
pub async fn beta(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    Json(b): Json<Value>,
) -> Json<Value> {
    Json(create(s, "beta", q, b).await)
}

/// `GET /_sim/registrations`: every registration started, in order.
pub async fn list(State(shared): State<Shared>) -> Json<Value> {
    Json(json!(shared.lock().unwrap().registrations))
}

/// The pushes completing registration `id` with `status`: the registration push (`echo`:
/// `"task"` sends only the task id in `info`, as some new-version pushes do; else the names
/// too), and for a success the `authorized` push when `authorized_push` or for beta.
fn completion(
    shared: &Shared,
    id: &str,
    status: i64,
    echo: &str,
    authorized_push: bool,
) -> Result<(Option<String>, Vec<String>), (StatusCode, String)> {
    let mut state = shared.lock().unwrap();
    let Some(index) = state.registrations.iter().position(|r| r.id == id) else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("no registration {id:?}: see GET /_sim/registrations"),
        ));
    };
    if state.registrations[index].state != "waiting" {
        return Err((
            StatusCode::CONFLICT,
            "that registration already ended".into(),
        ));
    }
    let kind = state.registrations[index].kind.clone();
    let (component, now) = (state.config.component_appid.clone(), now_secs());
    let mut info = state.registrations[index].info.clone();
    info.remove("openid");
    info.remove("component_phone");
    let id_field = if kind == "beta" {
        "unique_id"
    } else {
        "taskid"
    };
    if echo == "task" {
        info.clear();
    }
    info.insert(id_field.into(), id.into());
    let info_xml: String = info
        .iter()
        .map(|(k, v)| format!("<{k}><![CDATA[{}]]></{k}>", v.as_str().unwrap_or_default()))
        .collect();
    let info_type = if kind == "beta" {
        "notify_third_fastregisterbetaapp"
    } else {
        "notify_third_fasteregister"
    };
    let head = format!("<xml><AppId><![CDATA[{component}]]></AppId><CreateTime>{now}</CreateTime><InfoType><![CDATA[{info_type}]]></InfoType>");
    if status != 0 {
        state.registrations[index].state = "failed".into();
        let xml = format!("{head}<appid><![CDATA[]]></appid><status>{status}</status><msg><![CDATA[registration failed]]></msg><info>{info_xml}</info></xml>");
        return Ok((None, vec![xml]));
    }
    let appid = format!("wxreg{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    let code = state.authorize(&appid);
    state.registered.insert(appid.clone(), kind.clone());
    state.registrations[index].state = "registered".into();
    state.registrations[index].appid = Some(appid.clone());
    let code_field = if kind == "beta" {
        String::new()
    } else {
        format!("<auth_code><![CDATA[{code}]]></auth_code>")
    };
    let mut pushes = vec![format!("{head}<appid><![CDATA[{appid}]]></appid><status>0</status>{code_field}<msg><![CDATA[OK]]></msg><info>{info_xml}</info></xml>")];
    if kind == "beta" || authorized_push {
        let exp = now + state.config.auth_code_ttl;
        pushes.push(format!(
            "<xml><AppId><![CDATA[{component}]]></AppId><CreateTime>{now}</CreateTime><InfoType><![CDATA[authorized]]></InfoType>\
             <AuthorizerAppid><![CDATA[{appid}]]></AuthorizerAppid><AuthorizationCode><![CDATA[{code}]]></AuthorizationCode>\
             <AuthorizationCodeExpiredTime>{exp}</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[]]></PreAuthCode></xml>"
        ));
    }
    Ok((Some(appid), pushes))
}

/// `POST /_sim/registrations/complete` `{"id", "status"?: 0, "deliveries"?: 1,
/// "authorized_push"?: false, "authorized_first"?: false, "echo"?: "names" | "task"}`: the person
/// finishes (status 0) or WeChat fails the registration (its status code). The registration
/// push is delivered `deliveries` times (WeChat's redelivery); `authorized_first` sends the
/// `authorized` push before it. Answers the new `appid` and whether each push was delivered.
pub async fn complete(
    State(shared): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let status = body["status"].as_i64().unwrap_or(0);
    let deliveries = body["deliveries"].as_u64().unwrap_or(1).clamp(1, 5);
    let echo = body["echo"].as_str().unwrap_or("names").to_owned();
    let authorized_first = body["authorized_first"].as_bool().unwrap_or(false);
    let authorized_push = authorized_first || body["authorized_push"].as_bool().unwrap_or(false);
    let (appid, pushes) = match completion(&shared, &id, status, &echo, authorized_push) {
        Ok(done) => done,
        Err((code, e)) => return (code, Json(json!({"error": e}))),
    };
    let (registration, authorized) = (pushes[0].clone(), pushes.get(1).cloned());
    let mut order = Vec::new();
    if let (true, Some(a)) = (authorized_first, &authorized) {
        order.push(a.clone());
    }
    for _ in 0..deliveries {
        order.push(registration.clone());
    }
    if let (false, Some(a)) = (authorized_first, authorized) {
        order.push(a);
    }
    let mut delivered = Vec::new();
    for xml in order {
        match push_event(&shared, &xml).await {
            Ok(ok) => delivered.push(json!(ok)),
            Err(e) => delivered.push(json!({"error": e})),
        }
    }
    (
        StatusCode::OK,
        Json(json!({"appid": appid, "delivered": delivered})),
    )
}
