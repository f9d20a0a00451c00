//! Access tokens without storms: a per-container memory cache, one refresh per key inside a
//! container, and a DynamoDB lease so that one instance refreshes while the others wait and
//! re-read.

use crate::clock::{now_ms, now_secs};
use crate::store::{CachedToken, Store, StoreError, StoredAuthorizer, TokenSlot};
use crate::wechat::{WeChatApi, WeChatError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wxopen_models::api::{AuthorizerTokenRequest, ComponentTokenRequest};
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::{AccessToken, AuthorizerAppid, ComponentAppid, Secret};

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
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(600),
            lease: Duration::from_secs(20),
            wait: Duration::from_secs(25),
            poll: Duration::from_millis(50),
            memory_ttl: Duration::from_secs(60),
        }
    }
}

/// Why no token could be handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `component_verify_ticket` has been stored yet.
    #[error("no component_verify_ticket has been received yet: WeChat pushes one to the event URL every 10 minutes; check that the authorization event URL in the WeChat console points at the events function")]
    TicketMissing,
    /// The authorizer is not stored.
    #[error("authorizer {0} is not known to this platform: it has never authorized it, or authorized another platform")]
    UnknownAuthorizer(AuthorizerAppid),
    /// The authorizer revoked the authorization.
    #[error("authorizer {0} has revoked its authorization: its administrator must authorize the platform again")]
    Revoked(AuthorizerAppid),
    /// The refresh token is gone or refused.
    #[error("authorizer {0} needs to authorize again: WeChat refused its refresh token (61023) or never sent one")]
    NeedsReauth(AuthorizerAppid),
    /// Another instance held the refresh lease for longer than the wait.
    #[error("another instance is still refreshing the {what} token: retry in a few seconds")]
    Busy {
        /// `component` or the authorizer AppID.
        what: String,
    },
    /// The refreshed token could not be stored because the item changed underneath.
    #[error("the refreshed {what} token was not stored because the record changed meanwhile (re-authorization or a slower refresh); no token was handed out: retry")]
    Conflict {
        /// `component` or the authorizer AppID.
        what: String,
    },
    /// WeChat failed.
    #[error(transparent)]
    WeChat(#[from] WeChatError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Component,
    Authorizer(AuthorizerAppid),
}

impl Key {
    fn describe(&self) -> String {
        match self {
            Self::Component => "component".to_owned(),
            Self::Authorizer(appid) => appid.to_string(),
        }
    }
}

struct MemoryEntry {
    token: CachedToken,
    read_at: Instant,
}

