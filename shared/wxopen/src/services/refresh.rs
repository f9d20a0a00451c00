//! The scheduled job: keep the component token fresh, then reconcile stored authorizers with
//! `api_get_authorizer_list`.

use super::ServiceError;
use crate::clock::Timestamp;
use crate::store::{AuthorizerStore, RecoverOutcome};
use crate::tokens::ComponentApi;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::api::GetAuthorizerListRequest;

/// The refresher renews the component token when less than this remains.
pub const REFRESHER_MARGIN: Duration = Duration::from_secs(20 * 60);

/// What the scheduled refresher did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    /// Whether the component token was renewed.
    pub component_token_refreshed: bool,
    /// Its expiry, epoch seconds.
    pub component_token_expires_at: i64,
    /// Authorizers WeChat listed.
    pub authorizers_listed: u64,
    /// Missing authorizers added.
    pub authorizers_added: u64,
    /// Authorizers whose refresh token was restored.
    pub refresh_tokens_restored: u64,
}

/// The `refresher` use case.
#[derive(Clone)]
pub struct Refresher {
    api: ComponentApi,
    store: Arc<dyn AuthorizerStore>,
}

impl Refresher {
    /// The use case over the component API and the authorizer store.
    pub fn new(api: ComponentApi, store: Arc<dyn AuthorizerStore>) -> Self {
        Self { api, store }
    }

    /// Renews the component token when under [`REFRESHER_MARGIN`] remains, then reconciles
    /// stored authorizers with `api_get_authorizer_list`.
    pub async fn run(&self) -> Result<RefreshReport, ServiceError> {
        let tokens = self.api.tokens();
        let before = tokens.stored_component_token().await?;
        let token = tokens.component_token_within(REFRESHER_MARGIN).await?;
        let mut report = RefreshReport {
            component_token_refreshed: before.map(|b| b.token) != Some(token.token.clone()),
            component_token_expires_at: token.expires_at.secs(),
            authorizers_listed: 0,
            authorizers_added: 0,
            refresh_tokens_restored: 0,
        };
        let mut offset = 0u32;
        loop {
            let page = self
                .api
                .get_authorizer_list(offset, GetAuthorizerListRequest::MAX_COUNT)
                .await?;
            for item in &page.list {
                let outcome = self
                    .store
                    .recover_refresh_token(item, Timestamp::now())
                    .await?;
                match outcome {
                    RecoverOutcome::Added => report.authorizers_added += 1,
                    RecoverOutcome::Restored => report.refresh_tokens_restored += 1,
                    RecoverOutcome::Unchanged => {}
                }
            }
            report.authorizers_listed += page.list.len() as u64;
            offset += page.list.len() as u32;
            if page.list.is_empty() || u64::from(offset) >= page.total_count {
                break;
            }
        }
        tracing::info!(?report, "refresher finished");
        Ok(report)
    }
}
