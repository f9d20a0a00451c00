//! `GET /wechat/authorize[?auth_type=&biz_appid=&mobile=1&ext=]`: a new pre-auth code and a
//! signed state, then 302 to WeChat's authorization page. A direct invocation with the same
//! fields as JSON returns `{"authorization_url": ...}` instead.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use wxopen::services::{Authorization, AuthorizeRequest};
use wxopen_lambda::request::{finish, is_direct, json, params, redirect, text_value};
use wxopen_lambda::ApiError;
use wxopen_models::{AuthType, AuthorizerAppid};

#[derive(Debug, Default, Deserialize)]
struct Params {
    auth_type: Option<serde_json::Value>,
    biz_appid: Option<String>,
    mobile: Option<serde_json::Value>,
    ext: Option<String>,
}

/// Parse at the edge: the service receives only valid values.
fn parse(params: Params) -> Result<AuthorizeRequest, ApiError> {
    let auth_type = text_value(params.auth_type)
        .map(|t| AuthType::parse(&t))
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_auth_type", e.to_string()))?
        .unwrap_or_default();
    let biz_appid = params
        .biz_appid
        .filter(|s| !s.is_empty())
        .map(AuthorizerAppid::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_biz_appid", e.to_string()))?;
    let mobile = matches!(text_value(params.mobile).as_deref(), Some("1" | "true"));
    Ok(AuthorizeRequest {
        auth_type,
        biz_appid,
        mobile,
        ext: params.ext.filter(|s| !s.is_empty()),
    })
}

/// Handles one request.
pub async fn handle(
    authorization: &Authorization,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        let params = params::<Params>(&req, &["auth_type", "biz_appid", "mobile", "ext"])?;
        let url = authorization.start(&parse(params)?).await?;
        Ok(if direct {
            json(200, &serde_json::json!({ "authorization_url": url }))
        } else {
            redirect(&url)
        })
    }
    .await;
    finish(direct, result)
}
