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
use crate::tokens::{ComponentApi, TokenManager, TokenSettings};
use crate::wechat::{WeChatApi, WeChatError};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wxopen_models::api::*;
use wxopen_models::{AccessToken, ComponentAppid, Secret, VerifyTicket};

const INFO: &str =
    include_str!("../../../../models/tests/fixtures/authorizer_info_mini_program.json");
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_svc").unwrap()
}

fn appid(s: &str) -> wxopen_models::AuthorizerAppid {
    wxopen_models::AuthorizerAppid::parse(s).unwrap()
}

/// WeChat in process: counts calls, issues numbered tokens, and can be told to refuse.
#[derive(Default)]
struct FakeWeChat {
    calls: Mutex<HashMap<&'static str, usize>>,
    issued: AtomicU64,
    used_codes: Mutex<HashSet<String>>,
    /// Answer 40001 to the next component-token call that uses this token.
    refuse_token_once: Mutex<Option<String>>,
    refresh_refused: AtomicBool,
    rotate_refresh: AtomicBool,
    /// Authorizers `api_get_authorizer_list` reports.
    listed: Mutex<Vec<AuthorizerListItem>>,
    /// How long `api_get_authorizer_list` takes.
    list_delay: Mutex<Duration>,
    /// `api_get_authorizer_list` at this offset answers -1 (busy) once.
    list_busy_at: Mutex<Option<u32>>,
    /// Customer-service messages sent, with the token each was sent with.
    sent: Mutex<Vec<(String, CustomTextMessage)>>,
    /// Quota resets asked for.
    quota_resets: Mutex<Vec<ClearQuotaRequest>>,
}

impl FakeWeChat {
    fn total(&self) -> usize {
        self.calls.lock().unwrap().values().sum()
    }

    fn count(&self, endpoint: &'static str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    fn called(
        &self,
        endpoint: &'static str,
        token: Option<&AccessToken>,
    ) -> Result<u64, WeChatError> {
        *self.calls.lock().unwrap().entry(endpoint).or_default() += 1;
        let mut refuse = self.refuse_token_once.lock().unwrap();
        if token.is_some_and(|t| refuse.as_deref() == Some(t.expose())) {
            *refuse = None;
            return Err(WeChatError::AccessTokenInvalid {
                endpoint,
                errcode: 40001,
            });
        }
        Ok(self.issued.fetch_add(1, Ordering::SeqCst) + 1)
    }
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

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("a valid fake answer")
}

#[async_trait]
impl WeChatApi for FakeWeChat {
    async fn component_token(
        &self,
        _: &ComponentTokenRequest,
    ) -> Result<ComponentTokenResponse, WeChatError> {
        let n = self.called("api_component_token", None)?;
        Ok(parse(
            serde_json::json!({"component_access_token": format!("ct-{n}"), "expires_in": 7200}),
        ))
    }

    async fn create_pre_auth_code(
        &self,
        t: &AccessToken,
        _: &CreatePreAuthCodeRequest,
    ) -> Result<CreatePreAuthCodeResponse, WeChatError> {
        let n = self.called("api_create_preauthcode", Some(t))?;
        Ok(parse(
            serde_json::json!({"pre_auth_code": format!("pre-{n}"), "expires_in": 1800}),
        ))
    }

    async fn query_auth(
        &self,
        t: &AccessToken,
        req: &QueryAuthRequest,
    ) -> Result<QueryAuthResponse, WeChatError> {
        self.called("api_query_auth", Some(t))?;
        let code = req.authorization_code.expose().to_owned();
        if !self.used_codes.lock().unwrap().insert(code.clone()) {
            return Err(WeChatError::AuthCodeInvalid);
        }
        let app = code.strip_prefix("code-").unwrap_or("wxunknownapp");
        Ok(parse(serde_json::json!({"authorization_info": {
            "authorizer_appid": app, "authorizer_access_token": format!("at-{app}"), "expires_in": 7200,
            "authorizer_refresh_token": format!("rt-{app}"),
            "func_info": [{"funcscope_category": {"id": 1}}, {"funcscope_category": {"id": 18}}]
        }})))
    }

