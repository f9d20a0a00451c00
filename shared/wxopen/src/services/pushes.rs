//! Pushes to the authorization event URL: verified and decrypted by the message crypto, then a
//! short match on what WeChat says happened.

use super::exchange::secret_hash;
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
use wxopen_models::pushes::{publishable, ComponentPush, Registration};
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
}

impl Pushes {
    /// The use case with the platform's message crypto, the ticket and authorizer stores, the
    /// token manager (a revoked account's token is forgotten), the exchanger and where the
    /// other pushes are published.
    pub fn new(
        crypto: MsgCrypto,
        tickets: Arc<dyn TicketStore>,
        authorizers: Arc<dyn AuthorizerStore>,
        (tokens, exchanger): (Arc<TokenManager>, Arc<Exchanger>),
        publisher: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            crypto,
            tickets,
            authorizers,
            tokens,
            exchanger,
            publisher,
        }
    }

    /// A fast registration that succeeded carries the new Mini Program's authorization code:
    /// it is exchanged (once, however often the push or an `authorized` push for the same
    /// account arrives: the exchange claims the code) and the account stored. No stored
    /// registration binds it to a customer yet, so it is stored without `ext`, as the log says.
    async fn store_registered(
        &self,
        registration: &Registration,
        create_time: i64,
    ) -> Result<(), ServiceError> {
        let (Some(0), Some(code)) = (registration.status, &registration.auth_code) else {
            return Ok(());
        };
        let at = Timestamp::from_secs(create_time);
        match self.exchanger.exchange(code, at, None).await {
            Ok(record) => {
                tracing::info!(authorizer = %record.authorizer_appid, "a fast-registered Mini Program authorized; no registration of this platform binds it to a customer");
                Ok(())
            }
            Err(ServiceError::WeChat(
                WeChatError::AuthCodeInvalid | WeChatError::AuthCodeExpired,
            )) => {
                tracing::info!("the registration's authorization code was already used or expired");
                Ok(())
            }
            Err(other) => Err(other),
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
                self.store_registered(&registration, create_time).await?
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
                match self
                    .exchanger
                    .exchange(&e.authorization_code, at, ext.as_deref())
                    .await
                {
                    Ok(record) => Ok(PushOutcome::Authorized(record)),
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
