//! `notifier` on Lambda: the table's stream, filtered to history items, becomes EventBridge
//! events; failed records are reported for Lambda to deliver again.

use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    wxopen_lambda::wiring::init_tracing();
    wxopen_lambda::telemetry::init(env!("CARGO_PKG_NAME"));
    let built = wxopen_lambda::wiring::notifier().await;
    wxopen_lambda::wiring::exit_if_checking_config(&built);
    let notifier = built?;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let notifier = notifier.clone();
        wxopen_lambda::telemetry::flushed(async move {
            notifier::handler::handle(&notifier, event.payload).await
        })
    }))
    .await
}
