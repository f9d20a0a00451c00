//! Reconcile by comparison: WeChat's list, 500 authorizers a page, against one `Query` of
//! every stored authorizer, writing only what differs, in parallel, within the Lambda's
//! deadline, from the position the previous run stored. A lease keeps two runs from working
//! at once.

use super::{Refresher, ServiceError};
use crate::clock::Timestamp;
use crate::store::{Known, Lease, ReconcileProgress, RecoverOutcome, Recovery, StoredAuthorizer};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use wxopen_models::api::{AuthorizerListItem, GetAuthorizerListRequest};
use wxopen_models::AuthorizerAppid;

/// Timing and bounds of a reconcile run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// Authorizers per `api_get_authorizer_list` call (WeChat allows 500 at most).
    pub page_size: u32,
    /// Writes (and `api_get_authorizer_info` calls for added authorizers) at once.
    pub parallel_writes: usize,
    /// A new page is started only while more than this remains before the deadline.
    pub safety_margin: Duration,
    /// How long after the deadline the run's lease lapses if the run dies without releasing it.
    pub lease_grace: Duration,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            page_size: GetAuthorizerListRequest::MAX_COUNT,
            parallel_writes: 16,
            safety_margin: Duration::from_secs(10),
            lease_grace: Duration::from_secs(60),
        }
    }
}

/// How a reconcile run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileOutcome {
    /// The pass reached the end of WeChat's list; the next run starts a new pass.
    Complete,
    /// The deadline came first; the position is stored and the next run continues there.
    Paused,
    /// Another run holds the lease; this one did nothing.
    Skipped,
}

impl ReconcileOutcome {
    /// The outcome as written in events and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Paused => "paused",
            Self::Skipped => "skipped",
        }
    }
}

/// What a reconcile run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// How it ended.
    pub outcome: ReconcileOutcome,
    /// Authorizers WeChat listed in this run.
    pub listed: u64,
    /// Missing authorizers added in this run.
    pub added: u64,
    /// Refresh tokens restored or replaced in this run.
    pub restored: u64,
    /// Authorizers stored when the run started.
    pub stored: u64,
    /// The pass so far: its position (`offset` of `total_count`) and its totals.
    pub pass: ReconcileProgress,
}

/// The run's lease owner identity.
fn run_owner() -> String {
    format!("reconcile-{:016x}", rand::random::<u64>())
}

impl Refresher {
    /// One reconcile run, until the pass completes or the deadline nears.
    pub(super) async fn reconcile(
        &self,
        deadline: Timestamp,
    ) -> Result<ReconcileReport, ServiceError> {
        let owner = run_owner();
        let now = Timestamp::now();
        let lease = Lease {
            owner: owner.clone(),
            until: deadline.plus(self.settings.lease_grace),
        };
        let mut report = ReconcileReport {
            outcome: ReconcileOutcome::Skipped,
            listed: 0,
            added: 0,
            restored: 0,
            stored: 0,
            pass: ReconcileProgress::default(),
        };
        let Some(mut pass) = self.progress.take_reconcile(&lease, now).await? else {
            tracing::info!("another reconcile run holds the lease; skipping");
            return Ok(report);
        };
        if pass.offset == 0 {
            // A new pass: its totals start again.
            pass = ReconcileProgress {
                last_completed_at: pass.last_completed_at,
                ..ReconcileProgress::default()
            };
        }
        pass.runs += 1;
        let stored: HashMap<AuthorizerAppid, StoredAuthorizer> = self
            .progress
            .scan_authorizers()
            .await?
            .into_iter()
            .map(|a| (a.record.authorizer_appid.clone(), a))
            .collect();
        report.stored = stored.len() as u64;
        let stored = Arc::new(stored);
        loop {
            if Timestamp::now().plus(self.settings.safety_margin) >= deadline {
                report.outcome = ReconcileOutcome::Paused;
                break;
            }
            let listed = self
                .api
                .get_authorizer_list(pass.offset, self.settings.page_size)
                .await;
            let page = match listed {
                Ok(page) => page,
                Err(e) => return Err(self.give_up(&owner, &pass, e).await),
            };
            let (added, restored) = match self.apply_page(&page.list, &stored).await {
                Ok(done) => done,
                Err(e) => return Err(self.give_up(&owner, &pass, e).await),
            };
            report.listed += page.list.len() as u64;
            report.added += added;
            report.restored += restored;
            pass.compared += page.list.len() as u64;
            pass.added += added;
            pass.restored += restored;
            pass.total_count = page.total_count;
            pass.offset += page.list.len() as u32;
            if page.list.is_empty() || u64::from(pass.offset) >= page.total_count {
                report.outcome = ReconcileOutcome::Complete;
                break;
            }
            if !self.progress.save_reconcile(&owner, &pass, false).await? {
                tracing::warn!("the reconcile lease was taken over; stopping this run");
                report.outcome = ReconcileOutcome::Paused;
                report.pass = pass;
                return Ok(report);
            }
        }
        if report.outcome == ReconcileOutcome::Complete {
            report.pass = ReconcileProgress {
                last_completed_at: Some(Timestamp::now().secs()),
                ..pass.clone()
            };
            pass = ReconcileProgress {
                offset: 0,
                ..report.pass.clone()
            };
        } else {
            report.pass = pass.clone();
        }
        self.progress.save_reconcile(&owner, &pass, true).await?;
        tracing::info!(outcome = ?report.outcome, listed = report.listed, added = report.added, restored = report.restored, offset = report.pass.offset, total = report.pass.total_count, "reconcile run finished");
        Ok(report)
    }

