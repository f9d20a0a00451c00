//! The AWS SDK configuration, loaded once per container.

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// Loads the SDK configuration from the environment (region, credentials, and endpoint
/// overrides such as `AWS_ENDPOINT_URL_DYNAMODB`), with an HTTPS client on rustls and ring.
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .load()
        .await
}
