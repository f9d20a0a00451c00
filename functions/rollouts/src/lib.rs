//! The `rollouts` function: `run` serves it on Lambda, from its own binary and from the bundle;
//! its handler is callable from tests without the Lambda runtime.

pub mod handler;

use lambda_http::lambda_runtime::{self, service_fn, Error, LambdaEvent};

/// Serves this function on the Lambda runtime until the runtime ends.
pub async fn run() -> Result<(), Error> {
    wxopen_lambda::logs::init(env!("CARGO_PKG_NAME"));
    wxopen_lambda::telemetry::init(env!("CARGO_PKG_NAME"));
    let built = wxopen_lambda::wiring::rollouts().await;
    wxopen_lambda::wiring::exit_if_checking_config(&built);
    let rollouts = built?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let rollouts = rollouts.clone();
        wxopen_lambda::telemetry::flushed(
            async move { handler::handle(&rollouts, event.payload).await },
        )
    }))
    .await
}
