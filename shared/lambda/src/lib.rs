//! The Lambda edge every function shares: building each function's service
//! once per container, reading requests (API Gateway HTTP API events or direct invocations),
//! and rendering results and errors per the error contract.

pub mod error;
pub mod logs;
pub mod pages;
pub mod request;
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testing;
pub mod wiring;

pub use error::ApiError;

pub use lambda_http;

/// A function's `run` for HTTP events and direct invocations, in its library (so its own binary
/// and the bundle serve the same code): tracing and metrics, the service built once per container
/// by `$build` (a future of `Result<Arc<Service>, _>`), and `$handle(&service, request)` per
/// invocation, its metrics flushed after it. Metrics carry the function crate's name.
#[macro_export]
macro_rules! http_function {
    ($build:expr, $handle:path) => {
        /// Serves this function on the Lambda runtime until the runtime ends.
        pub async fn run() -> Result<(), $crate::lambda_http::Error> {
            $crate::logs::init(env!("CARGO_PKG_NAME"));
            $crate::telemetry::init(env!("CARGO_PKG_NAME"));
            let built = $build.await;
            $crate::wiring::exit_if_checking_config(&built);
            let service = built?;
            $crate::lambda_http::run($crate::lambda_http::service_fn(move |req| {
                let service = service.clone();
                $crate::telemetry::flushed(async move { $handle(&service, req).await })
            }))
            .await
        }
    };
}

/// The whole `main` of a function's own binary: its library's `run` on a single-threaded runtime
/// (one invocation at a time per container, as Lambda sends them).
#[macro_export]
macro_rules! lambda_main {
    ($run:path) => {
        #[tokio::main(flavor = "current_thread")]
        async fn main() -> Result<(), $crate::lambda_http::Error> {
            $run().await
        }
    };
}
