//! The store in memory, for fast service tests. It applies the same [`rules`](super::rules)
//! as the DynamoDB adapter and passes the same [`behaviour`](super::behaviour) suite; each
//! call is atomic, as DynamoDB's conditional writes are per item.

mod reconcile;

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

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load_slot(&self, key: &TokenKey) -> Result<Option<TokenSlot>, StoreError> {
        Ok(self.with(|c| c.slot(key)))
    }

    async fn take_lease(
        &self,
        key: &TokenKey,
        wanted: &Lease,
        at: Timestamp,
    ) -> Result<Option<TokenSlot>, StoreError> {
        Ok(self.with(|c| {
            if let TokenKey::Authorizer(appid) = key {
                let authorized = c
                    .authorizers
                    .get(appid)
                    .is_some_and(|a| a.record.status == AuthorizerStatus::Authorized);
                if !authorized {
                    return None;
                }
            }
            let (_, held) = c.slot_mut(key)?;
            if !lease_is_free(held.as_ref(), &wanted.owner, at) {
                return None;
            }
            *held = Some(wanted.clone());
            c.slot(key)
        }))
    }

    async fn write_token(
        &self,
        key: &TokenKey,
        write: &TokenWrite<'_>,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|c| {
            if let (TokenKey::Authorizer(appid), Some(auth)) = (key, write.authorizer) {
                let Some(a) = c.authorizers.get_mut(appid) else {
                    return false;
                };
                if a.lease.as_ref().map(|l| l.owner.as_str()) != Some(write.owner)
                    || a.record.version != auth.expected_version
                {
                    return false;
                }
                a.access = Some(write.token.clone());
                a.lease = None;
                if let Some(rt) = auth.replaced_refresh_token {
                    a.refresh_token = Some(rt.clone());
                    a.record.version += 1;
                    a.record.updated_at = write.now.secs();
                    c.record_history(
                        appid,
                        HistoryKind::RefreshTokenReplaced,
                        auth.permission_ids,
                        None,
                        write.now,
                    );
                }
                return true;
            }
            let Some((token, lease)) = c.slot_mut(key) else {
                return false;
            };
            if lease.as_ref().map(|l| l.owner.as_str()) != Some(write.owner) {
                return false;
            }
            *token = Some(write.token.clone());
            *lease = None;
            true
        }))
    }

    async fn release_lease(&self, key: &TokenKey, owner: &str) -> Result<(), StoreError> {
        self.with(|c| {
            if let Some((_, lease)) = c.slot_mut(key) {
                if lease.as_ref().is_some_and(|l| l.owner == owner) {
                    *lease = None;
                }
            }
        });
        Ok(())
    }

    async fn drop_token(&self, key: &TokenKey, failed: &AccessToken) -> Result<bool, StoreError> {
        Ok(self.with(|c| match c.slot_mut(key) {
            Some((token, _)) if token.as_ref().is_some_and(|t| &t.token == failed) => {
                *token = None;
                true
            }
            _ => false,
        }))
    }

    async fn mark_needs_reauth(
        &self,
        refused: &Credentials,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let appid = &refused.record.authorizer_appid;
        let permission_ids = &refused.record.permission_ids;
        let failed = refused.refresh_token.as_ref();
        Ok(self.with(|c| {
            let Some(a) = c.authorizers.get_mut(appid) else {
                return false;
            };
            if failed.is_none()
                || a.refresh_token.as_ref() != failed
                || a.record.status != AuthorizerStatus::Authorized
            {
                return false;
            }
            a.record = needs_reauth(&a.record, now);
            a.access = None;
            a.lease = None;
            c.record_history(appid, HistoryKind::NeedsReauth, permission_ids, None, now);
            true
        }))
    }
}

