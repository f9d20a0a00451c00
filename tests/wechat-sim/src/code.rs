//! Code management (代码管理) of the authorized Mini Programs, as WeChat plays it: commit, its
//! code check (61039 until it finishes), submission within the platform's one audit quota
//! (85085 once spent, 85009 while one is in audit, 86002 for an account without a name),
//! audits decided from the admin API (`/_sim/audits/decide`: success, failure with a reason,
//! delay; the `weapp_audit_*` push to the message URL sent, or lost on purpose), release, gray
//! release, and their reverts. Counted per endpoint as `account:wxa/<name>`, faults included.

use crate::account_api::authorizer_of;
use crate::Shared;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use wxopen::clock::{now_ms, now_secs};

fn error(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": format!("{msg} rid: sim")})
}

/// One audit.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Its id.
    pub auditid: i64,
    /// The version submitted.
    pub user_version: String,
    /// When, epoch seconds.
    pub submit_audit_time: i64,
    /// 0 approved, 1 rejected, 2 in review, 3 withdrawn, 4 delayed.
    pub status: i64,
    /// A rejection's reason.
    pub reason: String,
}

/// One Mini Program's code.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MiniCode {
    /// The development (experience) version: user_version, when committed (ms), template.
    pub exp: Option<(String, i64, i64)>,
    /// Its audits, oldest first.
    pub audits: Vec<Audit>,
    /// The released version, and the one before it.
    pub released: Option<String>,
    /// The version released before the current one.
    pub previous: Option<String>,
    /// The gray release's percentage.
    pub gray: Option<u8>,
    /// Calls answered successfully, by name.
    pub done: BTreeMap<String, u32>,
}

/// The platform's side of code management.
#[derive(Debug, Clone, Serialize)]
pub struct CodeState {
    /// Each Mini Program's code.
    pub apps: BTreeMap<String, MiniCode>,
    /// Audits the quota still allows.
    pub rest: i64,
    /// The quota's size.
    pub limit: i64,
    /// How long the code check after a commit runs, ms (61039 meanwhile).
    pub code_check_ms: i64,
    /// Most audits in review at once, ever.
    pub max_in_review: usize,
    /// Audit pushes sent to the message URL, and those lost on purpose.
    pub pushes: (u32, u32),
    /// The platform's template library.
    pub library: crate::library::Library,
    next_auditid: i64,
}

impl Default for CodeState {
    fn default() -> Self {
        Self {
            apps: BTreeMap::new(),
            rest: 100,
            limit: 100,
            code_check_ms: 0,
            max_in_review: 0,
            pushes: (0, 0),
            library: Default::default(),
            next_auditid: 400_000_000,
        }
    }
}

impl CodeState {
    fn in_review(&self) -> usize {
        let audits = self.apps.values().flat_map(|a| a.audits.iter());
        audits.filter(|a| matches!(a.status, 2 | 4)).count()
    }
}

/// `/wxa/<name>` of code management, for the account whose token came.
pub async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let name = uri.path().trim_start_matches("/wxa/").to_owned();
    let appid = match authorizer_of(&shared, &format!("account:wxa/{name}"), &query).await {
        Ok(appid) => appid,
        Err(e) => return Json(e),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut state = shared.lock().unwrap();
    let unnamed = state
        .info(&appid)
        .is_some_and(|i| i["authorizer_info"]["nick_name"].as_str() == Some(""));
    let code = &mut state.code;
    let answer = answer(code, &appid, &name, &body, unnamed);
    if answer.get("errcode").and_then(Value::as_i64).unwrap_or(0) == 0 {
        let app = code.apps.entry(appid).or_default();
        *app.done.entry(name).or_default() += 1;
    }
    Json(answer)
}

