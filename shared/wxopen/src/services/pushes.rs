//! Pushes to the authorization event URL: verified and decrypted by the message crypto, then a
//! short match on what WeChat says happened.

use super::exchange::secret_hash;
use super::registrations::Completions;
use super::{Exchanger, ServiceError};
use crate::clock::Timestamp;
use crate::msg_crypto::{MsgCrypto, PushError, SignedPush};
use crate::publish::{EventPublisher, Outgoing};
use crate::store::{AuthorizerStore, TicketSave, TicketStore};
use crate::tokens::TokenManager;
use crate::wechat::WeChatError;
use serde_json::{Map, Value};
use std::sync::Arc;
use wxopen_models::events::ComponentEvent;
use wxopen_models::notifications::{ComponentPushDetail, COMPONENT_PUSH};
use wxopen_models::pushes::{publishable, ComponentPush};
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::AuthorizerAppid;

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// A new ticket was stored.
    TicketStored,
    /// A ticket at least as new was already stored.
    TicketStale,
    /// An authorization or update was exchanged and stored.
    Authorized(AuthorizerRecord),
    /// The authorization code of the push was already used or expired (the redirect usually
    /// exchanged it first); nothing to do.
    CodeAlreadyUsed(AuthorizerAppid),
    /// The authorizer was revoked (or was not stored).
    Revoked(Option<AuthorizerRecord>),
    /// Any other push, published as `Component Push` (its `InfoType`).
    Published(String),
}

/// The `events` use case.
#[derive(Clone)]
pub struct Pushes {
    crypto: MsgCrypto,
    tickets: Arc<dyn TicketStore>,
    authorizers: Arc<dyn AuthorizerStore>,
    tokens: Arc<TokenManager>,
    exchanger: Arc<Exchanger>,
    publisher: Arc<dyn EventPublisher>,
    completions: Arc<Completions>,
}

impl Pushes {
    /// The use case with the platform's message crypto, the ticket and authorizer stores, the
    /// token manager (a revoked account's token is forgotten), the exchanger, where the other
    /// pushes are published, and what completes registrations.
    pub fn new(
        crypto: MsgCrypto,
        tickets: Arc<dyn TicketStore>,
        authorizers: Arc<dyn AuthorizerStore>,
        (tokens, exchanger): (Arc<TokenManager>, Arc<Exchanger>),
        (publisher, completions): (Arc<dyn EventPublisher>, Arc<Completions>),
    ) -> Self {
        Self {
            crypto,
            tickets,
            authorizers,
            tokens,
            exchanger,
            publisher,
            completions,
        }
    }

    /// Publishes a push other than the ticket and the authorization kinds as `Component Push`.
    /// Not published is an error, so the push is not acknowledged and WeChat delivers it again
    /// (the same `id`: subscribers drop the duplicate a redelivery may make).
    async fn publish_push(
        &self,
        create_time: i64,
        info_type: &str,
        fields: &Map<String, Value>,
    ) -> Result<PushOutcome, ServiceError> {
        match ComponentPush::of(info_type, fields) {
            Ok(ComponentPush::Unknown) => {
                tracing::info!(info_type, "a push of a type not modelled: published whole")
            }
            Ok(ComponentPush::FastRegister(registration)) => {
                (self.completions.on_push(&registration, false, create_time)).await?
            }
            Ok(ComponentPush::FastRegisterBeta(registration)) => {
                (self.completions.on_push(&registration, true, create_time)).await?
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(info_type, error = %e, "a push whose fields do not read as documented: published whole")
            }
        }
        let canonical = serde_json::to_string(fields).expect("fields serialize");
        let digest = &secret_hash(&canonical)[..16];
        let detail = ComponentPushDetail {
            id: format!("{}:{info_type}:{create_time}:{digest}", self.crypto.appid()),
            component_appid: self.crypto.appid().clone(),
            info_type: info_type.to_owned(),
            create_time,
            push: publishable(fields),
        };
        let event = Outgoing::new(COMPONENT_PUSH, &detail, Timestamp::from_secs(create_time));
        if let Some(Err(e)) = self.publisher.publish(&[event]).await.pop() {
            return Err(e.into());
        }
        Ok(PushOutcome::Published(info_type.to_owned()))
    }

    /// Verifies, decrypts and handles a push.
    pub async fn handle(&self, push: &SignedPush<'_>) -> Result<PushOutcome, ServiceError> {
        let xml = self.crypto.open_push(push)?;
        let event = ComponentEvent::parse_xml(&xml).map_err(PushError::Malformed)?;
        if event.component_appid() != self.crypto.appid() {
            return Err(PushError::WrongComponent {
                expected: self.crypto.appid().to_string(),
                found: event.component_appid().to_string(),
            }
            .into());
        }
        tracing::info!(info_type = event.info_type(), "push verified");
        match event {
            ComponentEvent::VerifyTicket(e) => {
                let at = Timestamp::from_secs(e.create_time);
                Ok(match self.tickets.save_ticket(&e.ticket, at).await? {
                    TicketSave::Saved => PushOutcome::TicketStored,
                    TicketSave::Stale { .. } => PushOutcome::TicketStale,
                })
            }
            ComponentEvent::Authorized(e) | ComponentEvent::UpdateAuthorized(e) => {
                let at = Timestamp::from_secs(e.create_time);
                // The binding of an authorization started from a minted link, by its pre-auth
                // code: stored whether this push or the redirect exchanges the code first.
                let ext = match &e.pre_auth_code {
                    Some(pre) => {
                        self.authorizers
                            .pending_ext(&secret_hash(pre.expose()))
                            .await?
                    }
                    None => None,
                };
                // A registration whose push named this account before its authorization. A push
                // of WeChat's authorization page names its pre-auth code; one of a registration
                // names none, so only those look (one read).
                let registration = match (&ext, e.pre_auth_code.is_some()) {
                    (None, false) => self.completions.waiting_for(&e.authorizer_appid).await?,
                    _ => None,
                };
                let ext = ext.or_else(|| registration.as_ref().map(|r| r.ext.clone()));
                match self
                    .exchanger
                    .exchange(&e.authorization_code, at, ext.as_deref())
                    .await
                {
                    Ok(record) => {
                        if let Some(registration) = &registration {
                            self.completions.authorized(registration, &record).await?;
                        }
                        Ok(PushOutcome::Authorized(record))
                    }
                    Err(ServiceError::WeChat(
                        WeChatError::AuthCodeInvalid | WeChatError::AuthCodeExpired,
                    )) => {
                        tracing::info!(authorizer = %e.authorizer_appid, "the pushed authorization code was already used or expired");
                        Ok(PushOutcome::CodeAlreadyUsed(e.authorizer_appid))
                    }
                    Err(other) => Err(other),
                }
            }
            ComponentEvent::Unauthorized(e) => {
                let at = Timestamp::from_secs(e.create_time);
                let revoked = self
                    .authorizers
                    .revoke_authorizer(&e.authorizer_appid, at, Timestamp::now())
                    .await?;
                self.tokens.forget_authorizer(&e.authorizer_appid);
                Ok(PushOutcome::Revoked(revoked))
            }
            ComponentEvent::Other {
                create_time,
                info_type,
                fields,
                ..
            } => self.publish_push(create_time, &info_type, &fields).await,
        }
    }
}
