//! Direct invocation `{"authorizer_appid": "...", "invalid_token": "..."?}`:
//! `{"authorizer_appid", "authorizer_access_token", "expires_at"}` with a token valid for at
//! least the refresh margin. `invalid_token` reports a token WeChat rejected (40001/42001): it
//! is dropped, if still stored, before a valid one is returned.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use wxopen::services::Authorizers;
use wxopen_lambda::request::{finish, is_direct, json, payload, require_direct, required_appid};
use wxopen_lambda::ApiError;
use wxopen_models::AccessToken;

#[derive(Deserialize)]
struct Params {
    authorizer_appid: Option<String>,
    invalid_token: Option<String>,
}

/// Handles one invocation.
pub async fn handle(authorizers: &Authorizers, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        // Tokens are handed to other functions by direct (IAM-authorized) invocation only.
        require_direct(&req, "authorizer-token", "{\"authorizer_appid\": \"...\"}")?;
        let params: Params = payload(&req)?;
        let appid = required_appid("authorizer_appid", params.authorizer_appid)?;
        let invalid = params
            .invalid_token
            .filter(|t| !t.is_empty())
            .map(AccessToken::new);
        let grant = authorizers.token(&appid, invalid.as_ref()).await?;
        Ok(json(200, &grant))
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod tests;
