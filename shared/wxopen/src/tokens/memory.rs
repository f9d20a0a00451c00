//! The per-container memory of tokens, and one flight per key: what spares DynamoDB and
//! WeChat the requests of a warm container.

use super::TokenManager;
use crate::store::{CachedToken, TokenKey};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A token as this container last read it.
pub(super) struct MemoryEntry {
    pub(super) token: CachedToken,
    pub(super) read_at: Instant,
}

impl TokenManager {
    pub(super) fn remembered(&self, key: &TokenKey, margin: Duration) -> Option<CachedToken> {
        let memory = self.memory.lock().expect("memory cache lock");
        memory
            .get(key)
            .filter(|e| {
                e.read_at.elapsed() < self.settings.memory_ttl
                    && e.token.is_fresh(self.now(), margin)
            })
            .map(|e| e.token.clone())
    }

    /// This container last saw the token and it has gone stale since: a refresh is due, and the
    /// lease (which returns the item) can be taken without reading first.
    pub(super) fn known_stale(&self, key: &TokenKey, margin: Duration) -> bool {
        let memory = self.memory.lock().expect("memory cache lock");
        memory
            .get(key)
            .is_some_and(|e| !e.token.is_fresh(self.now(), margin))
    }

    pub(super) fn remember(&self, key: &TokenKey, token: &CachedToken) {
        self.memory.lock().expect("memory cache lock").insert(
            key.clone(),
            MemoryEntry {
                token: token.clone(),
                read_at: Instant::now(),
            },
        );
    }

    pub(super) fn flight(&self, key: &TokenKey) -> Arc<tokio::sync::Mutex<()>> {
        self.flights
            .lock()
            .expect("flight lock")
            .entry(key.clone())
            .or_default()
            .clone()
    }
}
