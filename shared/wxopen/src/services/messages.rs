//! The message and event URL (`/wechat/messages/$APPID$`): a message is verified and decrypted
//! with the platform's keys; WeChat's release test is answered here, by itself; everything else
//! is published as `Authorizer Message` for other services.

use super::authorizers::fetch_info;
use super::exchange::secret_hash;
use super::{Exchanger, ServiceError};
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::msg_crypto::{MsgCrypto, PushError, SignedPush};
use crate::publish::{EventPublisher, Outgoing};
use crate::store::{AuthorizerStore, OnceKind, OnceStore, Use};
use crate::tokens::{AuthorizerError, ComponentApi};
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::api::CustomTextMessage;
use wxopen_models::messages::{AuthorizerMessage, TextReply};
use wxopen_models::notifications::{message_id, MessageDetail, MESSAGE};
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::release_test::{test_account, ReleaseCase, QUERY_AUTH_CODE_REPLY_SUFFIX};
use wxopen_models::{AuthorizationCode, AuthorizerAppid};

/// How far a message's signed timestamp may be from now. WeChat sends a message again within
/// about 15 seconds when it gets no answer; five minutes also absorbs clock skew. A replay inside
/// the window is caught by its id (recorded for twice the window), one outside it by the window.
pub const MESSAGE_WINDOW: Duration = Duration::from_secs(300);

/// What to answer WeChat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageAnswer {
    /// A passive reply: the encrypted body, in the format the message came in.
    Reply(String),
    /// An empty body: handled, nothing to reply (the release test's API case).
    Empty,
    /// `success`: published for other services.
    Published,
}

