//! A loopback HTTP stand-in for `https://api.weixin.qq.com/cgi-bin/component/*`.
//!
//! Each endpoint answers from its script first (pushed with [`StubWeChat::script`]) and
//! otherwise with a plausible default. Every call is counted and recorded.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The seed's `api_query_auth` example.
pub const QUERY_AUTH_EXAMPLE: &str =
    include_str!("../../../shared/models/tests/fixtures/query_auth.json");
/// The seed's Official Account `api_get_authorizer_info` example.
pub const INFO_OFFICIAL_ACCOUNT_EXAMPLE: &str =
    include_str!("../../../shared/models/tests/fixtures/authorizer_info_official_account.json");
/// The seed's Mini Program `api_get_authorizer_info` example.
pub const INFO_MINI_PROGRAM_EXAMPLE: &str =
    include_str!("../../../shared/models/tests/fixtures/authorizer_info_mini_program.json");

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Raw body.
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    /// A 200 with this JSON.
    pub fn json(value: Value) -> Self {
        Self {
            status: 200,
            body: value.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// A 200 with WeChat's error object.
    pub fn errcode(code: i64) -> Self {
        Self::json(json!({"errcode": code, "errmsg": format!("stub error {code}")}))
    }

    /// Any status and raw body.
    pub fn raw(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    /// The same answer, late.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the stub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `api_*` name.
    pub endpoint: String,
    /// Query parameters.
    pub query: HashMap<String, String>,
    /// JSON body (`Null` when not JSON).
    pub body: Value,
}

#[derive(Default)]
struct StubState {
    calls: Mutex<HashMap<String, u32>>,
    requests: Mutex<Vec<Recorded>>,
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
    delays: Mutex<HashMap<String, Duration>>,
    serial: AtomicU64,
}

/// The running stand-in. Dropping it stops the server.
pub struct StubWeChat {
    /// `http://127.0.0.1:PORT`, to use as `WECHAT_API_BASE`.
    pub base_url: String,
    state: Arc<StubState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StubWeChat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StubWeChat {
    /// Starts the stub on a free loopback port.
    pub async fn start() -> Self {
        let state = Arc::new(StubState::default());
        let app = Router::new()
            .route("/cgi-bin/component/{*endpoint}", post(handle))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base_url,
            state,
            task,
        }
    }

    /// Queues answers for the next calls of `endpoint`, in order.
    pub fn script(&self, endpoint: &str, replies: impl IntoIterator<Item = Reply>) {
        self.state
            .scripts
            .lock()
            .unwrap()
            .entry(endpoint.to_owned())
            .or_default()
            .extend(replies);
    }

    /// Delays every default answer of `endpoint`, to widen race windows.
    pub fn delay(&self, endpoint: &str, delay: Duration) {
        self.state
            .delays
            .lock()
            .unwrap()
            .insert(endpoint.to_owned(), delay);
    }

    /// How many calls `endpoint` received.
    pub fn calls(&self, endpoint: &str) -> u32 {
        self.state
            .calls
            .lock()
            .unwrap()
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }
}

async fn handle(
    State(state): State<Arc<StubState>>,
    Path(endpoint): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    *state
        .calls
        .lock()
        .unwrap()
        .entry(endpoint.clone())
        .or_default() += 1;
    state.requests.lock().unwrap().push(Recorded {
        endpoint: endpoint.clone(),
        query,
        body: body.clone(),
    });
    let scripted = state
        .scripts
        .lock()
        .unwrap()
        .get_mut(&endpoint)
        .and_then(VecDeque::pop_front);
    let reply = match scripted {
        Some(reply) => reply,
        None => {
            let n = state.serial.fetch_add(1, Ordering::SeqCst) + 1;
            let delay = state
                .delays
                .lock()
                .unwrap()
                .get(&endpoint)
                .copied()
                .unwrap_or_default();
            default_reply(&endpoint, &body, n).after(delay)
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap();
    let content_type = if reply.body.trim_start().starts_with('<') {
        "text/html"
    } else {
        "application/json"
    };
    (status, [("content-type", content_type)], reply.body).into_response()
}

fn default_reply(endpoint: &str, body: &Value, n: u64) -> Reply {
    let field = |name: &str| body.get(name).cloned().unwrap_or(Value::Null);
    match endpoint {
        "api_component_token" => Reply::json(json!({
            "component_access_token": format!("component-token-{n}"),
            "expires_in": 7200
        })),
        "api_create_preauthcode" => Reply::json(json!({
            "pre_auth_code": format!("preauthcode@@@{n}"),
            "expires_in": 1800
        })),
        "api_query_auth" => Reply::raw(200, QUERY_AUTH_EXAMPLE),
        "api_authorizer_token" => Reply::json(json!({
            "authorizer_access_token": format!("authorizer-token-{n}"),
            "expires_in": 7200,
            "authorizer_refresh_token": field("authorizer_refresh_token")
        })),
        "api_get_authorizer_info" => Reply::raw(200, INFO_OFFICIAL_ACCOUNT_EXAMPLE),
        "api_get_authorizer_list" => Reply::json(json!({"total_count": 0, "list": []})),
        "api_get_authorizer_option" => Reply::json(json!({
            "authorizer_appid": field("authorizer_appid"),
            "option_name": field("option_name"),
            "option_value": "1"
        })),
        "api_set_authorizer_option" | "clear_quota/v2" => {
            Reply::json(json!({"errcode": 0, "errmsg": "ok"}))
        }
        _ => Reply::json(json!({"errcode": 40066, "errmsg": "invalid url"})),
    }
}

/// A loopback URL nothing listens on: connections to it are refused (an access point down).
pub fn closed() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A loopback server that reads every request and never answers (an access point that took a
/// request and hangs); how many requests it received.
pub async fn hanging() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                if socket.read(&mut buf).await.unwrap_or(0) > 0 {
                    count.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            });
        }
    });
    (url, received)
}
