//! The component verify ticket: what is stored, and the claim on asking WeChat to push one.

use super::StoreError;
use crate::clock::Timestamp;
use async_trait::async_trait;
use std::time::Duration;
use wxopen_models::VerifyTicket;

/// The stored `component_verify_ticket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    /// The ticket.
    pub ticket: VerifyTicket,
    /// The push's `CreateTime`.
    pub create_time: Timestamp,
}

/// Result of saving a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketSave {
    /// The ticket is now the stored one.
    Saved,
    /// A ticket at least as new is stored; this one was ignored.
    Stale {
        /// `CreateTime` of the stored ticket.
        stored_create_time: Timestamp,
    },
}

/// The platform's request for a ticket push, as claimed by one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRequest {
    /// Whether this caller may ask WeChat now (nobody asked within the interval).
    pub claimed: bool,
    /// When the platform started asking in the current wait: claims less than
    /// [`TICKET_WAIT_GAP`] intervals apart belong to one wait.
    pub waiting_since: Timestamp,
}

/// Claims further apart than this many intervals start a new wait (a ticket arrived between
/// them, so nobody needed to ask).
pub const TICKET_WAIT_GAP: u32 = 3;

/// The latest `component_verify_ticket`.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Saves a ticket unless a ticket at least as new (by `CreateTime`) is stored.
    async fn save_ticket(
        &self,
        ticket: &VerifyTicket,
        create_time: Timestamp,
    ) -> Result<TicketSave, StoreError>;

    /// The latest ticket.
    async fn load_ticket(&self) -> Result<Option<StoredTicket>, StoreError>;

    /// Claims the right to ask WeChat for a ticket push (`api_start_push_ticket`) now:
    /// `claimed` for the one caller across all instances that may ask, when nobody asked in the
    /// last `every`; with when the current wait for a ticket began, for every caller.
    async fn claim_ticket_request(
        &self,
        now: Timestamp,
        every: Duration,
    ) -> Result<TicketRequest, StoreError>;
}
