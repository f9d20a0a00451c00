//! Pushes to the authorization event URL: verified and decrypted by the message crypto, then a
//! short match on what WeChat says happened.

use super::exchange::secret_hash;
use super::{Exchanger, ServiceError};
use crate::clock::Timestamp;
use crate::msg_crypto::{MsgCrypto, PushError, SignedPush};
use crate::store::{AuthorizerStore, TicketSave, TicketStore};
use crate::tokens::TokenManager;
use crate::wechat::WeChatError;
use std::sync::Arc;
use wxopen_models::events::ComponentEvent;
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
    /// A valid push of a kind this service does not act on.
    Ignored(String),
}

/// The `events` use case.
#[derive(Clone)]
pub struct Pushes {
    crypto: MsgCrypto,
    tickets: Arc<dyn TicketStore>,
    authorizers: Arc<dyn AuthorizerStore>,
    tokens: Arc<TokenManager>,
    exchanger: Arc<Exchanger>,
}

impl Pushes {
    /// The use case with the platform's message crypto, the ticket and authorizer stores, the
    /// token manager (a revoked account's token is forgotten) and the exchanger.
    pub fn new(
        crypto: MsgCrypto,
        tickets: Arc<dyn TicketStore>,
        authorizers: Arc<dyn AuthorizerStore>,
        tokens: Arc<TokenManager>,
        exchanger: Arc<Exchanger>,
    ) -> Self {
        Self {
            crypto,
            tickets,
            authorizers,
            tokens,
            exchanger,
        }
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
            ComponentEvent::Other { info_type, .. } => Ok(PushOutcome::Ignored(info_type)),
        }
    }
}
