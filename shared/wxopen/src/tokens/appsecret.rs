//! What the platform asks WeChat with its AppSecret rather than a token: the ticket (checked
//! before each component token, and a push asked for while none is stored) and the reset of
//! a daily quota.

use super::TokenManager;
use crate::clock::Timestamp;
use crate::error::ServiceError;
use crate::store::StoredTicket;
use crate::telemetry;
use std::time::Duration;
use wxopen_models::api::{ClearQuotaRequest, StartPushTicketRequest};
use wxopen_models::AuthorizerAppid;

/// How often, across all instances, WeChat is asked to push a ticket while none is stored.
pub const TICKET_REQUEST_INTERVAL: Duration = Duration::from_secs(600);

impl TokenManager {
    /// The stored ticket, its age recorded; with none stored, WeChat is asked to push one and
    /// the wait so far is recorded as its age, with a `TicketMissing` count.
    pub async fn check_ticket(&self) -> Result<Option<StoredTicket>, ServiceError> {
        let ticket = self.tickets.load_ticket().await?;
        let now = self.now();
        match &ticket {
            Some(ticket) => telemetry::ticket_age(now.since(ticket.create_time)),
            None => {
                telemetry::ticket_missing();
                let waiting_since = self.request_ticket_push().await.unwrap_or(now);
                telemetry::ticket_age(now.since(waiting_since));
            }
        }
        Ok(ticket)
    }

    /// No ticket is stored: asks WeChat to push one now (`api_start_push_ticket`) instead of
    /// within 10 minutes, at most once per [`TICKET_REQUEST_INTERVAL`] across instances. The
    /// caller still gets `ticket_missing`; the push arrives at the event URL. Returns when the
    /// platform started waiting for a ticket, when the store could say.
    async fn request_ticket_push(&self) -> Option<Timestamp> {
        let request = match self
            .tickets
            .claim_ticket_request(self.now(), TICKET_REQUEST_INTERVAL)
            .await
        {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim the ticket request; not asking WeChat for a ticket");
                return None;
            }
        };
        if request.claimed {
            let push = StartPushTicketRequest {
                component_appid: self.component.clone(),
                component_secret: self.appsecret.clone(),
            };
            match self.wechat.start_push_ticket(&push).await {
                Ok(()) => tracing::info!(
                    waiting_since = request.waiting_since.secs(),
                    "no ticket stored: asked WeChat to push one now"
                ),
                Err(e) => {
                    tracing::warn!(errcode = e.errcode(), error = %e, "no ticket stored, and WeChat refused to push one now")
                }
            }
        }
        Some(request.waiting_since)
    }

    /// `clear_quota/v2` with the platform's AppSecret: resets the daily API quotas of `appid`,
    /// or of the platform itself. Never replayed: each reset spends one of the month's ten.
    pub async fn clear_quota(&self, appid: Option<&AuthorizerAppid>) -> Result<(), ServiceError> {
        let request = ClearQuotaRequest {
            component_appid: self.component.clone(),
            appsecret: self.appsecret.clone(),
            appid: appid.cloned(),
        };
        self.wechat.clear_quota(&request).await?;
        Ok(())
    }
}
