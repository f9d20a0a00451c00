//! `GET /authorizers/{appid}[?max_age_seconds=&snapshot=false]`, `GET /authorizers[?cursor=&limit=]`,
//! and direct invocation `{"authorizer_appid": "...", "max_age_seconds": 0, "snapshot": true}`
//! (or `{"cursor", "limit"}` to list): live `api_get_authorizer_info` merged with the stored
//! record, or the snapshot when it is younger than `max_age_seconds`. A live answer is saved as
//! the snapshot unless `snapshot` is false.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use std::time::Duration;
use wxopen::services::{Authorizers, InfoRead};
use wxopen_lambda::request::{finish, is_direct, json, params, path_appid, text_value};
use wxopen_lambda::ApiError;
use wxopen_models::AuthorizerAppid;

/// Default page size of the listing.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size of the listing.
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Default, Deserialize)]
struct Params {
    authorizer_appid: Option<String>,
    max_age_seconds: Option<serde_json::Value>,
    snapshot: Option<serde_json::Value>,
    cursor: Option<String>,
    limit: Option<serde_json::Value>,
}

fn number(name: &'static str, v: Option<serde_json::Value>) -> Result<Option<u64>, ApiError> {
    let Some(text) = text_value(v) else {
        return Ok(None);
    };
    text.parse::<u64>().map(Some).map_err(|_| {
        ApiError::bad_request(
            format!("invalid_{name}"),
            format!("{name} must be a non-negative whole number, not {text:?}"),
        )
    })
}

fn appid_from_path(req: &Request) -> Option<String> {
    path_appid(req, &["authorizers", "authorizer-info"])
}

async fn info(
    authorizers: &Authorizers,
    appid: &str,
    params: Params,
) -> Result<Response<Body>, ApiError> {
    let appid = AuthorizerAppid::parse(appid.trim())
        .map_err(|e| ApiError::bad_request("invalid_authorizer_appid", e.to_string()))?;
    let max_age = number("max_age_seconds", params.max_age_seconds)?.unwrap_or(0);
    let save_snapshot = match text_value(params.snapshot).as_deref() {
        None | Some("true" | "1") => true,
        Some("false" | "0") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_snapshot",
                format!("snapshot must be true or false, not {other:?}"),
            ))
        }
    };
    let read = InfoRead {
        max_age: Duration::from_secs(max_age),
        save_snapshot,
    };
    let view = authorizers.info(&appid, read).await?;
    Ok(json(200, &view))
}

async fn list(authorizers: &Authorizers, params: Params) -> Result<Response<Body>, ApiError> {
    let limit = number("limit", params.limit)?.unwrap_or(u64::from(DEFAULT_LIMIT));
    if limit == 0 || limit > u64::from(MAX_LIMIT) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let cursor = params.cursor.filter(|c| !c.is_empty());
    let page = authorizers.list(cursor.as_deref(), limit as u32).await?;
    Ok(json(
        200,
        &serde_json::json!({ "items": page.items, "next_cursor": page.next_cursor }),
    ))
}

/// Handles one request.
pub async fn handle(authorizers: &Authorizers, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        let mut params =
            params::<Params>(&req, &["max_age_seconds", "snapshot", "cursor", "limit"])?;
        if !direct {
            params.authorizer_appid = appid_from_path(&req);
        }
        match params
            .authorizer_appid
            .take()
            .filter(|a| !a.trim().is_empty())
        {
            Some(appid) => info(authorizers, &appid, params).await,
            None => list(authorizers, params).await,
        }
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod tests;
