//! A minimal Lambda Runtime API on loopback: the same protocol Lambda speaks to a custom
//! runtime (`/2018-06-01/runtime/invocation/next`, `.../response`, `.../error`,
//! `/runtime/init/error`), one instance per function process.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The function's result.
    Response(Vec<u8>),
    /// The function's error document.
    Error(Vec<u8>),
}

struct Pending {
    id: String,
    payload: Vec<u8>,
    done: oneshot::Sender<(Outcome, Instant)>,
}

struct Inner {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<(Outcome, Instant)>>>,
    first_next: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
    /// Each invocation's time limit, sent as its deadline.
    timeout: std::time::Duration,
}

/// One emulated Runtime API.
pub struct RuntimeApi {
    /// `127.0.0.1:PORT`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    sender: mpsc::UnboundedSender<Pending>,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
    serial: std::sync::atomic::AtomicU64,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RuntimeApi {
    /// Serves on a free loopback port; each invocation's deadline is `timeout` after it starts.
    pub async fn start(timeout: std::time::Duration) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            queue: tokio::sync::Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            first_next: Mutex::new(None),
            init_error: Mutex::new(None),
            timeout,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            address,
            sender,
            inner,
            task,
            serial: Default::default(),
        }
    }

    /// When the runtime first asked for an invocation (the end of its init).
    pub fn first_next(&self) -> Option<Instant> {
        *self.inner.first_next.lock().unwrap()
    }

    /// An init error the runtime reported.
    pub fn init_error(&self) -> Option<String> {
        self.inner.init_error.lock().unwrap().clone()
    }

    /// Queues an invocation; resolves with its outcome and the instant it arrived.
    pub fn invoke(&self, payload: &serde_json::Value) -> oneshot::Receiver<(Outcome, Instant)> {
        let (done, receiver) = oneshot::channel();
        let n = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let id = format!("bench-{n:08}");
        self.sender
            .send(Pending {
                id,
                payload: serde_json::to_vec(payload).unwrap(),
                done,
            })
            .unwrap_or_else(|_| panic!("runtime API closed"));
        receiver
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    inner
        .first_next
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let pending = inner.queue.lock().await.recv().await;
    let Some(p) = pending else {
        return (StatusCode::GONE, HeaderMap::new(), Vec::new());
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "Lambda-Runtime-Aws-Request-Id",
        HeaderValue::from_str(&p.id).unwrap(),
    );
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + inner.timeout.as_millis();
    headers.insert(
        "Lambda-Runtime-Deadline-Ms",
        HeaderValue::from_str(&deadline.to_string()).unwrap(),
    );
    headers.insert(
        "Lambda-Runtime-Invoked-Function-Arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"),
    );
    headers.insert(
        "Lambda-Runtime-Trace-Id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000;Sampled=0"),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    inner.waiting.lock().unwrap().insert(p.id, p.done);
    (StatusCode::OK, headers, p.payload)
}

fn finish(inner: &Inner, id: &str, outcome: Outcome) -> StatusCode {
    let at = Instant::now();
    match inner.waiting.lock().unwrap().remove(id) {
        Some(done) => {
            let _ = done.send((outcome, at));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&inner, &id, Outcome::Response(body.to_vec()))
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&inner, &id, Outcome::Error(body.to_vec()))
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    *inner.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}
