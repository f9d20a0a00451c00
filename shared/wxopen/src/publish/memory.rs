//! [`EventPublisher`] in memory, for service tests: keeps what it publishes and can be told
//! to refuse.

use super::{EventPublisher, Outgoing, PublishError};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};

/// Events kept in memory; clones share them.
#[derive(Debug, Clone, Default)]
pub struct MemoryPublisher {
    published: Arc<Mutex<Vec<Outgoing>>>,
    /// Refuse the events whose detail contains this text.
    refuse: Arc<Mutex<Option<String>>>,
}

impl MemoryPublisher {
    /// Everything published so far, in order.
    pub fn published(&self) -> Vec<Outgoing> {
        self.published.lock().expect("publisher lock").clone()
    }

    /// From now on, refuse every event whose detail contains `text` (`None`: refuse none).
    pub fn refuse_matching(&self, text: Option<&str>) {
        *self.refuse.lock().expect("publisher lock") = text.map(str::to_owned);
    }
}

#[async_trait]
impl EventPublisher for MemoryPublisher {
    async fn publish(&self, events: &[Outgoing]) -> Vec<Result<(), PublishError>> {
        let refuse = self.refuse.lock().expect("publisher lock").clone();
        let mut published = self.published.lock().expect("publisher lock");
        events
            .iter()
            .map(|e| match &refuse {
                Some(text) if e.detail.contains(text.as_str()) => Err(PublishError::Refused {
                    code: "InternalFailure".into(),
                    message: "refused by the test".into(),
                }),
                _ => {
                    published.push(e.clone());
                    Ok(())
                }
            })
            .collect()
    }
}
