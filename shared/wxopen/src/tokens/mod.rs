//! Access tokens without storms: a per-container memory cache, one refresh per key inside a
//! container, and a DynamoDB lease so that one instance refreshes while the others wait and
//! re-read. One algorithm ([`TokenManager::token`]) serves both kinds of token; only how a
//! token is renewed differs (see `renew.rs`).

mod appsecret;
mod component_api;
mod memory;
mod passthrough;
mod refused;
mod renew;

pub use crate::error::{AuthorizerError, RefreshError};
pub use appsecret::TICKET_REQUEST_INTERVAL;
pub use component_api::ComponentApi;

use memory::MemoryEntry;

use crate::error::ServiceError;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::store::rules::lease_is_free;
use crate::store::{CachedToken, Lease, OnceStore, TicketStore, TokenKey, TokenSlot, TokenStore};
use crate::wechat::WeChatApi;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wxopen_models::{AuthorizerAppid, ComponentAppid, Secret};

/// Timing of refreshes and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    /// A token with less than this left is refreshed (WeChat advises about 10 minutes early).
    pub refresh_margin: Duration,
    /// How long a refresh lease lasts if its holder never releases it.
    pub lease: Duration,
    /// How long a request waits for another instance's refresh before giving up.
    pub wait: Duration,
    /// First pause between re-reads while waiting; doubles up to half a second.
    pub poll: Duration,
    /// How long a memory-cached token is trusted before DynamoDB is read again, so that a
    /// token dropped by another instance does not linger here.
    pub memory_ttl: Duration,
    /// At most one renewal per key in this long is caused by WeChat refusing a token, across
    /// instances: a caller looping on an endpoint that always refuses cannot renew without end
    /// (each renewal invalidates every other instance's token).
    pub refusal_renewal: Duration,
    /// How long a refusal past that bound waits for another instance's replacement of the same
    /// token (concurrent refusals of one token are one renewal) before it is answered as
    /// WeChat refused it; a claimer drops the token right after its claim.
    pub replacement_wait: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(600),
            lease: Duration::from_secs(20),
            wait: Duration::from_secs(25),
            poll: Duration::from_millis(50),
            memory_ttl: Duration::from_secs(60),
            refusal_renewal: Duration::from_secs(60),
            replacement_wait: Duration::from_secs(1),
        }
    }
}

