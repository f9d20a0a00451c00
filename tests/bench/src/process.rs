//! A function binary started as Lambda starts a custom runtime: a clean environment, its own
//! Runtime API, and nothing else.

use crate::runtime_api::{Outcome, RuntimeApi};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// One running function process.
pub struct FunctionProcess {
    /// Its Runtime API.
    pub api: RuntimeApi,
    /// Each invocation's time limit.
    timeout: Duration,
    child: Child,
    /// When it was spawned.
    pub spawned_at: Instant,
}

/// The result of a cold start.
#[derive(Debug, Clone, Copy)]
pub struct ColdStart {
    /// Spawn to the first `next` request.
    pub init: Duration,
    /// Spawn to the end of the first invocation.
    pub first_invocation: Duration,
    /// Peak resident set size after it, KiB.
    pub peak_rss_kib: u64,
}

impl FunctionProcess {
    /// Starts `program` (with `args`) under `env` and a fresh Runtime API, queueing `first` so
    /// that the runtime's first `next` is answered at once.
    pub async fn spawn(
        program: &str,
        args: &[&str],
        env: &BTreeMap<String, String>,
        name: &str,
    ) -> Self {
        Self::spawn_with_timeout(program, args, env, name, Duration::from_secs(30)).await
    }

    /// As [`Self::spawn`], with the function's time limit (Lambda's `Timeout`).
    pub async fn spawn_with_timeout(
        program: &str,
        args: &[&str],
        env: &BTreeMap<String, String>,
        name: &str,
        timeout: Duration,
    ) -> Self {
        let api = RuntimeApi::start(timeout).await;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(env)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            // As Lambda passes a function's Handler: the bundle runs the function it names.
            .env("_HANDLER", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        Self {
            api,
            timeout,
            child,
            spawned_at,
        }
    }

    /// One invocation; panics on a function error (the bench's inputs are all valid).
    pub async fn invoke(&self, payload: &serde_json::Value) -> (serde_json::Value, Instant) {
        // A process that died (say, at init) never answers: fail loudly instead of hanging.
        let limit = self.timeout + Duration::from_secs(5);
        let (outcome, at) = tokio::time::timeout(limit, self.api.invoke(payload))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no answer within {limit:?}; init error: {:?}",
                    self.api.init_error()
                )
            })
            .expect("the function answered");
        match outcome {
            Outcome::Response(body) => (
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                at,
            ),
            Outcome::Error(body) => panic!("invocation failed: {}", String::from_utf8_lossy(&body)),
        }
    }

    /// Peak resident set size so far (VmHWM), KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Spawns, runs `payload` once, and measures.
    pub async fn cold_start(
        program: &str,
        args: &[&str],
        env: &BTreeMap<String, String>,
        name: &str,
        payload: &serde_json::Value,
    ) -> (ColdStart, serde_json::Value) {
        let p = Self::spawn(program, args, env, name).await;
        let (result, done) = p.invoke(payload).await;
        let init = p.api.first_next().expect("the runtime asked for work") - p.spawned_at;
        if let Some(e) = p.api.init_error() {
            panic!("{name} failed at init: {e}");
        }
        let cold = ColdStart {
            init,
            first_invocation: done - p.spawned_at,
            peak_rss_kib: p.peak_rss_kib(),
        };
        p.stop().await;
        (cold, result)
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
