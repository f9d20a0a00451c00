//! First uses, kept until their expiry as the DynamoDB adapter keeps them.

use super::MemoryStore;
use crate::store::{OnceKind, OnceStore, StoreError, Use};
use async_trait::async_trait;

#[async_trait]
impl OnceStore for MemoryStore {
    async fn first_use(&self, use_: &Use<'_>) -> Result<bool, StoreError> {
        let key = (use_.kind, use_.key.to_owned());
        Ok(self.with(|c| match c.once.get(&key) {
            Some(until) if *until >= use_.now => false,
            _ => {
                c.once.insert(key, use_.until);
                true
            }
        }))
    }

    async fn forget_use(&self, kind: OnceKind, key: &str) -> Result<(), StoreError> {
        self.with(|c| c.once.remove(&(kind, key.to_owned())));
        Ok(())
    }
}
