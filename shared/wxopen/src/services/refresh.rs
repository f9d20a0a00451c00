//! The scheduled jobs: keep the component token fresh (every 10 minutes, cheap), and reconcile
//! stored authorizers with `api_get_authorizer_list` (hourly by default; see `reconcile.rs`).

use super::reconcile::{ReconcileReport, ReconcileSettings};
use super::ServiceError;
use crate::clock::Timestamp;
use crate::store::{AuthorizerStore, ReconcileStore, SealStore};
use crate::telemetry;
use crate::tokens::{ComponentApi, TokenManager};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The refresher renews the component token when less than this remains.
pub const REFRESHER_MARGIN: Duration = Duration::from_secs(20 * 60);

/// Which scheduled job to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Renew the component token when under [`REFRESHER_MARGIN`] remains.
    ComponentToken,
    /// Compare WeChat's list of authorizers with the stored ones and fix what differs.
    Reconcile,
    /// Seal under the newest data key every token stored in plaintext or under an older key
    /// (the one-off migration to sealed tokens, and the end of a rotation).
    SealTokens,
    /// Make a new data key, then seal every stored token under it.
    RotateDataKey,
}

/// What the scheduled refresher did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    /// Whether the component token was renewed.
    pub component_token_refreshed: bool,
    /// Its expiry, epoch seconds.
    #[serde(serialize_with = "crate::clock::epoch_secs")]
    pub component_token_expires_at: Timestamp,
    /// Authorizers WeChat listed in this run.
    pub authorizers_listed: u64,
    /// Missing authorizers added in this run.
    pub authorizers_added: u64,
    /// Authorizers whose refresh token was restored or replaced in this run.
    pub refresh_tokens_restored: u64,
    /// The reconcile, for that job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<ReconcileReport>,
    /// Tokens sealed anew, for the `seal_tokens` and `rotate_data_key` jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_sealed: Option<u64>,
    /// The new data key's id, for the `rotate_data_key` job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
}

/// The `refresher` use case.
#[derive(Clone)]
pub struct Refresher {
    pub(super) api: ComponentApi,
    pub(super) tokens: Arc<TokenManager>,
    pub(super) store: Arc<dyn AuthorizerStore>,
    pub(super) progress: Arc<dyn ReconcileStore>,
    pub(super) sealing: Arc<dyn SealStore>,
    pub(super) settings: ReconcileSettings,
}

impl Refresher {
    /// The use case over the component API, the token manager and a store holding authorizers,
    /// the reconcile's progress and sealed tokens.
    pub fn new<S: AuthorizerStore + ReconcileStore + SealStore + 'static>(
        api: ComponentApi,
        tokens: Arc<TokenManager>,
        store: Arc<S>,
        settings: ReconcileSettings,
    ) -> Self {
        Self {
            api,
            tokens,
            store: store.clone(),
            progress: store.clone(),
            sealing: store,
            settings,
        }
    }

    /// Runs `job`, stopping cleanly before `deadline` (the Lambda's).
    pub async fn run(&self, job: Job, deadline: Timestamp) -> Result<RefreshReport, ServiceError> {
        let tokens = &self.tokens;
        let before = tokens.stored_component_token().await?;
        // Every run reports the ticket's age: a renewal reads (and reports) it anyway.
        if before
            .as_ref()
            .is_some_and(|t| t.is_fresh(Timestamp::now(), REFRESHER_MARGIN))
        {
            tokens.check_ticket().await?;
        }
        let token = tokens.component_token_within(REFRESHER_MARGIN).await?;
        let mut report = RefreshReport {
            component_token_refreshed: before.map(|b| b.token) != Some(token.token.clone()),
            component_token_expires_at: token.expires_at,
            authorizers_listed: 0,
            authorizers_added: 0,
            refresh_tokens_restored: 0,
            reconcile: None,
            tokens_sealed: None,
            data_key: None,
        };
        if job == Job::RotateDataKey {
            report.data_key = self.sealing.rotate_data_key().await?;
        }
        if matches!(job, Job::SealTokens | Job::RotateDataKey) {
            report.tokens_sealed = Some(self.sealing.seal_stored_tokens().await?);
        }
        if job == Job::Reconcile {
            let reconciled = match self.reconcile(deadline).await {
                Ok(reconciled) => reconciled,
                Err(e) => {
                    telemetry::reconcile_run("failed", 0, 0, 0);
                    return Err(e);
                }
            };
            telemetry::reconcile_run(
                reconciled.outcome.label(),
                reconciled.listed,
                reconciled.added,
                reconciled.restored,
            );
            report.authorizers_listed = reconciled.listed;
            report.authorizers_added = reconciled.added;
            report.refresh_tokens_restored = reconciled.restored;
            report.reconcile = Some(reconciled);
        }
        tracing::info!(?report, "refresher finished");
        Ok(report)
    }
}