/// Hands out valid component and authorizer access tokens.
pub struct TokenManager {
    store: Arc<dyn Store>,
    wechat: Arc<dyn WeChatApi>,
    component: ComponentAppid,
    appsecret: Secret,
    /// This instance's lease identity.
    owner: String,
    settings: TokenSettings,
    memory: Mutex<HashMap<Key, MemoryEntry>>,
    flights: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
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
    /// A manager for one component; build it once per container.
    pub fn new(
        store: Arc<dyn Store>,
        wechat: Arc<dyn WeChatApi>,
        component: ComponentAppid,
        appsecret: Secret,
        settings: TokenSettings,
    ) -> Self {
        Self {
            store,
            wechat,
            component,
            appsecret,
            owner: format!("{:016x}", rand::random::<u64>()),
            settings,
            memory: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// The component this manager serves.
    pub fn component(&self) -> &ComponentAppid {
        &self.component
    }

    /// The settings in force.
    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    fn margin(&self) -> i64 {
        self.settings.refresh_margin.as_secs() as i64
    }

    fn is_fresh(&self, token: &CachedToken) -> bool {
        token.is_fresh(now_secs(), self.margin())
    }

    fn remembered(&self, key: &Key) -> Option<CachedToken> {
        let memory = self.memory.lock().expect("memory cache lock");
        memory
            .get(key)
            .filter(|e| e.read_at.elapsed() < self.settings.memory_ttl && self.is_fresh(&e.token))
            .map(|e| e.token.clone())
    }

    fn remember(&self, key: Key, token: &CachedToken) {
        self.memory.lock().expect("memory cache lock").insert(
            key,
            MemoryEntry {
                token: token.clone(),
                read_at: Instant::now(),
            },
        );
    }

    fn forget(&self, key: &Key, failed: &AccessToken) {
        let mut memory = self.memory.lock().expect("memory cache lock");
        if memory.get(key).is_some_and(|e| &e.token.token == failed) {
            memory.remove(key);
        }
    }

    fn flight(&self, key: &Key) -> Arc<tokio::sync::Mutex<()>> {
        self.flights
            .lock()
            .expect("flight lock")
            .entry(key.clone())
            .or_default()
            .clone()
    }

    /// Waits between re-reads, or gives up when the wait is over.
    async fn pause(
        &self,
        key: &Key,
        started: Instant,
        poll: &mut Duration,
    ) -> Result<(), TokenError> {
        if started.elapsed() >= self.settings.wait {
            return Err(TokenError::Busy {
                what: key.describe(),
            });
        }
        tokio::time::sleep(*poll).await;
        *poll = (*poll * 2).min(Duration::from_millis(500));
        Ok(())
    }

    fn lease_window(&self) -> (i64, i64) {
        let now = now_ms();
        (now, now + self.settings.lease.as_millis() as i64)
    }

    /// A valid component access token.
    pub async fn component_token(&self) -> Result<CachedToken, TokenError> {
        self.component_token_within(self.margin()).await
    }

    /// A component access token with more than `margin_secs` left, refreshing it (once across
    /// all instances) when less remains. The refresher uses a larger margin than requests do.
    pub async fn component_token_within(
        &self,
        margin_secs: i64,
    ) -> Result<CachedToken, TokenError> {
        let key = Key::Component;
        let fresh = |t: &CachedToken| t.is_fresh(now_secs(), margin_secs);
        if let Some(token) = self.remembered(&key).filter(fresh) {
            return Ok(token);
        }
        let flight = self.flight(&key);
        let _one_at_a_time = flight.lock().await;
        if let Some(token) = self.remembered(&key).filter(fresh) {
            return Ok(token);
        }
        let started = Instant::now();
        let mut poll = self.settings.poll;
        loop {
            let slot = self.store.load_component_token(&self.component).await?;
            if let Some(token) = slot.token.as_ref().filter(|t| fresh(t)) {
                self.remember(key, token);
                return Ok(token.clone());
            }
            let (now, until) = self.lease_window();
            if lease_is_free(
                slot.lease.as_ref().map(|l| (&l.owner, l.until_ms)),
                &self.owner,
                now,
            ) {
                if let Some(leased) = self
                    .store
                    .lease_component_token(&self.component, &self.owner, now, until)
                    .await?
                {
                    return self.refresh_component(leased, margin_secs).await;
                }
            }
            self.pause(&key, started, &mut poll).await?;
        }
    }

    async fn refresh_component(
        &self,
        leased: TokenSlot,
        margin_secs: i64,
    ) -> Result<CachedToken, TokenError> {
        if let Some(token) = leased.token.filter(|t| t.is_fresh(now_secs(), margin_secs)) {
            self.release_component().await;
            self.remember(Key::Component, &token);
            return Ok(token);
        }
        let result = async {
            let ticket = self
                .store
                .load_ticket(&self.component)
                .await?
                .ok_or(TokenError::TicketMissing)?;
            let issued_at = now_secs();
            let resp = self
                .wechat
                .component_token(&ComponentTokenRequest {
                    component_appid: self.component.clone(),
                    component_appsecret: self.appsecret.clone(),
                    component_verify_ticket: ticket.ticket,
                })
                .await?;
            Ok::<_, TokenError>(CachedToken {
                token: resp.component_access_token,
                expires_at: issued_at + resp.expires_in as i64,
            })
        }
        .await;
        let token = match result {
            Ok(token) => token,
            Err(e) => {
                self.release_component().await;
                return Err(e);
            }
        };
        if self
            .store
            .store_component_token(&self.component, &self.owner, &token)
            .await?
        {
            tracing::info!(component = %self.component, expires_at = token.expires_at, "component token refreshed");
            self.remember(Key::Component, &token);
            return Ok(token);
        }
        // The lease was lost while WeChat answered: only a stored token may be handed out.
        let slot = self.store.load_component_token(&self.component).await?;
        match slot.token.filter(|t| t.is_fresh(now_secs(), margin_secs)) {
            Some(stored) => {
                self.remember(Key::Component, &stored);
                Ok(stored)
            }
            None => Err(TokenError::Conflict {
                what: "component".into(),
            }),
        }
    }

    async fn release_component(&self) {
        if let Err(e) = self
            .store
            .release_component_lease(&self.component, &self.owner)
            .await
        {
            tracing::warn!(error = %e, "could not release the component token lease; it will lapse");
        }
    }

    /// Drops the component token if it is still `failed` (WeChat said 40001/40014/42001).
    pub async fn invalidate_component_token(&self, failed: &AccessToken) -> Result<(), TokenError> {
        self.forget(&Key::Component, failed);
        let dropped = self
            .store
            .drop_component_token(&self.component, failed)
            .await?;
        tracing::info!(dropped, "component token reported invalid");
        Ok(())
    }

    /// Calls WeChat with the component token; on an invalid-token answer the token is dropped
    /// (only if it is still the stored one), a new one fetched, and the call retried once.
    pub async fn with_component_token<T, F, Fut>(&self, call: F) -> Result<T, TokenError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, WeChatError>>,
    {
        let token = self.component_token().await?;
        match call(token.token.clone()).await {
            Err(e) if e.is_token_invalid() => {
                self.invalidate_component_token(&token.token).await?;
                let token = self.component_token().await?;
                Ok(call(token.token).await?)
            }
            other => Ok(other?),
        }
    }

    /// A valid access token of an authorizer.
    pub async fn authorizer_token(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<CachedToken, TokenError> {
        let key = Key::Authorizer(appid.clone());
        if let Some(token) = self.remembered(&key) {
            return Ok(token);
        }
        let flight = self.flight(&key);
        let _one_at_a_time = flight.lock().await;
        if let Some(token) = self.remembered(&key) {
            return Ok(token);
        }
        let started = Instant::now();
        let mut poll = self.settings.poll;
        loop {
            let stored = self
                .store
                .load_authorizer(&self.component, appid)
                .await?
                .ok_or_else(|| TokenError::UnknownAuthorizer(appid.clone()))?;
            usable(&stored)?;
            if let Some(token) = stored.access.as_ref().filter(|t| self.is_fresh(t)) {
                self.remember(key, token);
                return Ok(token.clone());
            }
            let (now, until) = self.lease_window();
            if lease_is_free(
                stored.lease.as_ref().map(|l| (&l.owner, l.until_ms)),
                &self.owner,
                now,
            ) {
                if let Some(leased) = self
                    .store
                    .lease_authorizer_token(&self.component, appid, &self.owner, now, until)
                    .await?
                {
                    return self.refresh_authorizer(appid, leased).await;
                }
            }
            self.pause(&key, started, &mut poll).await?;
        }
    }

    async fn refresh_authorizer(
        &self,
        appid: &AuthorizerAppid,
        leased: StoredAuthorizer,
    ) -> Result<CachedToken, TokenError> {
        let key = Key::Authorizer(appid.clone());
        if let Some(token) = leased.access.as_ref().filter(|t| self.is_fresh(t)) {
            self.release_authorizer(appid).await;
            self.remember(key, token);
            return Ok(token.clone());
        }
        let Some(refresh_token) = leased.refresh_token.clone() else {
            self.release_authorizer(appid).await;
            return Err(TokenError::NeedsReauth(appid.clone()));
        };
        let request = AuthorizerTokenRequest {
            component_appid: self.component.clone(),
            authorizer_appid: appid.clone(),
            authorizer_refresh_token: refresh_token.clone(),
        };
        let issued_at = now_secs();
        let resp = match self
            .with_component_token(|token| {
                let request = &request;
                async move { self.wechat.authorizer_token(&token, request).await }
            })
            .await
        {
            Ok(resp) => resp,
            Err(TokenError::WeChat(WeChatError::RefreshTokenInvalid)) => {
                let marked = self
                    .store
                    .mark_needs_reauth(&self.component, appid, &refresh_token, now_ms())
                    .await?;
                tracing::warn!(authorizer = %appid, marked, "WeChat refused the refresh token (61023); authorizer needs to authorize again");
                return Err(TokenError::NeedsReauth(appid.clone()));
            }
            Err(e) => {
                self.release_authorizer(appid).await;
                return Err(e);
            }
        };
        let token = CachedToken {
            token: resp.authorizer_access_token.clone(),
            expires_at: issued_at + resp.expires_in as i64,
        };
        // Whatever refresh token came back is written with the access token, in one write
        // conditional on the lease and the version: the token is handed out only after that.
        let replaced = resp.refresh_token().filter(|r| **r != refresh_token);
        let written = self
            .store
            .store_authorizer_token(
                &self.component,
                appid,
                &self.owner,
                leased.record.version,
                &token,
                replaced,
                now_ms(),
            )
            .await;
        match written {
            Ok(true) => {
                tracing::info!(authorizer = %appid, expires_at = token.expires_at, refresh_token_replaced = replaced.is_some(), "authorizer token refreshed");
                self.remember(key, &token);
                Ok(token)
            }
            Ok(false) => {
                self.release_authorizer(appid).await;
                let stored = self.store.load_authorizer(&self.component, appid).await?;
                match stored {
                    Some(s) if usable(&s).is_ok() => match s.access.filter(|t| self.is_fresh(t)) {
                        Some(token) => {
                            self.remember(key, &token);
                            Ok(token)
                        }
                        None => Err(TokenError::Conflict {
                            what: appid.to_string(),
                        }),
                    },
                    Some(s) => Err(usable(&s).expect_err("not usable")),
                    None => Err(TokenError::UnknownAuthorizer(appid.clone())),
                }
            }
            Err(e) => {
                self.release_authorizer(appid).await;
                Err(e.into())
            }
        }
    }

    async fn release_authorizer(&self, appid: &AuthorizerAppid) {
        if let Err(e) = self
            .store
            .release_authorizer_lease(&self.component, appid, &self.owner)
            .await
        {
            tracing::warn!(authorizer = %appid, error = %e, "could not release the authorizer token lease; it will lapse");
        }
    }

    /// Forgets whatever this container remembers for `appid` (after a revocation). Other
    /// containers re-read DynamoDB within [`TokenSettings::memory_ttl`].
    pub fn forget_authorizer(&self, appid: &AuthorizerAppid) {
        self.memory
            .lock()
            .expect("memory cache lock")
            .remove(&Key::Authorizer(appid.clone()));
    }

    /// Drops an authorizer's access token if it is still `failed` (a caller got 40001/42001).
    pub async fn invalidate_authorizer_token(
        &self,
        appid: &AuthorizerAppid,
        failed: &AccessToken,
    ) -> Result<(), TokenError> {
        let key = Key::Authorizer(appid.clone());
        self.forget(&key, failed);
        let dropped = self
            .store
            .drop_authorizer_token(&self.component, appid, failed)
            .await?;
        tracing::info!(authorizer = %appid, dropped, "authorizer token reported invalid");
        Ok(())
    }
}

/// The lease may be taken: nobody holds it, it lapsed, or this instance holds it.
fn lease_is_free(lease: Option<(&String, i64)>, owner: &str, now_ms: i64) -> bool {
    match lease {
        None => true,
        Some((holder, until)) => until < now_ms || holder == owner,
    }
}

fn usable(stored: &StoredAuthorizer) -> Result<(), TokenError> {
    let appid = &stored.record.authorizer_appid;
    match stored.record.status {
        AuthorizerStatus::Authorized => Ok(()),
        AuthorizerStatus::Revoked => Err(TokenError::Revoked(appid.clone())),
        AuthorizerStatus::NeedsReauth => Err(TokenError::NeedsReauth(appid.clone())),
    }
}
