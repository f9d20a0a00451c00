//! Direct invocation `{"authorization_code": "..."}`: the code-to-token exchange. Returns the
//! stored record (AppID, status, permission ids, times), never a token.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use wxopen::clock::Timestamp;
use wxopen::services::Exchanger;
use wxopen_lambda::request::{finish, is_direct, json, payload};
use wxopen_lambda::ApiError;
use wxopen_models::AuthorizationCode;

#[derive(Deserialize)]
struct Params {
    authorization_code: Option<String>,
}

/// Handles one invocation.
pub async fn handle(exchanger: &Exchanger, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        let params: Params = payload(&req)?;
        let code = params
            .authorization_code
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "missing_authorization_code",
                    "the payload needs {\"authorization_code\": \"...\"}: the auth_code of the redirect or the AuthorizationCode of a push",
                )
            })?;
        let record = exchanger
            .exchange(&AuthorizationCode::new(code), Timestamp::now(), None)
            .await?;
        Ok(json(200, &record))
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod tests;