fn answer(code: &mut CodeState, appid: &str, name: &str, body: &Value, unnamed: bool) -> Value {
    let (rest, limit, check_ms) = (code.rest, code.limit, code.code_check_ms);
    let template_known = code.library.has(body["template_id"].as_i64().unwrap_or(-1));
    let next_auditid = code.next_auditid;
    let app = code.apps.entry(appid.to_owned()).or_default();
    let ok = |extra: Value| {
        let mut v = json!({"errcode": 0, "errmsg": "ok"});
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        v
    };
    match name {
        "commit" => {
            let ext_ok = body["ext_json"]
                .as_str()
                .is_some_and(|e| serde_json::from_str::<Value>(e).is_ok());
            let template = body["template_id"].as_i64().unwrap_or(-1);
            if !ext_ok {
                return error(85013, "invalid ext_json");
            }
            if !template_known {
                return error(85014, "template not exist");
            }
            let version = body["user_version"].as_str().unwrap_or_default().to_owned();
            app.exp = Some((version, now_ms(), template));
            ok(json!({}))
        }
        "getversioninfo" => ok(json!({
            "exp_info": app.exp.as_ref().map(|(v, at, _)| json!({"exp_time": at / 1000, "exp_version": v, "exp_desc": ""})),
            "release_info": app.released.as_ref().map(|v| json!({"release_version": v, "release_time": now_secs()})),
        })),
        "queryquota" => {
            ok(json!({"rest": rest, "limit": limit, "speedup_rest": 0, "speedup_limit": 0}))
        }
        "submit_audit" => {
            let Some((version, committed_ms, _)) = app.exp.clone() else {
                return error(85086, "commit first");
            };
            if now_ms() - committed_ms < check_ms {
                return error(61039, "code check in progress, try again later");
            }
            if app.audits.iter().any(|a| matches!(a.status, 2 | 4)) {
                return error(85009, "already in audit");
            }
            if unnamed {
                return error(86002, "name, avatar or description not set");
            }
            if rest <= 0 {
                return error(85085, "audit quota reached");
            }
            app.audits.push(Audit {
                auditid: next_auditid,
                user_version: version,
                submit_audit_time: now_secs(),
                status: 2,
                reason: String::new(),
            });
            code.rest -= 1;
            code.next_auditid += 1;
            code.max_in_review = code.max_in_review.max(code.in_review());
            ok(json!({"auditid": next_auditid}))
        }
        "get_auditstatus" => {
            let wanted = body["auditid"].as_i64();
            match app.audits.iter().find(|a| Some(a.auditid) == wanted) {
                Some(a) => ok(json!({"status": a.status, "reason": a.reason, "ScreenShot": ""})),
                None => error(85012, "invalid audit id"),
            }
        }
        "get_latest_auditstatus" => match app.audits.last() {
            Some(a) => ok(
                json!({"auditid": a.auditid, "status": a.status, "reason": a.reason,
                "ScreenShot": "", "user_version": a.user_version, "user_desc": "",
                "submit_audit_time": a.submit_audit_time}),
            ),
            None => error(85058, "no audit"),
        },
        "release" | "grayrelease" => {
            let approved = app
                .audits
                .last()
                .filter(|a| a.status == 0)
                .map(|a| a.user_version.clone());
            match approved {
                Some(v) if app.released.as_ref() != Some(&v) || app.gray.is_some() => {
                    if name == "grayrelease" {
                        app.gray = body["gray_percentage"].as_u64().map(|p| p as u8);
                    } else {
                        app.gray = None;
                        app.previous = app.released.replace(v);
                    }
                    ok(json!({}))
                }
                _ => error(85019, "no approved version to release"),
            }
        }
        "revertgrayrelease" => {
            app.gray = None;
            ok(json!({}))
        }
        "revertcoderelease" if app.gray.is_some() => error(87011, "gray release in progress"),
        "revertcoderelease" => match app.previous.take() {
            Some(previous) => {
                app.released = Some(previous);
                ok(json!({}))
            }
            None => {
                app.released = None;
                ok(json!({}))
            }
        },
        _ => error(40066, "invalid url"),
    }
}

/// `GET /_sim/code`: every Mini Program's code, the quota and the most audits in review at once.
pub async fn status(State(shared): State<Shared>) -> Json<Value> {
    Json(json!(shared.lock().unwrap().code))
}