    async fn authorizer_token(
        &self,
        t: &AccessToken,
        req: &AuthorizerTokenRequest,
    ) -> Result<AuthorizerTokenResponse, WeChatError> {
        let n = self.called("api_authorizer_token", Some(t))?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if self.refresh_refused.load(Ordering::SeqCst) {
            return Err(WeChatError::RefreshTokenInvalid);
        }
        let refresh = if self.rotate_refresh.load(Ordering::SeqCst) {
            format!("rt-rotated-{n}")
        } else {
            req.authorizer_refresh_token.expose().to_owned()
        };
        Ok(parse(
            serde_json::json!({"authorizer_access_token": format!("at-{n}"), "expires_in": 7200, "authorizer_refresh_token": refresh}),
        ))
    }

    async fn get_authorizer_info(
        &self,
        t: &AccessToken,
        _: &GetAuthorizerInfoRequest,
    ) -> Result<GetAuthorizerInfoResponse, WeChatError> {
        self.called("api_get_authorizer_info", Some(t))?;
        Ok(serde_json::from_str(INFO).expect("the seed example parses"))
    }

    async fn get_authorizer_list(
        &self,
        t: &AccessToken,
        req: &GetAuthorizerListRequest,
    ) -> Result<GetAuthorizerListResponse, WeChatError> {
        self.called("api_get_authorizer_list", Some(t))?;
        let delay = *self.list_delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        if self
            .list_busy_at
            .lock()
            .unwrap()
            .take_if(|at| *at == req.offset)
            .is_some()
        {
            return Err(WeChatError::Busy {
                endpoint: "api_get_authorizer_list",
                attempts: 3,
            });
        }
        let listed = self.listed.lock().unwrap();
        let page: Vec<_> = listed
            .iter()
            .skip(req.offset as usize)
            .take(req.count as usize)
            .cloned()
            .collect();
        Ok(GetAuthorizerListResponse {
            total_count: listed.len() as u64,
            list: page,
        })
    }

    async fn get_authorizer_option(
        &self,
        _: &AccessToken,
        _: &GetAuthorizerOptionRequest,
    ) -> Result<GetAuthorizerOptionResponse, WeChatError> {
        unimplemented!("no service calls options")
    }

    async fn set_authorizer_option(
        &self,
        _: &AccessToken,
        _: &SetAuthorizerOptionRequest,
    ) -> Result<(), WeChatError> {
        unimplemented!("no service calls options")
    }

    async fn call_raw(
        &self,
        req: &crate::wechat::RawRequest<'_>,
    ) -> Result<crate::wechat::RawResponse, WeChatError> {
        // A token told to be refused answers 40001 in the body, as WeChat does.
        let body = match self.called("call_raw", Some(req.token)) {
            Err(_) => serde_json::json!({"errcode": 40001, "errmsg": "invalid credential"}),
            Ok(_) => serde_json::json!({"errcode": 0, "errmsg": "ok", "token": req.token_param}),
        };
        Ok(crate::wechat::RawResponse {
            status: 200,
            content_type: "application/json".into(),
            body: body.to_string().into_bytes(),
        })
    }

    async fn clear_quota(&self, req: &ClearQuotaRequest) -> Result<(), WeChatError> {
        self.called("clear_quota/v2", None)?;
        self.quota_resets.lock().unwrap().push(req.clone());
        Ok(())
    }

    async fn start_push_ticket(&self, _: &StartPushTicketRequest) -> Result<(), WeChatError> {
        self.called("api_start_push_ticket", None)?;
        Ok(())
    }

    async fn send_custom_message(
        &self,
        t: &AccessToken,
        msg: &CustomTextMessage,
    ) -> Result<(), WeChatError> {
        self.called("message/custom/send", Some(t))?;
        self.sent
            .lock()
            .unwrap()
            .push((t.expose().to_owned(), msg.clone()));
        Ok(())
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
        let api = ComponentApi::new(tokens, self.wechat.clone());
        let exchanger = Arc::new(Exchanger::new(api.clone(), store.clone()));
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
        };
        Instance {
            authorizers: Authorizers::new(api.clone(), store.clone(), store.clone()),
            authorization: Authorization::new(
                exchanger.clone(),
                StateSigner::new(Secret::new("s".repeat(32))),
                pages,
            ),
            pushes: Pushes::new(crypto.clone(), store.clone(), exchanger.clone()),
            messages: Messages::new(
                crypto.clone(),
                exchanger.clone(),
                Arc::new(self.publisher.clone()),
            ),
            refresher: Refresher::new(api.clone(), store.clone(), self.reconcile),
            exchanger,
            api,
            crypto,
        }
    }
}
