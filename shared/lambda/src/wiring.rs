//! Cold start: tracing, configuration and clients, built once per container.

use std::sync::Arc;
use std::time::Duration;
use wxopen::config::Config;
use wxopen::platform::Platform;
use wxopen::store::DynamoStore;
use wxopen::tokens::TokenSettings;
use wxopen::wechat::{HttpWeChat, RetryPolicy};

/// Logs to stdout as Lambda expects; `AWS_LAMBDA_LOG_FORMAT=JSON` gives JSON lines and
/// `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`) the level, INFO by default.
pub fn init_tracing() {
    lambda_http::tracing::init_default_subscriber();
}

/// Reads the configuration and builds the platform. A missing or malformed variable is logged
/// and returned; the function then stops at cold start with that message.
pub async fn platform_from_env() -> Result<Arc<Platform>, wxopen::config::ConfigError> {
    platform_from_env_requiring(|_| Ok(())).await
}

/// As [`platform_from_env`], with a function-specific check of the configuration (for
/// example, `authorize` requires `AUTH_CALLBACK_URL`).
pub async fn platform_from_env_requiring(
    check: impl FnOnce(&Config) -> Result<(), wxopen::config::ConfigError>,
) -> Result<Arc<Platform>, wxopen::config::ConfigError> {
    let sdk = wxopen::aws::load_sdk_config().await;
    let config = match Config::load(&sdk).await.and_then(|c| check(&c).map(|()| c)) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(error = %e, "configuration error");
            return Err(e);
        }
    };
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.table_name.clone(),
    );
    let wechat = HttpWeChat::new(
        &config.api_base,
        Duration::from_secs(5),
        RetryPolicy::default(),
    );
    Ok(Arc::new(Platform::new(
        &config,
        Arc::new(store),
        Arc::new(wechat),
        TokenSettings::default(),
    )))
}
