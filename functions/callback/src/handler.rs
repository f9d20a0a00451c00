//! `GET /wechat/callback?auth_code=&expires_in=&state=`, the redirect URI: verifies state,
//! exchanges the code, stores the authorizer, then 302 to `AUTH_SUCCESS_URL` or a small HTML
//! page naming the account and its permissions, in Chinese when `Accept-Language` prefers it. Failures are a readable page for a browser and
//! the error contract's JSON otherwise.

use lambda_http::{Body, Request, Response};
use wxopen::services::Authorization;
use wxopen_lambda::pages::{self, Lang};
use wxopen_lambda::request::{accepts_html, html, json, query, redirect};
use wxopen_lambda::ApiError;

/// Handles one request.
pub async fn handle(
    authorization: &Authorization,
    req: Request,
) -> Result<Response<Body>, ApiError> {
    let browser = accepts_html(&req);
    let lang = Lang::from_accept_language(
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    );
    let wants_json = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") && !v.contains("text/html"));
    let result = authorization
        .complete(
            query(&req, "auth_code").as_deref(),
            query(&req, "state").as_deref(),
        )
        .await;
    Ok(match result {
        Ok(done) => match &done.redirect {
            Some(url) => redirect(url),
            None if wants_json => json(200, &done.record),
            None => html(200, pages::authorized(&done, lang)),
        },
        Err(e) => {
            let e = ApiError::from(e);
            tracing::warn!(code = %e.code, status = e.status, "callback failed");
            if browser || !wants_json {
                html(e.status, pages::error(&e, lang))
            } else {
                e.to_response()
            }
        }
    })
}

#[cfg(test)]
mod tests;
