//! Metrics on Lambda: the core's metrics (`wxopen::telemetry`) in CloudWatch's embedded metric
//! format, written to stdout after each invocation, where Lambda's log agent hands them to
//! CloudWatch Logs and CloudWatch turns them into metrics. No API call, no extra latency beyond
//! the write. Namespace `METRICS_NAMESPACE` (default `WxOpen`), dimension `Function`.
//!
//! The emitter's own `lambda` feature would flush for us, but it compiles `lambda_http` with
//! every default event type into each binary; [`flush`] after each invocation does the same.

use metrics_cloudwatch_embedded::{Builder, Collector};
use std::io::Write;
use std::sync::OnceLock;

/// The namespace when `METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "WxOpen";

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Installs the recorder for `function` (the binary's name), once per container. A second call,
/// or a recorder already installed, leaves things as they are.
pub fn init(function: &'static str) {
    if COLLECTOR.get().is_some() {
        return;
    }
    let namespace = std::env::var("METRICS_NAMESPACE")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    match Builder::new()
        .cloudwatch_namespace(namespace)
        .with_dimension("Function", function)
        .init()
    {
        Ok(collector) => {
            let _ = COLLECTOR.set(collector);
            wxopen::telemetry::describe();
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics are off: the recorder could not be installed")
        }
    }
}

/// Writes what was recorded since the last flush, one JSON line per label set, to stdout.
pub fn flush() {
    let Some(collector) = COLLECTOR.get() else {
        return;
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = collector.flush(&mut out).and_then(|()| out.flush()) {
        tracing::warn!(error = %e, "could not write the metrics");
    }
}

/// Runs one invocation and flushes its metrics, whatever it returned.
pub async fn flushed<T>(invocation: impl std::future::Future<Output = T>) -> T {
    let result = invocation.await;
    flush();
    result
}