/// Hands out valid component and authorizer access tokens.
pub struct TokenManager {
    store: Arc<dyn TokenStore>,
    tickets: Arc<dyn TicketStore>,
    /// Where refusal-driven renewals are counted, across instances.
    once: Arc<dyn OnceStore>,
    wechat: Arc<dyn WeChatApi>,
    component: ComponentAppid,
    appsecret: Secret,
    /// This instance's lease identity.
    owner: String,
    settings: TokenSettings,
    clock: Arc<dyn Clock>,
    memory: Mutex<HashMap<TokenKey, MemoryEntry>>,
    flights: Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("component", &self.component)
            .field("owner", &self.owner)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager for one component, on a store that keeps its tokens, its tickets and the
    /// record of refusal-driven renewals; build it once per container.
    pub fn new<S: TokenStore + TicketStore + OnceStore + 'static>(
        store: Arc<S>,
        wechat: Arc<dyn WeChatApi>,
        (component, appsecret): (ComponentAppid, Secret),
        settings: TokenSettings,
    ) -> Self {
        Self {
            store: store.clone(),
            tickets: store.clone(),
            once: store,
            wechat,
            component,
            appsecret,
            owner: format!("{:016x}", rand::random::<u64>()),
            settings,
            clock: Arc::new(SystemClock),
            memory: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The same manager reading time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Now, by this manager's clock.
    pub(super) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The component this manager serves.
    pub fn component(&self) -> &ComponentAppid {
        &self.component
    }

    /// The settings in force.
    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    /// A valid component access token.
    pub async fn component_token(&self) -> Result<CachedToken, ServiceError> {
        self.token(&TokenKey::Component, self.settings.refresh_margin)
            .await
    }

    /// A component access token with more than `margin` left, refreshing it (once across all
    /// instances) when less remains. The refresher uses a larger margin than requests do.
    pub async fn component_token_within(
        &self,
        margin: Duration,
    ) -> Result<CachedToken, ServiceError> {
        self.token(&TokenKey::Component, margin).await
    }

    /// A valid access token of an authorizer.
    pub async fn authorizer_token(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<CachedToken, ServiceError> {
        self.token(
            &TokenKey::Authorizer(appid.clone()),
            self.settings.refresh_margin,
        )
        .await
    }

    /// The component token as stored now (strongly consistent), whatever its freshness.
    pub async fn stored_component_token(&self) -> Result<Option<CachedToken>, ServiceError> {
        Ok(self
            .store
            .load_slot(&TokenKey::Component)
            .await?
            .and_then(|slot| slot.token))
    }

    /// Refuses an authorizer that is unknown, revoked or needs reauth, as every call with its
    /// own token is: for the calls made on its behalf with the component's token.
    pub async fn require_usable(&self, appid: &AuthorizerAppid) -> Result<(), ServiceError> {
        let key = TokenKey::Authorizer(appid.clone());
        self.usable_slot(&key).await.map(|_| ())
    }

    /// Remembers a token this container has just stored (the exchange's), so that the next
    /// request for it costs no read.
    pub fn remember_authorizer(&self, appid: &AuthorizerAppid, token: &CachedToken) {
        self.remember(&TokenKey::Authorizer(appid.clone()), token);
    }

    /// Forgets whatever this container remembers for `appid` (after a revocation). Other
    /// containers re-read DynamoDB within [`TokenSettings::memory_ttl`].
    pub fn forget_authorizer(&self, appid: &AuthorizerAppid) {
        self.memory
            .lock()
            .expect("memory cache lock")
            .remove(&TokenKey::Authorizer(appid.clone()));
    }

    /// Takes this instance's refresh lease on `key`: the item as it is now, or `None` when
    /// another instance holds it (or the authorizer cannot be refreshed).
    async fn lease(&self, key: &TokenKey) -> Result<Option<TokenSlot>, ServiceError> {
        let now = self.now();
        let lease = Lease {
            owner: self.owner.clone(),
            until: now.plus(self.settings.lease),
        };
        Ok(self.store.take_lease(key, &lease, now).await?)
    }

    /// The one algorithm: memory, then the store; a stale token is refreshed by whoever takes
    /// the lease while the others wait and re-read.
    async fn token(&self, key: &TokenKey, margin: Duration) -> Result<CachedToken, ServiceError> {
        if let Some(token) = self.remembered(key, margin) {
            return Ok(token);
        }
        let flight = self.flight(key);
        let _one_at_a_time = flight.lock().await;
        if let Some(token) = self.remembered(key, margin) {
            return Ok(token);
        }
        if self.known_stale(key, margin) {
            if let Some(leased) = self.lease(key).await? {
                self.check_usable(key, &leased)?;
                return self.refresh(key, leased, margin).await;
            }
        }
        let started = Instant::now();
        let mut slept = false;
        let token = self.wait_for(key, margin, started, &mut slept).await;
        if slept {
            crate::telemetry::lease_wait(key, started.elapsed());
        }
        token
    }

    /// Re-reads until a fresh token is stored or the lease is free to take, up to
    /// [`TokenSettings::wait`] from `started`; `slept` says whether it had to wait.
    async fn wait_for(
        &self,
        key: &TokenKey,
        margin: Duration,
        started: Instant,
        slept: &mut bool,
    ) -> Result<CachedToken, ServiceError> {
        let mut poll = self.settings.poll;
        loop {
            let slot = self.usable_slot(key).await?;
            if let Some(token) = slot.token.filter(|t| t.is_fresh(self.now(), margin)) {
                self.remember(key, &token);
                return Ok(token);
            }
            if lease_is_free(slot.lease.as_ref(), &self.owner, self.now()) {
                if let Some(leased) = self.lease(key).await? {
                    return self.refresh(key, leased, margin).await;
                }
            }
            if started.elapsed() >= self.settings.wait {
                return Err(RefreshError::Busy {
                    what: key.to_string(),
                }
                .into());
            }
            *slept = true;
            tokio::time::sleep(poll).await;
            poll = (poll * 2).min(Duration::from_millis(500));
        }
    }
}
