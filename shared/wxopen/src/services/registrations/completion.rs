//! The pushes that complete a registration, at the authorization event URL: matched to the
//! stored registration by task id, unique id or the names WeChat echoes; the new account's code
//! exchanged once (the exchange claims it, whichever push carries it first); the account bound
//! to the registration's `ext`; `Mini Program Registered` or `Mini Program Registration Failed`
//! published. A push for a registration this platform never made still stores the account.
//!
//! The orders WeChat may deliver in, all ending the same way:
//! - the registration push first: its code is exchanged with the registration's `ext`; a later
//!   `authorized` push for the same code finds the stored account;
//! - an `authorized` push first (WeChat sends it for some registrations, and for every beta
//!   one): the account is stored without `ext`, then the registration push binds it, which
//!   publishes `Authorizer Authorized` again, with the `ext`;
//! - a beta push first: it names the account, so the `authorized` push that follows finds the
//!   registration by its account and exchanges with its `ext`.

use super::keys;
use crate::clock::Timestamp;
use crate::publish::{EventPublisher, Outgoing};
use crate::services::{Exchanger, ServiceError};
use crate::store::{
    AuthorizerStore, RegistrationEnd, RegistrationStore, RegistrationUpdate, StoredRegistration,
};
use crate::wechat::WeChatError;
use std::sync::Arc;
use wxopen_models::notifications::{
    RegisteredDetail, RegistrationFailedDetail, MINI_PROGRAM_REGISTERED,
    MINI_PROGRAM_REGISTRATION_FAILED,
};
use wxopen_models::pushes::Registration;
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::registration::failure_reason;
use wxopen_models::{AuthorizerAppid, ComponentAppid};

/// The registration side of `events`.
#[derive(Clone)]
pub struct Completions {
    component: ComponentAppid,
    store: Arc<dyn RegistrationStore>,
    authorizers: Arc<dyn AuthorizerStore>,
    exchanger: Arc<Exchanger>,
    publisher: Arc<dyn EventPublisher>,
}

impl Completions {
    /// Completions for `component`'s registrations in `store`, exchanging through `exchanger`,
    /// binding in `authorizers`, publishing to `publisher`.
    pub fn new(
        component: ComponentAppid,
        (store, authorizers): (Arc<dyn RegistrationStore>, Arc<dyn AuthorizerStore>),
        exchanger: Arc<Exchanger>,
        publisher: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            component,
            store,
            authorizers,
            exchanger,
            publisher,
        }
    }

    /// A registration push (`notify_third_fasteregister`, or `..._fastregisterbetaapp` when
    /// `beta`), sent at `create_time`. An error leaves the push unacknowledged, so WeChat
    /// delivers it again, and handling it again does nothing twice.
    pub async fn on_push(
        &self,
        push: &Registration,
        beta: bool,
        create_time: i64,
    ) -> Result<(), ServiceError> {
        let keys = keys::of_push(&push.info, beta);
        let found = match keys.is_empty() {
            true => None,
            false => self.store.find_registration(&keys).await?,
        };
        let at = Timestamp::from_secs(create_time);
        match (push.status, found) {
            (Some(0), found) => self.succeeded(push, found, at).await,
            (Some(status), Some(registration)) => self.failed(&registration, status, at).await,
            (Some(status), None) => {
                tracing::warn!(status, reason = %failure_reason(status), "a failed registration this platform has no record of (made elsewhere, or deleted after 30 days)");
                Ok(())
            }
            (None, _) => {
                tracing::warn!(
                    "a registration push without status: published as it came, nothing else done"
                );
                Ok(())
            }
        }
    }

    async fn succeeded(
        &self,
        push: &Registration,
        found: Option<StoredRegistration>,
        at: Timestamp,
    ) -> Result<(), ServiceError> {
        let appid = push
            .appid
            .as_deref()
            .and_then(|a| AuthorizerAppid::parse(a.trim()).ok());
        if let (Some(r), Some(appid)) = (&found, &appid) {
            let account_key = [keys::account(appid)];
            let update = RegistrationUpdate {
                keys: &account_key,
                verification_url: None,
                appid: Some(appid),
            };
            self.store.update_registration(&r.id, &update).await?;
        }
        let ext = found.as_ref().map(|r| r.ext.as_str());
        let record = match &push.auth_code {
            Some(code) => match self.exchanger.exchange(code, at, ext).await {
                Ok(record) => Some(record),
                Err(ServiceError::WeChat(
                    WeChatError::AuthCodeInvalid | WeChatError::AuthCodeExpired,
                )) => {
                    tracing::info!(
                        "the registration's authorization code was already used or expired"
                    );
                    self.stored(appid.as_ref()).await?
                }
                Err(other) => return Err(other),
            },
            None => self.stored(appid.as_ref()).await?,
        };
        match (found, record) {
            (Some(registration), Some(record)) => self.authorized(&registration, &record).await,
            (Some(registration), None) => {
                tracing::info!(registration = %registration.id, "registered; its account's authorized push completes it");
                Ok(())
            }
            (None, Some(record)) => {
                tracing::info!(authorizer = %record.authorizer_appid, "a fast-registered Mini Program authorized; no registration of this platform binds it to a customer");
                Ok(())
            }
            (None, None) => {
                tracing::warn!("a registration push naming no account this platform stores, and no registration of its own");
                Ok(())
            }
        }
    }

    async fn stored(
        &self,
        appid: Option<&AuthorizerAppid>,
    ) -> Result<Option<AuthorizerRecord>, ServiceError> {
        let Some(appid) = appid else {
            return Ok(None);
        };
        Ok(self
            .authorizers
            .load_authorizer(appid)
            .await?
            .map(|s| s.record))
    }
}

