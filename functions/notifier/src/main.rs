//! `notifier` on Lambda: the table's stream, filtered to history items, becomes EventBridge
//! events; failed records are reported for Lambda to deliver again.

use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    wxopen_lambda::wiring::init_tracing();
    let notifier = wxopen_lambda::wiring::notifier().await?;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let notifier = notifier.clone();
        async move { notifier::handler::handle(&notifier, event.payload).await }
    }))
    .await
}
