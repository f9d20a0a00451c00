//! Reading requests: HTTP API events and direct invocations (lambda_http's `pass_through`).

use crate::ApiError;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// True when the function was invoked directly with a JSON payload, not through API Gateway.
pub fn is_direct(req: &Request) -> bool {
    matches!(req.request_context_ref(), Some(RequestContext::PassThrough))
}

/// A query parameter, trimmed, `None` when absent or empty.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The `{appid}` path parameter, or else the last path segment unless it is one of `mounts`
/// (the route's own name): a function must not depend on the path it is mounted at.
pub fn path_appid(req: &Request, mounts: &[&str]) -> Option<String> {
    if let Some(appid) = req.path_parameters_ref().and_then(|p| p.first("appid")) {
        return Some(appid.to_owned());
    }
    let last = req
        .uri()
        .path()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    (!last.is_empty() && !mounts.contains(&last)).then(|| last.to_owned())
}

/// Refuses an HTTP request to a function that answers direct (IAM-authorized) invocations only.
pub fn require_direct(req: &Request, function: &str, example: &str) -> Result<(), ApiError> {
    if is_direct(req) {
        return Ok(());
    }
    Err(ApiError::new(
        404,
        "not_found",
        format!("{function} answers direct invocations only: invoke it with {example}"),
    ))
}

/// An AppID the payload must carry under `field`: `missing_<field>` or `invalid_<field>`.
pub fn required_appid(
    field: &'static str,
    value: Option<String>,
) -> Result<wxopen_models::AuthorizerAppid, ApiError> {
    let value = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                format!("missing_{field}"),
                format!("the payload needs {{\"{field}\": \"wx...\"}}"),
            )
        })?;
    wxopen_models::AuthorizerAppid::parse(value)
        .map_err(|e| ApiError::bad_request(format!("invalid_{field}"), e.to_string()))
}

/// The request body as bytes (empty when there is none).
pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => b"",
        body => body.as_ref(),
    }
}

/// True when the client prefers an HTML page (a person's browser).
pub fn accepts_html(req: &Request) -> bool {
    req.headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The JSON payload of a direct invocation (or a JSON request body).
pub fn payload<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"{}",
        body => body.as_ref(),
    };
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_payload",
            format!("the payload is not the expected JSON object: {e}"),
        )
    })
}

/// The parameters of a request: the JSON payload of a direct invocation, or for HTTP the
/// named query parameters (as strings), read into the same type.
pub fn params<T: DeserializeOwned>(req: &Request, names: &[&str]) -> Result<T, ApiError> {
    if is_direct(req) {
        return payload(req);
    }
    let object: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), query(req, name)?.into())))
        .collect();
    serde_json::from_value(object.into()).map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("the query is not as expected: {e}"),
        )
    })
}

/// A JSON value given as a string or a number, as text; `None` when absent, null or blank.
pub fn text_value(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Body::Text(
            serde_json::to_string(value).expect("the value serializes"),
        ))
        .expect("a valid response")
}

/// A 302 redirect.
pub fn redirect(location: &str) -> Response<Body> {
    Response::builder()
        .status(302)
        .header("location", location)
        .header("cache-control", "no-store")
        .body(Body::Empty)
        .expect("a valid response")
}

/// An HTML page.
pub fn html(status: u16, page: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .body(Body::Text(page))
        .expect("a valid response")
}

/// A plain-text response.
pub fn text(status: u16, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Body::Text(body.to_owned()))
        .expect("a valid response")
}

/// The result of a handler: for a direct invocation an error is a Lambda error; for HTTP it is
/// a response with the contract's body.
pub fn finish(
    direct: bool,
    result: Result<Response<Body>, ApiError>,
) -> Result<Response<Body>, ApiError> {
    match result {
        Ok(resp) => Ok(resp),
        Err(e) if direct => {
            tracing::warn!(code = %e.code, status = e.status, "request failed");
            Err(e)
        }
        Err(e) => {
            tracing::warn!(code = %e.code, status = e.status, "request failed");
            Ok(e.to_response())
        }
    }
}
