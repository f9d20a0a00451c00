//! A loopback stand-in for API Gateway: turns HTTP requests into HTTP API (v2) events for the
//! functions' handlers, so the simulator's pushes and a client's redirects reach them for real.

use crate::functions::http_event_json;
use crate::functions::Services;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use lambda_http::request::LambdaRequest;

/// A running gateway. Dropping it stops the server.
pub struct Gateway {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gateway {
    /// Serves `/wechat/authorize`, `/wechat/callback`, `/wechat/events`, `/wechat/messages/...`
    /// and `/authorizers/...`
    /// with the functions' handlers on `services`.
    pub async fn start(services: Services) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, services)
    }

    /// As [`Gateway::start`], on a listener bound earlier (so its URL can be configured first).
    pub fn start_on(listener: tokio::net::TcpListener, services: Services) -> Self {
        let app = Router::new()
            .route("/{*path}", any(route))
            .with_state(services);
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base_url, task }
    }
}

async fn route(
    State(services): State<Services>,
    method: Method,
    uri: Uri,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let header_refs: Vec<(&str, &str)> = header_pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
    let mut event = http_event_json(
        method.as_str(),
        &path,
        &query,
        &header_refs,
        body.as_deref(),
    );
    if let Some(appid) = path.strip_prefix("/authorizers/") {
        event["pathParameters"] = serde_json::json!({ "appid": appid });
    }
    let parsed: LambdaRequest = serde_json::from_value(event).unwrap();
    let req = lambda_http::Request::from(parsed);
    let result = match path.as_str() {
        "/wechat/authorize" => authorize::handler::handle(&services.authorization, req).await,
        "/wechat/callback" => callback::handler::handle(&services.authorization, req).await,
        "/wechat/events" => events::handler::handle(&services.pushes, req).await,
        p if p.starts_with("/wechat/messages/") => {
            messages::handler::handle(&services.messages, req).await
        }
        p if p.starts_with("/authorizers") => {
            authorizer_info::handler::handle(&services.authorizers, req).await
        }
        _ => return (StatusCode::NOT_FOUND, "no such route").into_response(),
    };
    let resp = result.unwrap_or_else(|e| e.to_response());
    let (parts, body) = resp.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(t) => t.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => Vec::new(),
    };
    let mut out = Response::builder().status(parts.status.as_u16());
    for (k, v) in parts.headers.iter() {
        out = out.header(k.as_str(), v.as_bytes());
    }
    out.body(axum::body::Body::from(bytes)).unwrap()
}
