//! Direct invocation `{"authorizer_appid", "path", "method"?, "query"?, "body"?, "retry"?}`:
//! the API at `path` on `WECHAT_API_BASE` called with the authorizer's access token (a refused
//! one replaced once), answered `{"status", "body"}` with WeChat's JSON as sent, errcode
//! included, or `{"status", "content_type", "body_base64"}` for a binary answer.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use wxopen::services::AuthorizerCalls;
use wxopen_lambda::request::{finish, is_direct, json, payload, require_direct, required_appid};
use wxopen_lambda::ApiError;
use wxopen_models::calls::ApiCall;

#[derive(Deserialize)]
struct Params {
    authorizer_appid: Option<String>,
    #[serde(flatten)]
    call: ApiCall,
}

/// Handles one invocation.
pub async fn handle(calls: &AuthorizerCalls, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        require_direct(
            &req,
            "authorizer-api",
            "{\"authorizer_appid\": \"...\", \"path\": \"/cgi-bin/...\"}",
        )?;
        let params: Params = payload(&req)?;
        let appid = required_appid("authorizer_appid", params.authorizer_appid)?;
        let answer = calls.call(&appid, &params.call).await?;
        Ok(json(200, &answer))
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod tests;