    /// A failed run keeps the position of the last page it finished and frees the lease, so
    /// that the next run (or a retry) continues at once.
    async fn give_up(
        &self,
        owner: &str,
        pass: &ReconcileProgress,
        e: ServiceError,
    ) -> ServiceError {
        tracing::warn!(error = %e, offset = pass.offset, "reconcile run failed; its position is kept");
        if let Err(save) = self.progress.save_reconcile(owner, pass, true).await {
            tracing::warn!(error = %save, "could not store the reconcile position; the lease will lapse");
        }
        e
    }

    /// Compares one page with what is stored and writes what differs, a bounded number at
    /// once. Returns (added, restored).
    async fn apply_page(
        &self,
        page: &[AuthorizerListItem],
        stored: &Arc<HashMap<AuthorizerAppid, StoredAuthorizer>>,
    ) -> Result<(u64, u64), ServiceError> {
        let differing = page.iter().filter(|item| {
            let known = stored.get(&item.authorizer_appid);
            crate::store::rules::recovery(known, item) != RecoverOutcome::Unchanged
        });
        let limit = Arc::new(tokio::sync::Semaphore::new(
            self.settings.parallel_writes.max(1),
        ));
        let mut tasks = JoinSet::new();
        for item in differing.cloned() {
            let (this, stored, limit) = (self.clone(), stored.clone(), limit.clone());
            tasks.spawn(async move {
                let _slot = limit
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                this.recover(&item, stored.get(&item.authorizer_appid))
                    .await
            });
        }
        let (mut added, mut restored) = (0, 0);
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined.expect("a reconcile write panicked") {
                Ok(RecoverOutcome::Added) => added += 1,
                Ok(RecoverOutcome::Restored) => restored += 1,
                Ok(RecoverOutcome::Unchanged) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        // The page's position is stored only after every write of it succeeded; a failed page
        // is compared again by the next run (the writes are conditional, so that is safe).
        match first_error {
            Some(e) => Err(e),
            None => Ok((added, restored)),
        }
    }

    /// Writes one listed authorizer; an added one gets its permission ids from
    /// `api_get_authorizer_info` (none when WeChat cannot say: the refresh token matters more).
    async fn recover(
        &self,
        item: &AuthorizerListItem,
        known: Option<&StoredAuthorizer>,
    ) -> Result<RecoverOutcome, ServiceError> {
        let permission_ids = match known {
            Some(_) => Vec::new(),
            None => match self.api.get_authorizer_info(&item.authorizer_appid).await {
                Ok(info) => info.authorization_info.permission_ids(),
                Err(e) => {
                    tracing::warn!(authorizer = %item.authorizer_appid, error = %e, "added without permission ids: api_get_authorizer_info failed");
                    Vec::new()
                }
            },
        };
        let recovery = Recovery {
            listed: item,
            known: known.map_or(Known::Missing, Known::Stored),
            permission_ids: &permission_ids,
        };
        Ok(self
            .store
            .recover_refresh_token(&recovery, Timestamp::now())
            .await?)
    }
}
