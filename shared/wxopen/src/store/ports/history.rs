//! The history of each authorizer, the outbox of the events other services receive.

use super::StoreError;
use async_trait::async_trait;
use wxopen_models::records::HistoryEntry;
use wxopen_models::{AuthorizerAppid, ComponentAppid};

/// A stored history item, as the table's stream delivers it to the notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryChange {
    /// The item's key (`pk/sk`): unique and the same on every delivery.
    pub key: String,
    /// The platform the item belongs to (one table may serve several).
    pub component_appid: ComponentAppid,
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// What changed.
    pub entry: HistoryEntry,
}

/// Reading an authorizer's history.
#[async_trait]
pub trait HistoryReader: Send + Sync {
    /// The authorizer's history, oldest first.
    async fn history(&self, appid: &AuthorizerAppid) -> Result<Vec<HistoryEntry>, StoreError>;
}
