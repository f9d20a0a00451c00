//! `GET /wechat/authorize[?auth_type=&biz_appid=&mobile=1&ext=]`: a new pre-auth code and a
//! signed state, then 302 to WeChat's authorization page. A direct invocation with the same
//! fields as JSON returns `{"authorization_url": ...}` instead.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use wxopen::platform::{AuthorizeRequest, Platform};
use wxopen_lambda::request::{finish, is_direct, json, payload, query, redirect};
use wxopen_lambda::ApiError;
use wxopen_models::AuthorizerAppid;

#[derive(Debug, Default, Deserialize)]
struct Params {
    auth_type: Option<serde_json::Value>,
    biz_appid: Option<String>,
    mobile: Option<serde_json::Value>,
    ext: Option<String>,
}

fn text(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn parse(params: Params) -> Result<AuthorizeRequest, ApiError> {
    let auth_type = match text(params.auth_type).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<u8>().ok().filter(|t| (1..=3).contains(t)).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_auth_type",
                format!("auth_type {s:?} is not allowed: use 1 (Official Accounts), 2 (Mini Programs) or 3 (both)"),
            )
        })?),
    };
    let biz_appid = params
        .biz_appid
        .filter(|s| !s.is_empty())
        .map(AuthorizerAppid::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_biz_appid", e.to_string()))?;
    let mobile = matches!(text(params.mobile).as_deref(), Some("1" | "true"));
    Ok(AuthorizeRequest {
        auth_type,
        biz_appid,
        mobile,
        ext: params.ext.filter(|s| !s.is_empty()),
    })
}

/// Handles one request.
pub async fn handle(platform: &Platform, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        let params = if direct {
            payload::<Params>(&req)?
        } else {
            let q = |n: &str| query(&req, n).map(serde_json::Value::String);
            Params {
                auth_type: q("auth_type"),
                biz_appid: query(&req, "biz_appid"),
                mobile: q("mobile"),
                ext: query(&req, "ext"),
            }
        };
        let url = platform.start_authorization(&parse(params)?).await?;
        Ok(if direct {
            json(200, &serde_json::json!({ "authorization_url": url }))
        } else {
            redirect(&url)
        })
    }
    .await;
    finish(direct, result)
}
