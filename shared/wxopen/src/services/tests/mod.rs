//! The services against the memory store and an in-process WeChat: the authorization, token
//! and push rules in milliseconds, without any server.

mod api_calls;
mod authorization;
mod binding;
mod messages;
mod pushes;
mod reconcile;
mod telemetry;
mod tokens;

use super::*;
use crate::clock::Timestamp;
use crate::msg_crypto::{EncodingAesKey, MsgCrypto};
use crate::publish::MemoryPublisher;
use crate::state::StateSigner;
use crate::store::{MemoryStore, TicketStore};
use crate::testing::FakeWeChat;
use crate::tokens::{ComponentApi, TokenManager, TokenSettings};
use crate::wechat::WeChatError;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::{AccessToken, ComponentAppid, Secret, VerifyTicket};
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_svc").unwrap()
}

fn appid(s: &str) -> wxopen_models::AuthorizerAppid {
    wxopen_models::AuthorizerAppid::parse(s).unwrap()
}

/// The query of a URL.
fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A sealed push or message as the function receives it: the query's parameters and the body.
fn signed(sealed: &crate::msg_crypto::SealedPush) -> crate::msg_crypto::SignedPush<'_> {
    crate::msg_crypto::SignedPush {
        timestamp: Some(&sealed.timestamp),
        nonce: Some(&sealed.nonce),
        msg_signature: Some(&sealed.msg_signature),
        encrypt_type: Some("aes"),
        body: sealed.body.as_bytes(),
    }
}

impl Instance {
    /// Authorizes `app` as the fake WeChat answers its code `code-<app>`, at `at`.
    async fn authorized(
        &self,
        app: &str,
        at: Timestamp,
    ) -> wxopen_models::records::AuthorizerRecord {
        let code = wxopen_models::AuthorizationCode::new(format!("code-{app}"));
        self.exchanger.exchange(&code, at, None).await.unwrap()
    }
}

/// One platform on shared memory and one WeChat; `instance()` builds another container.
struct World {
    store: MemoryStore,
    wechat: Arc<FakeWeChat>,
    publisher: MemoryPublisher,
    reconcile: ReconcileSettings,
}

/// One container's services.
struct Instance {
    api: ComponentApi,
    exchanger: Arc<Exchanger>,
    authorizers: Authorizers,
    authorization: Authorization,
    pushes: Pushes,
    messages: Messages,
    refresher: Refresher,
    crypto: MsgCrypto,
    store: Arc<MemoryStore>,
    tokens: Arc<TokenManager>,
}

impl Instance {
    /// `component-api`'s use case over this container.
    fn component_calls(&self) -> ComponentCalls {
        let registrations = Registrations::new(self.api.clone(), self.store.clone());
        ComponentCalls::new(
            self.api.clone(),
            self.tokens.clone(),
            self.store.clone(),
            registrations,
        )
    }
}

impl World {
    async fn new() -> Self {
        let w = Self::without_ticket();
        w.store
            .save_ticket(&VerifyTicket::new("ticket"), Timestamp::now())
            .await
            .unwrap();
        w
    }

    /// A fresh platform whose ticket has not arrived yet.
    fn without_ticket() -> Self {
        Self {
            store: MemoryStore::new(component()),
            wechat: Arc::default(),
            publisher: MemoryPublisher::default(),
            reconcile: ReconcileSettings {
                safety_margin: Duration::ZERO,
                ..ReconcileSettings::default()
            },
        }
    }

    /// `app` authorized through one container, its access token then dropped: the next
    /// request in any container must refresh it.
    async fn authorized_with_expired_token(&self, app: &str) {
        self.instance().authorized(app, Timestamp::now()).await;
        self.expire(app, &AccessToken::new(format!("at-{app}")))
            .await;
    }

    /// What is stored for `app`, which must be stored.
    async fn stored(&self, app: &str) -> crate::store::StoredAuthorizer {
        use crate::store::AuthorizerStore;
        let stored = self.store.load_authorizer(&appid(app)).await.unwrap();
        stored.unwrap_or_else(|| panic!("{app} is stored"))
    }

    /// Drops `app`'s stored access token `token`.
    async fn expire(&self, app: &str, token: &AccessToken) {
        use crate::store::{TokenKey, TokenStore};
        self.store
            .drop_token(&TokenKey::Authorizer(appid(app)), token)
            .await
            .unwrap();
    }

    fn instance(&self) -> Instance {
        let store = Arc::new(self.store.clone());
        let settings = TokenSettings {
            wait: Duration::from_secs(5),
            poll: Duration::from_millis(5),
            ..TokenSettings::default()
        };
        let platform = (component(), Secret::new("appsecret"));
        let tokens = Arc::new(TokenManager::new(
            store.clone(),
            self.wechat.clone(),
            platform,
            settings,
        ));
        let api = ComponentApi::new(tokens.clone(), self.wechat.clone());
        let exchanger = Exchanger::new(api.clone(), tokens.clone(), store.clone(), store.clone());
        let exchanger = Arc::new(exchanger);
        let crypto = MsgCrypto::new(
            Secret::new("msg-token"),
            EncodingAesKey::parse(AES_KEY).unwrap(),
            None,
            component(),
        );
        let pages = AuthPages {
            page_base: url::Url::parse("https://mp.example").unwrap(),
            callback: Some(url::Url::parse("https://platform.example/wechat/callback").unwrap()),
            success: None,
            success_key: Secret::new("success-key"),
            anonymous: true,
        };
        Instance {
            authorizers: Authorizers::new(
                api.clone(),
                tokens.clone(),
                store.clone(),
                store.clone(),
            ),
            authorization: Authorization::new(
                api.clone(),
                store.clone(),
                store.clone(),
                exchanger.clone(),
                StateSigner::new(Secret::new("s".repeat(32))),
                pages,
            ),
            pushes: Pushes::new(
                crypto.clone(),
                store.clone(),
                store.clone(),
                (tokens.clone(), exchanger.clone()),
                (
                    Arc::new(self.publisher.clone()),
                    Arc::new(Completions::new(
                        component(),
                        (store.clone(), store.clone()),
                        exchanger.clone(),
                        Arc::new(self.publisher.clone()),
                    )),
                ),
            ),
            messages: Messages::new(
                crypto.clone(),
                api.clone(),
                store.clone(),
                store.clone(),
                exchanger.clone(),
                Arc::new(self.publisher.clone()),
            ),
            refresher: Refresher::new(api.clone(), tokens.clone(), store.clone(), self.reconcile),
            exchanger,
            api,
            crypto,
            store,
            tokens,
        }
    }
}
