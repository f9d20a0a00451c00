//! Stand-ins for tests in this crate and in the functions' crates (feature `testkit`): WeChat
//! in process, counting calls and refusing on request, so services and handlers are tested on
//! the memory store without any server.

use crate::clock::{Clock, Timestamp};
use crate::wechat::{RawRequest, RawResponse, WeChatApi, WeChatError};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use wxopen_models::api::*;
use wxopen_models::envelope::ErrorBody;
use wxopen_models::AccessToken;

/// A scripted answer for one call to an endpoint, given before the fake's own.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This body, as the endpoint's answer.
    Json(serde_json::Value),
    /// This error code, mapped as the HTTP client maps WeChat's error object.
    Errcode(i64),
}

/// The seed's `api_get_authorizer_info` answer (a Mini Program), as the fake returns it.
pub const INFO: &str =
    include_str!("../../models/tests/fixtures/authorizer_info_mini_program.json");
/// The seed's `api_get_authorizer_info` answer for an Official Account.
pub const INFO_OFFICIAL_ACCOUNT: &str =
    include_str!("../../models/tests/fixtures/authorizer_info_official_account.json");
/// The seed's `api_query_auth` answer (the Official Account `wxf8b4f85f3a794e77`).
pub const QUERY_AUTH: &str = include_str!("../../models/tests/fixtures/query_auth.json");
/// The account of the seed's answers.
pub const SEED_APPID: &str = "wxf8b4f85f3a794e77";
/// The original id (`user_name`, the `ToUserName` of its messages) in the seed's info answers.
pub const SEED_USER_NAME: &str = "gh_eb5e3a772040";

/// WeChat in process: counts calls, issues numbered tokens, and can be told to refuse.
#[derive(Default)]
pub struct FakeWeChat {
    calls: Mutex<HashMap<&'static str, usize>>,
    issued: AtomicU64,
    used_codes: Mutex<HashSet<String>>,
    /// Answer 40001 to the next component-token call that uses this token.
    pub refuse_token_once: Mutex<Option<String>>,
    /// Answer 61023 (refresh token invalid) to every authorizer-token call.
    pub refresh_refused: AtomicBool,
    /// Issue a new refresh token with each authorizer token.
    pub rotate_refresh: AtomicBool,
    /// Authorizers `api_get_authorizer_list` reports.
    pub listed: Mutex<Vec<AuthorizerListItem>>,
    /// How long `api_get_authorizer_list` takes.
    pub list_delay: Mutex<Duration>,
    /// `api_get_authorizer_list` at this offset answers -1 (busy) once.
    pub list_busy_at: Mutex<Option<u32>>,
    /// Customer-service messages sent, with the token each was sent with.
    pub sent: Mutex<Vec<(String, CustomTextMessage)>>,
    /// Quota resets asked for.
    pub quota_resets: Mutex<Vec<ClearQuotaRequest>>,
    /// Calls sent through `call_raw`, in order: what WeChat received, but the token.
    pub raw_sent: Mutex<Vec<RawSent>>,
    script: Mutex<HashMap<&'static str, VecDeque<Reply>>>,
}

/// A call `call_raw` received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSent {
    /// The path.
    pub path: String,
    /// The query parameter the token was in.
    pub token_param: &'static str,
    /// The query, without the token.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Option<serde_json::Value>,
}

impl FakeWeChat {
    /// Calls made, all endpoints together.
    pub fn total(&self) -> usize {
        self.calls.lock().unwrap().values().sum()
    }

    /// Calls made to `endpoint`.
    pub fn count(&self, endpoint: &'static str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// The next calls to `endpoint` get `replies`, one each, before the fake answers again.
    pub fn script(&self, endpoint: &'static str, replies: impl IntoIterator<Item = Reply>) {
        self.script
            .lock()
            .unwrap()
            .entry(endpoint)
            .or_default()
            .extend(replies);
    }

    /// The next exchange answers as the seed's example does (its Official Account, permissions
    /// 1, 2 and 3), and the next profile read with that account's profile.
    pub fn answer_like_the_seed(&self) {
        let json = |text: &str| serde_json::from_str(text).expect("the seed's example parses");
        self.script("api_query_auth", [Reply::Json(json(QUERY_AUTH))]);
        self.script(
            "api_get_authorizer_info",
            [Reply::Json(json(INFO_OFFICIAL_ACCOUNT))],
        );
    }

    /// The scripted answer for this call to `endpoint`, if one is left.
    fn scripted<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
    ) -> Result<Option<T>, WeChatError> {
        let reply = self
            .script
            .lock()
            .unwrap()
            .get_mut(endpoint)
            .and_then(VecDeque::pop_front);
        match reply {
            None => Ok(None),
            Some(Reply::Json(body)) => Ok(Some(parse(body))),
            Some(Reply::Errcode(errcode)) => Err(WeChatError::from_body(
                endpoint,
                ErrorBody {
                    errcode,
                    errmsg: "scripted".into(),
                },
                1,
            )),
        }
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
        if let Some(answer) = self.scripted("api_component_token")? {
            return Ok(answer);
        }
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
        if let Some(answer) = self.scripted("api_create_preauthcode")? {
            return Ok(answer);
        }
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
        if let Some(answer) = self.scripted("api_query_auth")? {
            return Ok(answer);
        }
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
        if let Some(answer) = self.scripted("api_authorizer_token")? {
            return Ok(answer);
        }
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
        if let Some(answer) = self.scripted("api_get_authorizer_info")? {
            return Ok(answer);
        }
        Ok(serde_json::from_str(INFO).expect("the seed example parses"))
    }

    async fn get_authorizer_list(
        &self,
        t: &AccessToken,
        req: &GetAuthorizerListRequest,
    ) -> Result<GetAuthorizerListResponse, WeChatError> {
        self.called("api_get_authorizer_list", Some(t))?;
        if let Some(answer) = self.scripted("api_get_authorizer_list")? {
            return Ok(answer);
        }
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

    async fn call_raw(&self, req: &RawRequest<'_>) -> Result<RawResponse, WeChatError> {
        // A token told to be refused answers 40001 in the body, as WeChat does.
        let called = self.called("call_raw", Some(req.token));
        self.raw_sent.lock().unwrap().push(RawSent {
            path: req.call.path.clone(),
            token_param: req.token_param,
            query: req.call.query.clone(),
            body: req
                .call
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok()),
        });
        let scripted = match called {
            Ok(_) => self
                .script
                .lock()
                .unwrap()
                .get_mut("call_raw")
                .and_then(VecDeque::pop_front),
            Err(_) => None,
        };
        let body = match (called, scripted) {
            (Err(_), _) => serde_json::json!({"errcode": 40001, "errmsg": "invalid credential"}),
            (Ok(_), Some(Reply::Json(body))) => body,
            (Ok(_), Some(Reply::Errcode(errcode))) => {
                serde_json::json!({"errcode": errcode, "errmsg": "scripted"})
            }
            (Ok(_), None) => serde_json::json!({
                "errcode": 0, "errmsg": "ok", "token": req.token_param,
                "sent_with": req.token.expose(), "path": req.call.path,
                "echo": req.call.body.as_deref().and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok()),
            }),
        };
        Ok(RawResponse {
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

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock at the system's now.
    pub fn new() -> Self {
        Self {
            now: Mutex::new(Timestamp::now()),
        }
    }

    /// Sets the clock to `at`, earlier or later.
    pub fn set(&self, at: Timestamp) {
        *self.now.lock().unwrap() = at;
    }

    /// Moves the clock `by` forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap();
        *now = now.plus(by);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap()
    }
}
