//! Direct invocation `{"authorizer_appid": "...", "invalid_token": "..."?}`:
//! `{"authorizer_appid", "authorizer_access_token", "expires_at"}` with a token valid for at
//! least the refresh margin. `invalid_token` reports a token WeChat rejected (40001/42001): it
//! is dropped, if still stored, before a valid one is returned.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use wxopen::services::Authorizers;
use wxopen_lambda::request::{finish, is_direct, json, payload};
use wxopen_lambda::ApiError;
use wxopen_models::{AccessToken, AuthorizerAppid};

#[derive(Deserialize)]
struct Params {
    authorizer_appid: Option<String>,
    invalid_token: Option<String>,
}

/// Handles one invocation.
pub async fn handle(authorizers: &Authorizers, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        if !direct {
            // Tokens are handed to other functions by direct (IAM-authorized) invocation only.
            return Err(ApiError::new(
                404,
                "not_found",
                "authorizer-token answers direct invocations only: invoke it with {\"authorizer_appid\": \"...\"}",
            ));
        }
        let params: Params = payload(&req)?;
        let appid = params
            .authorizer_appid
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("missing_authorizer_appid", "the payload needs {\"authorizer_appid\": \"...\"}"))
            .and_then(|a| {
                AuthorizerAppid::parse(a.trim()).map_err(|e| ApiError::bad_request("invalid_authorizer_appid", e.to_string()))
            })?;
        let invalid = params.invalid_token.filter(|t| !t.is_empty()).map(AccessToken::new);
        let grant = authorizers.token(&appid, invalid.as_ref()).await?;
        Ok(json(200, &grant))
    }
    .await;
    finish(direct, result)
}
