//! `authorize` on Lambda: creates a pre-auth code and redirects to WeChat's authorization page.

use lambda_http::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    wxopen_lambda::wiring::init_tracing();
    let platform = wxopen_lambda::wiring::platform_from_env_requiring(|c| {
        c.require_callback_url().map(|_| ())
    })
    .await?;
    run(service_fn(move |req| {
        let platform = platform.clone();
        async move { authorize::handler::handle(&platform, req).await }
    }))
    .await
}
