//! The store in memory, for fast service tests. It applies the same [`rules`](super::rules)
//! as the DynamoDB adapter and passes the same [`behaviour`](super::behaviour) suite; each
//! call is atomic, as DynamoDB's conditional writes are per item.

mod authorizers;
mod once;
mod reconcile;
mod registrations;
mod rollouts;
mod tokens;

use super::rules::{
    self, lease_is_free, needs_reauth, plan_authorization, plan_revocation, recovered,
};
use super::*;
use crate::clock::Timestamp;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus, HistoryEntry, HistoryKind};
use wxopen_models::{AccessToken, AuthorizerAppid, ComponentAppid, PermissionId, VerifyTicket};

#[derive(Debug, Default)]
struct Component {
    ticket: Option<StoredTicket>,
    /// The last ticket request and when its wait began.
    ticket_request: Option<(Timestamp, Timestamp)>,
    token: TokenSlot,
    authorizers: BTreeMap<AuthorizerAppid, StoredAuthorizer>,
    history: HashMap<AuthorizerAppid, Vec<HistoryEntry>>,
    codes: HashMap<String, (AuthorizerAppid, Timestamp)>,
    /// `ext` by pre-auth code hash, until when.
    pending_ext: HashMap<String, (String, Timestamp)>,
    /// The reconcile's progress and the lease of the run holding it.
    reconcile: (ReconcileProgress, Option<Lease>),
    /// First uses, until when they are kept.
    once: HashMap<(OnceKind, String), Timestamp>,
    /// Registrations by id, and the keys that find them.
    registrations: (HashMap<String, StoredRegistration>, HashMap<String, String>),
    /// Rollouts, their targets and the audit index.
    rollouts: rollouts::Rollouts,
}

impl Component {
    fn record_history(
        &mut self,
        appid: &AuthorizerAppid,
        kind: HistoryKind,
        ids: &[PermissionId],
        ext: Option<&str>,
        at: Timestamp,
    ) {
        self.history
            .entry(appid.clone())
            .or_default()
            .push(HistoryEntry {
                kind,
                at_ms: at.millis(),
                permission_ids: ids.to_vec(),
                ext: ext.map(str::to_owned),
            });
    }

    /// The token and lease fields of a slot, wherever they are kept.
    fn slot_mut(
        &mut self,
        key: &TokenKey,
    ) -> Option<(&mut Option<CachedToken>, &mut Option<Lease>)> {
        match key {
            TokenKey::Component => Some((&mut self.token.token, &mut self.token.lease)),
            TokenKey::Authorizer(appid) => self
                .authorizers
                .get_mut(appid)
                .map(|a| (&mut a.access, &mut a.lease)),
        }
    }

    fn slot(&self, key: &TokenKey) -> Option<TokenSlot> {
        match key {
            TokenKey::Component => Some(self.token.clone()),
            TokenKey::Authorizer(appid) => {
                self.authorizers.get(appid).cloned().map(TokenSlot::from)
            }
        }
    }
}

/// The in-memory adapter, bound to one component; clones share the same data.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    data: Arc<Mutex<HashMap<ComponentAppid, Component>>>,
    component: ComponentAppid,
}

impl MemoryStore {
    /// An empty store for `component`.
    pub fn new(component: ComponentAppid) -> Self {
        Self {
            data: Arc::default(),
            component,
        }
    }

    /// The same data, bound to another component.
    pub fn for_component(&self, component: ComponentAppid) -> Self {
        Self {
            data: self.data.clone(),
            component,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Component) -> T) -> T {
        let mut data: MutexGuard<'_, _> = self.data.lock().expect("memory store lock");
        f(data.entry(self.component.clone()).or_default())
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn save_ticket(
        &self,
        ticket: &VerifyTicket,
        create_time: Timestamp,
    ) -> Result<TicketSave, StoreError> {
        Ok(self.with(|c| match &c.ticket {
            Some(stored) if stored.create_time.secs() >= create_time.secs() => TicketSave::Stale {
                stored_create_time: stored.create_time,
            },
            _ => {
                c.ticket = Some(StoredTicket {
                    ticket: ticket.clone(),
                    create_time,
                });
                TicketSave::Saved
            }
        }))
    }

    async fn load_ticket(&self) -> Result<Option<StoredTicket>, StoreError> {
        Ok(self.with(|c| c.ticket.clone()))
    }

    async fn claim_ticket_request(
        &self,
        now: Timestamp,
        every: Duration,
    ) -> Result<TicketRequest, StoreError> {
        Ok(self.with(|c| {
            let (claimed, waiting_since) = match c.ticket_request {
                Some((at, since)) if at.plus(every) > now => (false, since),
                Some((at, since)) if at.plus(every * TICKET_WAIT_GAP) > now => (true, since),
                _ => (true, now),
            };
            if claimed {
                c.ticket_request = Some((now, waiting_since));
            }
            TicketRequest {
                claimed,
                waiting_since,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    crate::store_behaviour_suite!(async {
        super::MemoryStore::new(crate::store::behaviour::component())
    });
}
