//! The platform's template library (模板库): drafts uploaded from WeChat's developer tools (two
//! seeded), templates added from them (one seeded, template 7, version 2.0.0), 200 at most.
//! Called with the component token as `access_token`; counted as `library:<name>`.

use crate::Shared;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use wxopen::clock::now_secs;

fn error(code: i64, msg: &str) -> Value {
    json!({"errcode": code, "errmsg": format!("{msg} rid: sim")})
}

/// The drafts and templates.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Library {
    /// `draft_list` entries.
    pub drafts: Vec<Value>,
    /// `template_list` entries.
    pub templates: Vec<Value>,
}

impl Default for Library {
    fn default() -> Self {
        let draft = |id: u64, v: &str| json!({"draft_id": id, "user_version": v, "user_desc": format!("draft {v}"), "create_time": 1_790_000_000});
        Self {
            drafts: vec![draft(1, "1.9.0"), draft(2, "2.0.0")],
            templates: vec![
                json!({"template_id": 7, "draft_id": 2, "user_version": "2.0.0", "user_desc": "draft 2.0.0", "create_time": 1_790_000_100, "template_type": 0}),
            ],
        }
    }
}

impl Library {
    /// Whether `template_id` is in the library.
    pub fn has(&self, template_id: i64) -> bool {
        self.templates
            .iter()
            .any(|t| t["template_id"].as_i64() == Some(template_id))
    }
}

/// `/wxa/{gettemplatedraftlist,addtotemplate,gettemplatelist,deletetemplate}`.
pub async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let name = uri.path().trim_start_matches("/wxa/").to_owned();
    let mut state = shared.lock().unwrap();
    *state.calls.entry(format!("library:{name}")).or_default() += 1;
    let token = query.get("access_token").cloned().unwrap_or_default();
    match state.component_tokens.get(&token) {
        Some(expires_at) if *expires_at > now_secs() => {}
        _ => {
            return Json(error(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ))
        }
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let library = &mut state.code.library;
    Json(match name.as_str() {
        "gettemplatedraftlist" => {
            json!({"errcode": 0, "errmsg": "ok", "draft_list": library.drafts})
        }
        "gettemplatelist" => {
            let kind = query
                .get("template_type")
                .and_then(|t| t.parse::<i64>().ok());
            let list: Vec<&Value> = library
                .templates
                .iter()
                .filter(|t| kind.is_none_or(|k| t["template_type"].as_i64() == Some(k)))
                .collect();
            json!({"errcode": 0, "errmsg": "ok", "template_list": list})
        }
        "addtotemplate" => {
            let draft_id = body["draft_id"].as_i64();
            let Some(draft) = library
                .drafts
                .iter()
                .find(|d| d["draft_id"].as_i64() == draft_id)
                .cloned()
            else {
                return Json(error(85064, "draft not found"));
            };
            if library.templates.len() >= 200 {
                return Json(error(85065, "template library is full"));
            }
            let template_id = library
                .templates
                .iter()
                .filter_map(|t| t["template_id"].as_i64())
                .max()
                .unwrap_or(0)
                + 1;
            library.templates.push(json!({"template_id": template_id, "draft_id": draft["draft_id"],
                "user_version": draft["user_version"], "user_desc": draft["user_desc"], "create_time": now_secs(),
                "template_type": body["template_type"].as_i64().unwrap_or(0)}));
            json!({"errcode": 0, "errmsg": "ok"})
        }
        "deletetemplate" => {
            let before = library.templates.len();
            let id = body["template_id"].as_i64();
            library
                .templates
                .retain(|t| t["template_id"].as_i64() != id);
            match library.templates.len() < before {
                true => json!({"errcode": 0, "errmsg": "ok"}),
                false => error(85014, "template not exist"),
            }
        }
        _ => error(40066, "invalid url"),
    })
}
