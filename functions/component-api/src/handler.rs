//! Direct invocation, one of:
//! - `{"path", "method"?, "query"?, "body"?, "retry"?}`: the API at `path` called with the
//!   component token (and `component_appid` where the API takes it), answered like
//!   `authorizer-api`;
//! - `{"op": "jscode2session", "appid", "js_code"}` → `{openid, session_key, unionid?}`;
//! - `{"op": "oauth_exchange", "appid", "code"}` → `{openid, access_token, refresh_token,
//!   expires_in, scope}`;
//! - `{"op": "oauth_url", "appid", "redirect_uri", "scope", "state"}` → `{"url"}`;
//! - `{"op": "get_option" | "set_option", "authorizer_appid", "option_name", "option_value"?}`;
//! - `{"op": "clear_quota", "appid"?}`: resets the daily API quotas of an authorizer, or of the
//!   platform without `appid` (`clear_quota/v2`, for when WeChat answers 45009; 10 a month).

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json as value, Value};
use wxopen::services::ComponentCalls;
use wxopen_lambda::request::{
    finish, is_direct, json, payload, require_direct, required_appid, text_value,
};
use wxopen_lambda::ApiError;
use wxopen_models::api::{OptionName, OptionValue};
use wxopen_models::calls::ApiCall;

#[derive(Deserialize)]
struct Params {
    op: Option<String>,
    appid: Option<String>,
    authorizer_appid: Option<String>,
    js_code: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    option_name: Option<String>,
    option_value: Option<Value>,
    #[serde(flatten)]
    call: Option<ApiCall>,
}

fn required(field: &'static str, value: Option<String>) -> Result<String, ApiError> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 512)
        .ok_or_else(|| {
            ApiError::bad_request(
                format!("missing_{field}"),
                format!("this operation needs \"{field}\" (at most 512 characters)"),
            )
        })
}

async fn op(calls: &ComponentCalls, op: &str, p: Params) -> Result<Value, ApiError> {
    Ok(match op {
        "jscode2session" => {
            let appid = required_appid("appid", p.appid)?;
            let session = calls
                .jscode2session(&appid, &required("js_code", p.js_code)?)
                .await?;
            serde_json::to_value(session).expect("serializes")
        }
        "oauth_exchange" => {
            let appid = required_appid("appid", p.appid)?;
            let grant = calls
                .oauth_exchange(&appid, &required("code", p.code)?)
                .await?;
            serde_json::to_value(grant).expect("serializes")
        }
        "oauth_url" => {
            let appid = required_appid("appid", p.appid)?;
            let redirect = required("redirect_uri", p.redirect_uri)?;
            let redirect = url::Url::parse(&redirect)
                .ok()
                .filter(|u| u.scheme() == "https" || u.scheme() == "http")
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_redirect_uri",
                        "redirect_uri must be an absolute http(s) URL on the Official Account's web authorization domain",
                    )
                })?;
            let url = calls.oauth_url(
                &appid,
                &redirect,
                &required("scope", p.scope)?,
                p.state.as_deref().unwrap_or(""),
            )?;
            value!({ "url": url })
        }
        "get_option" => {
            let appid = required_appid("authorizer_appid", p.authorizer_appid)?;
            let name = OptionName::from(required("option_name", p.option_name)?.as_str());
            serde_json::to_value(calls.get_option(&appid, &name).await?).expect("serializes")
        }
        "set_option" => {
            let appid = required_appid("authorizer_appid", p.authorizer_appid)?;
            let name = OptionName::from(required("option_name", p.option_name)?.as_str());
            let value = OptionValue(required("option_value", text_value(p.option_value))?);
            calls.set_option(&appid, &name, &value).await?;
            value!({ "errcode": 0, "errmsg": "ok" })
        }
        "clear_quota" => {
            let appid = p
                .appid
                .map(|a| required_appid("appid", Some(a)))
                .transpose()?;
            calls.clear_quota(appid.as_ref()).await?;
            value!({ "errcode": 0, "errmsg": "ok" })
        }
        other => {
            return Err(ApiError::bad_request(
                "invalid_op",
                format!(
                    "op {:?} is not one of jscode2session, oauth_exchange, oauth_url, get_option, set_option, clear_quota (or omit op and pass a path)",
                    other.chars().take(40).collect::<String>()
                ),
            ))
        }
    })
}

/// Handles one invocation.
pub async fn handle(calls: &ComponentCalls, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        require_direct(
            &req,
            "component-api",
            "{\"op\": \"jscode2session\", \"appid\": \"...\", \"js_code\": \"...\"} or {\"path\": \"/sns/...\"}",
        )?;
        let mut params: Params = payload(&req)?;
        match params.op.take() {
            Some(name) => Ok(json(200, &op(calls, &name, params).await?)),
            None => {
                let call = params.call.filter(|c| !c.path.is_empty()).ok_or_else(|| {
                    ApiError::bad_request(
                        "missing_path",
                        "pass \"op\" for a typed operation, or \"path\" for a call to a component API",
                    )
                })?;
                Ok(json(200, &calls.call(&call).await?))
            }
        }
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod tests;