/// Ending a registration: once its account is stored, or when WeChat failed it.
impl Completions {
    /// The waiting registration a push named `appid` for: the `authorized` push for that account
    /// stores it with the registration's `ext`, then completes it.
    pub async fn waiting_for(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredRegistration>, ServiceError> {
        let found = self
            .store
            .find_registration(&[keys::account(appid)])
            .await?;
        Ok(found.filter(|r| r.end.is_none()))
    }

    /// `registration`'s account is stored as `record`: bound to its `ext` if it has none, the
    /// registration ended, `Mini Program Registered` published.
    pub async fn authorized(
        &self,
        registration: &StoredRegistration,
        record: &AuthorizerRecord,
    ) -> Result<(), ServiceError> {
        let appid = &record.authorizer_appid;
        let now = Timestamp::now();
        match record.ext.as_deref() {
            None => {
                self.authorizers
                    .bind_ext(appid, &registration.ext, now)
                    .await?;
            }
            Some(ext) if ext != registration.ext => {
                tracing::warn!(authorizer = %appid, registration = %registration.id, "the account is bound to another ext already; it keeps it")
            }
            Some(_) => {}
        }
        let end = RegistrationEnd::Registered(appid.clone());
        let ended = self
            .store
            .end_registration(&registration.id, &end, now)
            .await?;
        let Some(ended) = ended.filter(|r| r.end.as_ref() == Some(&end)) else {
            tracing::warn!(registration = %registration.id, "a registration that ended otherwise got its account: not published as registered");
            return Ok(());
        };
        let detail = RegisteredDetail {
            id: format!("{}:registration:{}:registered", self.component, ended.id),
            component_appid: self.component.clone(),
            registration_id: ended.id.clone(),
            authorizer_appid: appid.clone(),
            kind: ended.kind,
            ext: ended.ext.clone(),
        };
        tracing::info!(registration = %ended.id, authorizer = %appid, "registration completed");
        self.publish(Outgoing::new(MINI_PROGRAM_REGISTERED, &detail, now))
            .await
    }

    async fn failed(
        &self,
        registration: &StoredRegistration,
        status: i64,
        at: Timestamp,
    ) -> Result<(), ServiceError> {
        let end = RegistrationEnd::Failed {
            status,
            reason: failure_reason(status),
        };
        let ended = self
            .store
            .end_registration(&registration.id, &end, at)
            .await?;
        let Some((ended, status, reason)) = ended.and_then(|r| match r.end.clone() {
            Some(RegistrationEnd::Failed { status, reason }) => Some((r, status, reason)),
            _ => None,
        }) else {
            tracing::warn!(registration = %registration.id, status, "a failure for a registration already registered: ignored");
            return Ok(());
        };
        tracing::info!(registration = %ended.id, status, reason = %reason, "registration failed");
        let detail = RegistrationFailedDetail {
            id: format!("{}:registration:{}:failed", self.component, ended.id),
            component_appid: self.component.clone(),
            registration_id: ended.id.clone(),
            kind: ended.kind,
            ext: ended.ext.clone(),
            status,
            reason,
        };
        self.publish(Outgoing::new(MINI_PROGRAM_REGISTRATION_FAILED, &detail, at))
            .await
    }

    /// Published, or an error so the push is delivered again (the same `id` then).
    async fn publish(&self, event: Outgoing) -> Result<(), ServiceError> {
        match self.publisher.publish(&[event]).await.pop() {
            Some(Err(e)) => Err(e.into()),
            _ => Ok(()),
        }
    }
}