/// The `messages` use case.
#[derive(Clone)]
pub struct Messages {
    crypto: MsgCrypto,
    api: ComponentApi,
    authorizers: Arc<dyn AuthorizerStore>,
    once: Arc<dyn OnceStore>,
    exchanger: Arc<Exchanger>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl Messages {
    /// The use case with the platform's message crypto, the component's calls (the release
    /// test's customer-service message), the authorizer store, the record of messages taken,
    /// the exchanger and where events go.
    pub fn new(
        crypto: MsgCrypto,
        api: ComponentApi,
        authorizers: Arc<dyn AuthorizerStore>,
        once: Arc<dyn OnceStore>,
        exchanger: Arc<Exchanger>,
        publisher: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            crypto,
            api,
            authorizers,
            once,
            exchanger,
            publisher,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same use case reading time from `clock` (the timestamp window).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Verifies, decrypts and answers a message sent to `appid`'s message URL, once: a
    /// message outside the timestamp window is refused, and a replay of one already taken is
    /// answered `success` without publishing or sending anything again.
    pub async fn handle(
        &self,
        appid: &AuthorizerAppid,
        push: &SignedPush<'_>,
    ) -> Result<MessageAnswer, ServiceError> {
        let (text, format) = self.crypto.open_message(push)?;
        let now = self.clock.now();
        within_window(push.timestamp.unwrap_or_default(), now)?;
        let message = AuthorizerMessage::parse(&text, format).map_err(PushError::Malformed)?;
        tracing::info!(authorizer = %appid, msg_type = %message.msg_type, event = message.event.as_deref(), "message verified");
        // Taken once by the id the published event carries (WeChat's own deduplication key).
        let key = secret_hash(&message_id(appid, &message));
        let taken = Use {
            kind: OnceKind::Message,
            key: &key,
            until: now.plus(MESSAGE_WINDOW * 2),
            now,
        };
        if !self.once.first_use(&taken).await? {
            tracing::info!(authorizer = %appid, "message already taken: answered without publishing or sending again");
            return Ok(MessageAnswer::Published);
        }
        let answer = self.take(appid, &message).await;
        if answer.is_err() {
            // Not taken after all: WeChat's retry must be.
            if let Err(e) = self.once.forget_use(OnceKind::Message, &key).await {
                tracing::error!(authorizer = %appid, error = %e, "a failed message stays recorded: WeChat's retry will be answered without being taken");
            }
        }
        answer
    }

    async fn take(
        &self,
        appid: &AuthorizerAppid,
        message: &AuthorizerMessage,
    ) -> Result<MessageAnswer, ServiceError> {
        if test_account(appid.as_str()).is_some() {
            if let Some(case) = ReleaseCase::of(message) {
                return self.release_test(appid, message, case).await;
            }
        } else {
            self.require_account(appid, message).await?;
        }
        let detail = MessageDetail::of(self.crypto.appid().clone(), appid.clone(), message);
        let event = Outgoing::new(MESSAGE, &detail, Timestamp::from_secs(message.create_time));
        if let Some(Err(e)) = self.publisher.publish(&[event]).await.pop() {
            tracing::error!(authorizer = %appid, error = %e, "message not published; WeChat will send it again");
            return Err(e.into());
        }
        Ok(MessageAnswer::Published)
    }

    /// Messages are taken only for accounts that authorized the platform and did not revoke,
    /// and only at the account's own URL: the path's AppID is not signed, the message's
    /// `ToUserName` (the account's original id) is. The original id comes from the stored info
    /// snapshot, or once from `api_get_authorizer_info`, saved as the snapshot.
    async fn require_account(
        &self,
        appid: &AuthorizerAppid,
        message: &AuthorizerMessage,
    ) -> Result<(), ServiceError> {
        let stored = match self.authorizers.load_authorizer(appid).await? {
            None => return Err(AuthorizerError::Unknown(appid.clone()).into()),
            Some(a) if a.record.status == AuthorizerStatus::Revoked => {
                return Err(AuthorizerError::Revoked(appid.clone()).into())
            }
            Some(a) => a,
        };
        let stored_id = stored
            .info
            .as_ref()
            .and_then(|info| original_id(&info.json));
        let original_id = match stored_id {
            Some(id) => id,
            None => {
                let (info, _) = fetch_info(&self.api, &*self.authorizers, appid).await?;
                info.authorizer_info.profile().user_name.clone()
            }
        };
        if original_id != message.to_user_name {
            return Err(PushError::WrongAccount {
                appid: appid.to_string(),
                to_user_name: message.to_user_name.chars().take(40).collect(),
            }
            .into());
        }
        Ok(())
    }

    /// The release test's cases, answered whether or not the test account is stored yet.
    async fn release_test(
        &self,
        appid: &AuthorizerAppid,
        message: &AuthorizerMessage,
        case: ReleaseCase,
    ) -> Result<MessageAnswer, ServiceError> {
        match case {
            ReleaseCase::Reply(content) => {
                tracing::info!(authorizer = %appid, "release test: passive reply");
                let now = Timestamp::now().secs();
                let reply = TextReply::to(message, content, now).render(message.format);
                let nonce = format!("{:010}", rand::random::<u32>());
                Ok(MessageAnswer::Reply(self.crypto.seal_reply(
                    &reply,
                    message.format,
                    &now.to_string(),
                    &nonce,
                )))
            }
            ReleaseCase::QueryAuthCode(code) => {
                // The exchange stores the test account like any authorization and leaves its
                // access token in this container's memory, so the send needs no read.
                let record = self
                    .exchanger
                    .exchange_or_find(&AuthorizationCode::new(code.clone()), None)
                    .await?;
                let reply = CustomTextMessage::new(
                    message.from_user_name.clone(),
                    format!("{code}{QUERY_AUTH_CODE_REPLY_SUFFIX}"),
                );
                self.api
                    .send_custom_message(&record.authorizer_appid, &reply)
                    .await?;
                tracing::info!(authorizer = %record.authorizer_appid, "release test: code exchanged and customer-service message sent");
                Ok(MessageAnswer::Empty)
            }
        }
    }
}

/// The original id (`authorizer_info.user_name`) in a stored info snapshot, read without
/// parsing the rest of the profile on every message.
fn original_id(snapshot_json: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Snapshot {
        authorizer_info: Profile,
    }
    #[derive(serde::Deserialize)]
    struct Profile {
        #[serde(default)]
        user_name: String,
    }
    let snapshot: Snapshot = serde_json::from_str(snapshot_json).ok()?;
    Some(snapshot.authorizer_info.user_name).filter(|id| !id.is_empty())
}

/// Refuses a signed timestamp more than [`MESSAGE_WINDOW`] from `now`.
fn within_window(timestamp: &str, now: Timestamp) -> Result<(), PushError> {
    let refused = || PushError::OutOfWindow {
        timestamp: timestamp.chars().take(20).collect(),
        window_secs: MESSAGE_WINDOW.as_secs(),
    };
    let at: i64 = timestamp.trim().parse().map_err(|_| refused())?;
    if now.secs().abs_diff(at) > MESSAGE_WINDOW.as_secs() {
        return Err(refused());
    }
    Ok(())
}
