//! The [`KeyVault`] on AWS KMS: `GenerateDataKey` (AES_256) and `Decrypt`, each with the
//! component as encryption context, so a wrapped key copied to another component's partition
//! does not unwrap there.

use super::{GeneratedKey, KeyUnavailable, KeyVault};
use async_trait::async_trait;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

/// The encryption context's key.
const CONTEXT_KEY: &str = "wxopen_component";

/// KMS, with the key `TOKEN_KMS_KEY_ID` names.
#[derive(Debug, Clone)]
pub struct KmsVault {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsVault {
    /// A vault on `key_id` with a client of `sdk`.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, key_id: impl Into<String>) -> Self {
        Self::new(aws_sdk_kms::Client::new(sdk), key_id)
    }

    /// A vault on `key_id` (an id, ARN or alias).
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

fn unavailable<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    what: &'static str,
) -> impl FnOnce(aws_sdk_kms::error::SdkError<E>) -> KeyUnavailable {
    move |e| {
        let reason = match (e.code(), e.message()) {
            (Some(code), Some(message)) => format!("{what}: {code}: {message}"),
            (Some(code), None) => format!("{what}: {code}"),
            _ => format!("{what}: {}", aws_sdk_kms::error::DisplayErrorContext(&e)),
        };
        tracing::warn!(%reason, "KMS request failed");
        KeyUnavailable { reason }
    }
}

#[async_trait]
impl KeyVault for KmsVault {
    async fn generate(&self, context: &str) -> Result<GeneratedKey, KeyUnavailable> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT_KEY, context)
            .send()
            .await
            .map_err(unavailable("GenerateDataKey"))?;
        match (out.plaintext, out.ciphertext_blob) {
            (Some(plaintext), Some(wrapped)) => Ok(GeneratedKey {
                plaintext: plaintext.into_inner(),
                wrapped: wrapped.into_inner(),
            }),
            _ => Err(KeyUnavailable {
                reason: "GenerateDataKey answered without a key".into(),
            }),
        }
    }

    async fn unwrap(&self, wrapped: &[u8], context: &str) -> Result<Vec<u8>, KeyUnavailable> {
        // No KeyId: KMS reads it from the wrapped key, so keys wrapped by an earlier
        // TOKEN_KMS_KEY_ID still open while the grant on it remains (README, rotation).
        let out = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(wrapped))
            .encryption_context(CONTEXT_KEY, context)
            .send()
            .await
            .map_err(unavailable("Decrypt"))?;
        out.plaintext
            .map(Blob::into_inner)
            .ok_or_else(|| KeyUnavailable {
                reason: "Decrypt answered without a plaintext".into(),
            })
    }
}
