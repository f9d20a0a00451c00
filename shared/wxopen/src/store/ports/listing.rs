//! Listing stored authorizers, a page at a time.

use super::StoreError;
use async_trait::async_trait;
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::AuthorizerAppid;

/// One page of authorizers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerPage {
    /// The records, ordered by AppID.
    pub items: Vec<AuthorizerRecord>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<AuthorizerAppid>,
}

/// Listing stored authorizers.
#[async_trait]
pub trait AuthorizerListing: Send + Sync {
    /// A page of at most `limit` authorizers after `cursor` (a previous page's
    /// `next_cursor`). `None` when `cursor` names no stored authorizer: it was not issued here.
    async fn list_authorizers(
        &self,
        cursor: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<Option<AuthorizerPage>, StoreError>;
}