/// `POST /_sim/code/settings` `{"quota"?, "code_check_ms"?}`: the platform's audit quota (rest
/// and limit) and how long the code check after a commit runs.
pub async fn settings(State(shared): State<Shared>, Json(body): Json<Value>) -> StatusCode {
    let mut state = shared.lock().unwrap();
    if let Some(quota) = body["quota"].as_i64() {
        state.code.rest = quota;
        state.code.limit = quota;
    }
    if let Some(ms) = body["code_check_ms"].as_i64() {
        state.code.code_check_ms = ms;
    }
    StatusCode::NO_CONTENT
}

/// `POST /_sim/audits/decide` `{"appid"? (else every audit in review), "result": "success" |
/// "fail" | "delay", "reason"?, "push"?: true}`: WeChat decides; with `push` false the
/// `weapp_audit_*` push is lost (only polling finds the result). Answers the AppIDs decided.
pub async fn decide(
    State(shared): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let result = body["result"].as_str().unwrap_or_default().to_owned();
    let (status, event) = match result.as_str() {
        "success" => (0, "weapp_audit_success"),
        "fail" => (1, "weapp_audit_fail"),
        "delay" => (4, "weapp_audit_delay"),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "result must be success, fail or delay"})),
            )
        }
    };
    let reason = body["reason"]
        .as_str()
        .unwrap_or("功能不完整<br>请补充")
        .to_owned();
    let push = body["push"].as_bool().unwrap_or(true);
    let only = body["appid"].as_str().map(str::to_owned);
    let mut decided = Vec::new();
    {
        let mut state = shared.lock().unwrap();
        for (appid, app) in state.code.apps.iter_mut() {
            if only.as_ref().is_some_and(|o| o != appid) {
                continue;
            }
            if let Some(audit) = app.audits.last_mut().filter(|a| matches!(a.status, 2 | 4)) {
                audit.status = status;
                if status == 1 {
                    audit.reason = reason.clone();
                }
                decided.push(appid.clone());
            }
        }
        let counter = if push {
            &mut state.code.pushes.0
        } else {
            &mut state.code.pushes.1
        };
        *counter += decided.len() as u32;
    }
    if push {
        for appid in &decided {
            if let Err(e) = push_result(&shared, appid, event, &reason).await {
                return (
                    StatusCode::BAD_GATEWAY,
                    Json(json!({"error": e, "decided": decided})),
                );
            }
        }
    }
    (StatusCode::OK, Json(json!({"decided": decided})))
}

/// The `weapp_audit_*` event of `appid`, sent to the message URL as WeChat sends it.
async fn push_result(
    shared: &Shared,
    appid: &str,
    event: &str,
    reason: &str,
) -> Result<(), String> {
    let platform = crate::release::platform(shared)?;
    let username = {
        let state = shared.lock().unwrap();
        let info = state.info(appid).ok_or("no such account")?;
        info["authorizer_info"]["user_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let now = now_secs();
    let detail = match event {
        "weapp_audit_success" => format!("<SuccTime>{now}</SuccTime>"),
        "weapp_audit_fail" => format!("<Reason><![CDATA[{reason}]]></Reason><FailTime>{now}</FailTime><ScreenShot><![CDATA[]]></ScreenShot>"),
        _ => format!("<Reason><![CDATA[{reason}]]></Reason><DelayTime>{now}</DelayTime>"),
    };
    let xml = format!(
        "<xml><ToUserName><![CDATA[{username}]]></ToUserName><FromUserName><![CDATA[o-wechat-audit]]></FromUserName>\
         <CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{detail}</xml>"
    );
    let format = wxopen_models::messages::BodyFormat::Xml;
    let (status, body) = crate::release::send(
        &platform,
        (appid, &username),
        "o-wechat-audit",
        &xml,
        format,
    )
    .await?;
    match status {
        200 => Ok(()),
        _ => Err(format!("the message URL answered {status}: {body}")),
    }
}
