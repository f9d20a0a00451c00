//! `GET /wechat/authorize[?auth_type=&biz_appid=&mobile=1]` or `?link=<token>`: a new pre-auth
//! code and a signed state, then 302 to WeChat's authorization page. An `ext` in the query is
//! refused: caller data travels only inside a link the platform minted.
//!
//! Direct (IAM-only) invocation `{"ext", "auth_type"?, "biz_appid"?, "mobile"?, "expires_in"?}`
//! mints such a link: `{"url", "expires_at"}`, the public route with a signed, expiring token.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use std::time::Duration;
use wxopen::services::{Authorization, AuthorizeRequest, LinkRequest};
use wxopen_lambda::request::{finish, is_direct, json, params, payload, redirect, text_value};
use wxopen_lambda::ApiError;
use wxopen_models::{AuthType, AuthorizerAppid};

#[derive(Debug, Default, Deserialize)]
struct Params {
    auth_type: Option<serde_json::Value>,
    biz_appid: Option<String>,
    mobile: Option<serde_json::Value>,
    ext: Option<String>,
    link: Option<String>,
    expires_in: Option<serde_json::Value>,
}

fn auth_type(v: Option<serde_json::Value>) -> Result<Option<AuthType>, ApiError> {
    text_value(v)
        .map(|t| AuthType::parse(&t))
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_auth_type", e.to_string()))
}

fn biz_appid(v: Option<String>) -> Result<Option<AuthorizerAppid>, ApiError> {
    v.filter(|s| !s.is_empty())
        .map(AuthorizerAppid::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_biz_appid", e.to_string()))
}

fn mobile(v: Option<serde_json::Value>) -> bool {
    matches!(text_value(v).as_deref(), Some("1" | "true"))
}

/// Parse at the edge: the service receives only valid values.
fn parse(params: Params) -> Result<AuthorizeRequest, ApiError> {
    Ok(AuthorizeRequest {
        auth_type: auth_type(params.auth_type)?.unwrap_or_default(),
        biz_appid: biz_appid(params.biz_appid)?,
        mobile: mobile(params.mobile),
        ext: params.ext.filter(|s| !s.is_empty()),
        link: params.link.filter(|s| !s.is_empty()),
    })
}

fn link_request(params: Params) -> Result<LinkRequest, ApiError> {
    let expires_in = text_value(params.expires_in)
        .map(|t| {
            t.parse::<u64>().map(Duration::from_secs).map_err(|_| {
                ApiError::bad_request(
                    "invalid_expires_in",
                    format!("expires_in must be a whole number of seconds, not {t:?}"),
                )
            })
        })
        .transpose()?;
    Ok(LinkRequest {
        ext: params.ext.unwrap_or_default(),
        auth_type: auth_type(params.auth_type)?,
        biz_appid: biz_appid(params.biz_appid)?,
        mobile: mobile(params.mobile),
        expires_in,
    })
}

/// Handles one request.
pub async fn handle(
    authorization: &Authorization,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        if direct {
            let link = authorization.mint_link(&link_request(payload::<Params>(&req)?)?)?;
            return Ok(json(200, &link));
        }
        let params = params::<Params>(&req, &["auth_type", "biz_appid", "mobile", "ext", "link"])?;
        let url = authorization.start(&parse(params)?).await?;
        Ok(redirect(&url))
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod tests;
