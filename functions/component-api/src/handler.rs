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
//!   platform without `appid` (`clear_quota/v2`, for when WeChat answers 45009; 10 a month);
//! - `{"op": "register_mini_program", "kind": "enterprise" | "personal" | "beta", "ext", ...the
//!   kind's fields}` → `{"registration_id", "verification_url", "expires_at", "state", ...}`;
//! - `{"op": "registration", "registration_id"}` → the registration's state;
//! - the template library: `{"op": "gettemplatedraftlist"}`, `{"op": "addtotemplate",
//!   "draft_id", "template_type"?}`, `{"op": "gettemplatelist", "template_type"?}`,
//!   `{"op": "deletetemplate", "template_id"}` → WeChat's answer.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json as value, Value};
use wxopen::services::{ComponentCalls, TemplateOp};
use wxopen_lambda::request::{
    finish, is_direct, json, payload, require_direct, required_appid, text_value,
};
use wxopen_lambda::ApiError;
use wxopen_models::api::{OptionName, OptionValue};
use wxopen_models::calls::ApiCall;
use wxopen_models::registration::{RegistrationDetails, RegistrationKind};

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
    kind: Option<String>,
    ext: Option<Value>,
    registration_id: Option<String>,
    draft_id: Option<Value>,
    template_id: Option<Value>,
    template_type: Option<Value>,
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

/// `register_mini_program`'s fields, checked in order: `ext`, `kind`, then the kind's own.
fn registration_request(
    p: &Params,
    raw: &Value,
) -> Result<(String, RegistrationDetails), ApiError> {
    let ext = match &p.ext {
        Some(Value::String(ext)) if !ext.trim().is_empty() => ext.clone(),
        Some(Value::String(_)) | None => {
            return Err(ApiError::bad_request(
                "missing_ext",
                "register_mini_program needs \"ext\": the platform's own id of the customer the Mini Program is registered for",
            ))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_ext",
                "ext must be a string: the platform's own id of the customer",
            ))
        }
    };
    let kind = required("kind", p.kind.clone())?;
    if RegistrationKind::parse(&kind).is_none() {
        return Err(ApiError::bad_request(
            "invalid_kind",
            format!(
                "kind {:?} is not one of enterprise, personal, beta",
                kind.chars().take(40).collect::<String>()
            ),
        ));
    }
    let details = RegistrationDetails::deserialize(raw).map_err(|e| {
        ApiError::bad_request(
            "invalid_registration",
            format!("a {kind} registration: {e} (enterprise: name, code, component_phone, code_type?, legal_persona_wechat?, legal_persona_name?; personal: idname, wxuser, component_phone?; beta: name, openid)"),
        )
    })?;
    Ok((ext, details))
}

/// A whole number given as a number or as digits.
fn number(field: &'static str, value: &Option<Value>) -> Result<Option<u64>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_u64() => Ok(n.as_u64()),
        Some(Value::String(s)) if s.parse::<u64>().is_ok() => Ok(s.parse().ok()),
        Some(_) => Err(ApiError::bad_request(
            format!("invalid_{field}"),
            format!("{field} must be a whole number"),
        )),
    }
}

fn template_op(name: &str, p: &Params) -> Result<TemplateOp, ApiError> {
    let kind = number("template_type", &p.template_type)?;
    if kind.is_some_and(|t| t > 1) {
        return Err(ApiError::bad_request(
            "invalid_template_type",
            "template_type is 0 (ordinary) or 1 (standard)",
        ));
    }
    let needed = |field: &'static str, value: Option<u64>| {
        value.ok_or_else(|| {
            ApiError::bad_request(
                format!("missing_{field}"),
                format!("{name} needs \"{field}\""),
            )
        })
    };
    Ok(match name {
        "gettemplatedraftlist" => TemplateOp::Drafts,
        "addtotemplate" => TemplateOp::Add {
            draft_id: needed("draft_id", number("draft_id", &p.draft_id)?)?,
            template_type: kind.unwrap_or(0) as u8,
        },
        "gettemplatelist" => TemplateOp::List {
            template_type: kind.map(|t| t as u8),
        },
        _ => TemplateOp::Delete {
            template_id: needed("template_id", number("template_id", &p.template_id)?)?,
        },
    })
}

async fn op(calls: &ComponentCalls, op: &str, p: Params, raw: &Value) -> Result<Value, ApiError> {
    Ok(match op {
        "register_mini_program" => {
            let (ext, details) = registration_request(&p, raw)?;
            let view = calls.registrations().register(&ext, &details).await?;
            serde_json::to_value(view).expect("serializes")
        }
        "gettemplatedraftlist" | "addtotemplate" | "gettemplatelist" | "deletetemplate" => {
            let op = template_op(op, &p)?;
            calls.template_library(&op).await?
        }
        "registration" => {
            let id = required("registration_id", p.registration_id)?;
            let view = calls.registrations().registration(&id).await?;
            serde_json::to_value(view).expect("serializes")
        }
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
                    "op {:?} is not one of jscode2session, oauth_exchange, oauth_url, get_option, set_option, clear_quota, register_mini_program, registration, gettemplatedraftlist, addtotemplate, gettemplatelist, deletetemplate (or omit op and pass a path)",
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
        let raw: Value = payload(&req)?;
        let mut params = Params::deserialize(&raw).map_err(|e| {
            ApiError::bad_request("invalid_payload", format!("the payload does not read: {e}"))
        })?;
        match params.op.take() {
            Some(name) => Ok(json(200, &op(calls, &name, params, &raw).await?)),
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
