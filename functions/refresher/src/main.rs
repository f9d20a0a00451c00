//! `refresher` on Lambda: a scheduled event keeps the component token fresh and reconciles
//! authorizers with WeChat's list.

use lambda_http::lambda_runtime::{run, service_fn, Error, LambdaEvent};
use wxopen::clock::Timestamp;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    wxopen_lambda::wiring::init_tracing();
    wxopen_lambda::telemetry::init(env!("CARGO_PKG_NAME"));
    let built = wxopen_lambda::wiring::refresher().await;
    wxopen_lambda::wiring::exit_if_checking_config(&built);
    let refresher = built?;
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let refresher = refresher.clone();
        let deadline = Timestamp::from_millis(event.context.deadline as i64);
        wxopen_lambda::telemetry::flushed(async move {
            refresher::handler::handle(&refresher, event.payload, deadline).await
        })
    }))
    .await
}
