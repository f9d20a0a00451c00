//! A counting proxy in front of DynamoDB: every request a function makes passes through it and
//! is counted by operation (`X-Amz-Target`), so calls per operation are counted, not guessed.
//! It also asks DynamoDB for the capacity each request consumed (`ReturnConsumedCapacity`,
//! added to requests that lack it) and adds it up by operation.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

struct Inner {
    upstream: String,
    client: reqwest::Client,
    counts: Mutex<BTreeMap<String, u64>>,
    capacity: Mutex<BTreeMap<String, f64>>,
}

/// Operations that report consumed capacity when asked.
const CAPACITY_OPERATIONS: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
];

/// Asks for the consumed capacity when the request does not already.
fn with_capacity(operation: &str, body: Bytes) -> Bytes {
    if !CAPACITY_OPERATIONS.contains(&operation) {
        return body;
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.entry("ReturnConsumedCapacity")
                .or_insert_with(|| "TOTAL".into());
            Bytes::from(serde_json::to_vec(&map).expect("JSON serializes"))
        }
        _ => body,
    }
}

/// The capacity units an answer reports (one object, or a list for transactions and batches).
fn consumed(body: &[u8]) -> f64 {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0.0;
    };
    let units = |c: &serde_json::Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    match &v["ConsumedCapacity"] {
        serde_json::Value::Array(list) => list.iter().map(units).sum(),
        c @ serde_json::Value::Object(_) => units(c),
        _ => 0.0,
    }
}

/// The running proxy.
pub struct DynamoProxy {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_DYNAMODB`.
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DynamoProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DynamoProxy {
    /// Proxies to `upstream` (DynamoDB Local).
    pub async fn start(upstream: &str) -> Self {
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            counts: Mutex::new(BTreeMap::new()),
            capacity: Mutex::new(BTreeMap::new()),
        });
        let app = Router::new().fallback(forward).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, inner, task }
    }

    /// Requests so far, by operation.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.inner.counts.lock().unwrap().clone()
    }

    /// Capacity units consumed so far, by operation.
    pub fn capacity(&self) -> BTreeMap<String, f64> {
        self.inner.capacity.lock().unwrap().clone()
    }
}

async fn forward(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
        .unwrap_or_else(|| "other".into());
    *inner
        .counts
        .lock()
        .unwrap()
        .entry(operation.clone())
        .or_default() += 1;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = inner
        .client
        .request(method, format!("{}{path}", inner.upstream))
        .body(with_capacity(&operation, body));
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            request = request.header(k, v);
        }
    }
    match request.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let mut out = Response::builder().status(status);
            for (k, v) in resp.headers() {
                if k != "content-length" && k != "transfer-encoding" {
                    out = out.header(k, v);
                }
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            *inner.capacity.lock().unwrap().entry(operation).or_default() += consumed(&bytes);
            out.body(axum::body::Body::from(bytes)).unwrap()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