#[async_trait]
impl AuthorizerStore for MemoryStore {
    async fn load_authorizer(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredAuthorizer>, StoreError> {
        Ok(self.with(|c| c.authorizers.get(appid).cloned()))
    }

    async fn save_authorization(
        &self,
        new: &NewAuthorization,
        granted_at: Timestamp,
        at: Timestamp,
    ) -> Result<AuthorizerRecord, StoreError> {
        Ok(self.with(|c| {
            let appid = &new.authorizer_appid;
            let existing = c.authorizers.get(appid);
            let plan = plan_authorization(existing, new, granted_at, at);
            let stored = StoredAuthorizer {
                record: plan.record.clone(),
                refresh_token: plan.refresh_token,
                access: new.access.clone(),
                lease: None,
                info: existing.and_then(|e| e.info.clone()),
                last_authorized_at: plan.last_authorized_at,
            };
            c.authorizers.insert(appid.clone(), stored);
            c.record_history(
                appid,
                plan.kind,
                &plan.record.permission_ids,
                plan.record.ext.as_deref(),
                at,
            );
            if let Some(hash) = &new.code_hash {
                c.codes
                    .insert(hash.clone(), (appid.clone(), at.plus(EXCHANGED_CODE_TTL)));
            }
            plan.record
        }))
    }

    async fn revoke_authorizer(
        &self,
        appid: &AuthorizerAppid,
        sent_at: Timestamp,
        at: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError> {
        Ok(self.with(|c| {
            let existing = c.authorizers.get_mut(appid)?;
            let Some(revoked) = plan_revocation(existing, sent_at, at) else {
                return Some(existing.record.clone());
            };
            existing.record = revoked.clone();
            existing.refresh_token = None;
            existing.access = None;
            existing.lease = None;
            c.record_history(
                appid,
                HistoryKind::Revoked,
                &revoked.permission_ids,
                revoked.ext.as_deref(),
                at,
            );
            Some(revoked)
        }))
    }

    async fn recover_refresh_token(
        &self,
        wanted: &Recovery<'_>,
        at: Timestamp,
    ) -> Result<RecoverOutcome, StoreError> {
        let listed = wanted.listed;
        let appid = &listed.authorizer_appid;
        // Each call is atomic here: what is stored now decides, whatever the caller believed.
        Ok(self.with(|c| {
            let existing = c.authorizers.get(appid);
            let outcome = rules::recovery(existing, listed);
            if outcome == RecoverOutcome::Unchanged {
                return outcome;
            }
            let (record, last_authorized_at) =
                recovered(existing, listed, wanted.permission_ids, at);
            let info = existing.and_then(|e| e.info.clone());
            let ids = record.permission_ids.clone();
            c.record_history(appid, HistoryKind::RefreshTokenRecovered, &ids, None, at);
            c.authorizers.insert(
                appid.clone(),
                StoredAuthorizer {
                    record,
                    refresh_token: Some(listed.refresh_token.clone()),
                    access: None,
                    lease: None,
                    info,
                    last_authorized_at,
                },
            );
            outcome
        }))
    }

    async fn save_info_snapshot(
        &self,
        appid: &AuthorizerAppid,
        snapshot: &InfoSnapshot,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            if let Some(a) = c.authorizers.get_mut(appid) {
                if a.info
                    .as_ref()
                    .is_none_or(|i| i.fetched_at < snapshot.fetched_at)
                {
                    a.info = Some(snapshot.clone());
                }
            }
        });
        Ok(())
    }

    async fn exchanged_code(&self, code_hash: &str) -> Result<Option<AuthorizerAppid>, StoreError> {
        let now = Timestamp::now();
        Ok(self.with(|c| {
            c.codes
                .get(code_hash)
                .filter(|(_, exp)| *exp >= now)
                .map(|(a, _)| a.clone())
        }))
    }

    async fn save_pending_ext(
        &self,
        pre_auth_hash: &str,
        ext: &str,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.pending_ext
                .insert(pre_auth_hash.to_owned(), (ext.to_owned(), until))
        });
        Ok(())
    }

    async fn pending_ext(&self, pre_auth_hash: &str) -> Result<Option<String>, StoreError> {
        let now = Timestamp::now();
        Ok(self.with(|c| {
            c.pending_ext
                .get(pre_auth_hash)
                .filter(|(_, until)| *until >= now)
                .map(|(ext, _)| ext.clone())
        }))
    }
}

#[async_trait]
impl AuthorizerListing for MemoryStore {
    async fn list_authorizers(
        &self,
        cursor: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<Option<AuthorizerPage>, StoreError> {
        let limit = limit.clamp(1, 1000) as usize;
        Ok(self.with(|c| {
            if cursor.is_some_and(|k| !c.authorizers.contains_key(k)) {
                return None;
            }
            let after = c
                .authorizers
                .iter()
                .filter(|(k, _)| cursor.is_none_or(|cur| *k > cur));
            let mut items: Vec<AuthorizerRecord> = after
                .map(|(_, a)| a.record.clone())
                .take(limit + 1)
                .collect();
            let more = items.len() > limit;
            items.truncate(limit);
            let next_cursor = more
                .then(|| items.last().map(|r| r.authorizer_appid.clone()))
                .flatten();
            Some(AuthorizerPage { items, next_cursor })
        }))
    }
}

#[async_trait]
impl HistoryReader for MemoryStore {
    async fn history(&self, appid: &AuthorizerAppid) -> Result<Vec<HistoryEntry>, StoreError> {
        Ok(self.with(|c| c.history.get(appid).cloned().unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    crate::store_behaviour_suite!(async {
        super::MemoryStore::new(crate::store::behaviour::component())
    });
}
