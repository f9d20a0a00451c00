//! `callback` on Lambda: the redirect URI: verifies state, exchanges the code, stores the authorizer.

use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    wxopen_lambda::wiring::init_tracing();
    let platform = wxopen_lambda::wiring::platform_from_env().await?;
    run(service_fn(move |req| {
        let platform = platform.clone();
        async move { callback::handler::handle(&platform, req).await }
    }))
    .await
}
