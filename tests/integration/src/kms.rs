//! KMS on loopback: moto_server (`scripts/moto-server.py`, which refuses a disabled key as KMS
//! does) holds the keys that wrap the data keys sealing tokens.

use std::sync::Arc;
use wxopen::seal::kms::KmsVault;
use wxopen::seal::KeyVault;

/// A client for moto's KMS.
pub async fn client() -> aws_sdk_kms::Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_KMS").is_ok(),
        "AWS_ENDPOINT_URL_KMS is not set: run the tests with `make test` (scripts/with-local-aws.sh)"
    );
    aws_sdk_kms::Client::new(&crate::dynamo::sdk_config().await)
}

/// A new symmetric key; its ARN.
pub async fn create_key() -> String {
    let out = client()
        .await
        .create_key()
        .description("wxopen test: seals tokens at rest")
        .send()
        .await
        .expect("moto creates a KMS key");
    out.key_metadata()
        .expect("key metadata")
        .arn()
        .expect("an ARN")
        .to_owned()
}

/// The vault on `key`, as a function builds it.
pub async fn vault_on(key: &str) -> Arc<dyn KeyVault> {
    Arc::new(KmsVault::new(client().await, key))
}

/// The vault on a new key.
pub async fn vault() -> Arc<dyn KeyVault> {
    vault_on(&create_key().await).await
}

/// Disables (`false`) or enables `key`.
pub async fn set_enabled(key: &str, enabled: bool) {
    let c = client().await;
    // moto's DisableKey and EnableKey take the key's id only, not its ARN.
    let key = key.rsplit('/').next().unwrap_or(key);
    if enabled {
        c.enable_key()
            .key_id(key)
            .send()
            .await
            .expect("enable the key");
    } else {
        c.disable_key()
            .key_id(key)
            .send()
            .await
            .expect("disable the key");
    }
}

static SHARED: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// One key for the whole test binary, for tests whose instances share a table.
pub async fn shared_key() -> &'static str {
    SHARED.get_or_init(create_key).await
}

/// The vault on [`shared_key`], as every instance of one test builds it.
pub async fn shared_vault() -> Arc<dyn KeyVault> {
    vault_on(shared_key().await).await
}
