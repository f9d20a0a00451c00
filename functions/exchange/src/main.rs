//! `exchange` on Lambda: exchanges an authorization code on direct invocation.

use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    wxopen_lambda::wiring::init_tracing();
    let platform = wxopen_lambda::wiring::platform_from_env().await?;
    run(service_fn(move |req| {
        let platform = platform.clone();
        async move { exchange::handler::handle(&platform, req).await }
    }))
    .await
}
