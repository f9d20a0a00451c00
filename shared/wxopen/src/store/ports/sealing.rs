//! Tokens at rest: the jobs over what is stored, run by the refresher on request. The DynamoDB
//! adapter seals every token it writes ([`crate::seal`]); these move what an earlier version or
//! an earlier data key wrote onto the newest key.

use super::StoreError;
use async_trait::async_trait;

/// The sealing jobs.
#[async_trait]
pub trait SealStore: Send + Sync {
    /// Seals under the newest data key every token stored in plaintext (written before tokens
    /// were sealed) or under an older data key, each with a write conditional on the value it
    /// read, so a token rewritten meanwhile keeps its writer's seal; the number rewritten. A
    /// store that keeps nothing at rest has nothing to seal.
    async fn seal_stored_tokens(&self) -> Result<u64, StoreError>;

    /// A new data key, wrapped by the KMS key configured now, which seals every later write
    /// (other containers take it within [`crate::store::DATA_KEY_RECHECK`]); its id. Older
    /// keys stay and still open what they sealed. `None` for a store with nothing at rest.
    async fn rotate_data_key(&self) -> Result<Option<String>, StoreError>;
}
