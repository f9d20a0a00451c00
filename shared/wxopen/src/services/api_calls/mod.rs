//! Calling WeChat for other functions: `authorizer-api` (any API as an authorizer) and
//! `component-api` (the component-token APIs, with typed operations for Mini Program login,
//! web OAuth and authorizer options). Every call is audited in one log line: who, which path,
//! the status, the errcode and the latency, never a token, a code, a query value or a body.

mod guard;
mod options;
mod quota;
mod templates;

pub use templates::TemplateOp;

use super::{Registrations, ServiceError};
use crate::clock::Timestamp;
use crate::store::OnceStore;
use crate::tokens::{ComponentApi, TokenManager};
use crate::wechat::{RawResponse, WeChatError};
use guard::{refuse_credential_endpoint, scrub, Proxy};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;
use wxopen_models::calls::{
    ApiAnswer, ApiCall, CallError, CheckedCall, Method, OAuthGrant, Session,
};
use wxopen_models::envelope::{parse_response, ResponseError};
use wxopen_models::{AuthorizerAppid, ComponentAppid};

/// Where a person's browser starts web OAuth on behalf of an Official Account.
pub const OAUTH_AUTHORIZE_URL: &str = "https://open.weixin.qq.com/connect/oauth2/authorize";

fn refused(e: CallError) -> ServiceError {
    let code = match e {
        CallError::Path { .. } => "invalid_path",
        CallError::Token { .. } => "token_in_request",
        CallError::QueryValue(_) => "invalid_query",
        CallError::BodyOnGet => "invalid_body",
    };
    ServiceError::invalid(code, e.to_string())
}

/// The forwarded answer without credential fields; a removal is logged (how many, not what).
fn scrubbed(mut answer: ApiAnswer, path: &str) -> ApiAnswer {
    let removed = scrub(&mut answer);
    if removed > 0 {
        tracing::warn!(
            path,
            removed,
            "credential fields removed from a forwarded answer"
        );
    }
    answer
}

fn audit(
    authorizer: Option<&AuthorizerAppid>,
    call: &CheckedCall,
    result: &Result<RawResponse, ServiceError>,
    started: Instant,
) {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let who = authorizer.map(|a| a.as_str()).unwrap_or("component");
    match result {
        Ok(resp) => tracing::info!(
            caller_of = who,
            path = %call.path,
            method = ?call.method,
            status = resp.status,
            errcode = resp.errcode().unwrap_or(0),
            latency_ms,
            "WeChat API called"
        ),
        Err(e) => tracing::warn!(
            caller_of = who,
            path = %call.path,
            method = ?call.method,
            error = %e,
            latency_ms,
            "WeChat API call failed"
        ),
    }
}

/// The `authorizer-api` use case.
#[derive(Clone)]
pub struct AuthorizerCalls {
    api: ComponentApi,
}

impl AuthorizerCalls {
    /// Calls through `api` (its token manager and WeChat client).
    pub fn new(api: ComponentApi) -> Self {
        Self { api }
    }

    /// Calls `call` as `appid`, after its checks; nothing is sent when one fails.
    pub async fn call(
        &self,
        appid: &AuthorizerAppid,
        call: &ApiCall,
    ) -> Result<ApiAnswer, ServiceError> {
        let checked = call.check().map_err(refused)?;
        refuse_credential_endpoint(&checked.path, Proxy::Authorizer)?;
        let started = Instant::now();
        let result = self.api.call_as_authorizer(appid, &checked).await;
        audit(Some(appid), &checked, &result, started);
        Ok(scrubbed(result?.into_answer(), &checked.path))
    }
}

/// The `component-api` use case.
#[derive(Clone)]
pub struct ComponentCalls {
    api: ComponentApi,
    tokens: Arc<TokenManager>,
    once: Arc<dyn OnceStore>,
    registrations: Registrations,
}

/// The component's web APIs (`/sns/...`) take `component_appid` in the query.
fn takes_component_appid_in_query(path: &str) -> bool {
    path.starts_with("/sns/")
}

impl ComponentCalls {
    /// Calls through `api`; quota resets through `tokens` (they use the platform's secret),
    /// within the budget kept in `once`; Mini Programs registered through `registrations`.
    pub fn new(
        api: ComponentApi,
        tokens: Arc<TokenManager>,
        once: Arc<dyn OnceStore>,
        registrations: Registrations,
    ) -> Self {
        Self {
            api,
            tokens,
            once,
            registrations,
        }
    }

    /// Registering Mini Programs for the platform's customers.
    pub fn registrations(&self) -> &Registrations {
        &self.registrations
    }

    fn component(&self) -> ComponentAppid {
        self.api.component()
    }

    /// Calls `call` as the platform: `component_access_token` injected, and `component_appid`
    /// added where the API takes it (the query of `/sns/...`, a POST body without one). Endpoints
    /// handing out the platform's credentials are refused; tokens in the answer are removed.
    pub async fn call(&self, call: &ApiCall) -> Result<ApiAnswer, ServiceError> {
        let mut call = call.clone();
        if let Some(Value::Object(body)) = &mut call.body {
            body.entry("component_appid")
                .or_insert_with(|| Value::String(self.component().to_string()));
        }
        let answer = self.send(&call).await?.into_answer();
        Ok(scrubbed(answer, &call.path))
    }

    async fn send(&self, call: &ApiCall) -> Result<RawResponse, ServiceError> {
        let checked = call.check().map_err(refused)?;
        refuse_credential_endpoint(&checked.path, Proxy::Component)?;
        let component = self.component();
        let extra: Vec<(&'static str, &str)> = if takes_component_appid_in_query(&checked.path)
            && !checked.query.iter().any(|(k, _)| k == "component_appid")
        {
            vec![("component_appid", component.as_str())]
        } else {
            Vec::new()
        };
        let started = Instant::now();
        let result = self.api.call_as_component(&checked, &extra).await;
        audit(None, &checked, &result, started);
        result
    }

    async fn typed<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: &str,
        query: Map<String, Value>,
    ) -> Result<T, ServiceError> {
        let call = ApiCall {
            path: path.to_owned(),
            method: Method::Get,
            query,
            body: None,
            retry: false,
        };
        let resp = self.send(&call).await?;
        parse_response::<T>(&resp.body).map_err(|e| {
            ServiceError::WeChat(match e {
                ResponseError::WeChat(body) => WeChatError::from_body(endpoint, body, 1),
                ResponseError::NotJson { snippet } => WeChatError::NotJson { endpoint, snippet },
                ResponseError::UnexpectedShape { reason } => {
                    WeChatError::UnexpectedShape { endpoint, reason }
                }
            })
        })
    }

    /// Mini Program login for an authorized Mini Program (`/sns/component/jscode2session`).
    pub async fn jscode2session(
        &self,
        appid: &AuthorizerAppid,
        js_code: &str,
    ) -> Result<Session, ServiceError> {
        let endpoint = ("jscode2session", "/sns/component/jscode2session");
        self.on_behalf(appid, endpoint, ("js_code", js_code)).await
    }

    /// Web OAuth on behalf of an Official Account: the code the browser brought back
    /// (`/sns/oauth2/component/access_token`).
    pub async fn oauth_exchange(
        &self,
        appid: &AuthorizerAppid,
        code: &str,
    ) -> Result<OAuthGrant, ServiceError> {
        let endpoint = (
            "oauth2/component/access_token",
            "/sns/oauth2/component/access_token",
        );
        self.on_behalf(appid, endpoint, ("code", code)).await
    }

    /// A code grant sent with the component's token on `appid`'s behalf: refused, with nothing
    /// sent, for an unknown, revoked or reauth-needing account, like every call with its own
    /// token.
    async fn on_behalf<T: DeserializeOwned>(
        &self,
        appid: &AuthorizerAppid,
        (endpoint, path): (&'static str, &str),
        (name, code): (&str, &str),
    ) -> Result<T, ServiceError> {
        self.tokens.require_usable(appid).await?;
        let query = json!({"appid": appid, name: code, "grant_type": "authorization_code"});
        self.typed(endpoint, path, object(query)).await
    }

    /// The URL a person's browser opens to start web OAuth on behalf of `appid`.
    pub fn oauth_url(
        &self,
        appid: &AuthorizerAppid,
        redirect_uri: &url::Url,
        scope: &str,
        state: &str,
    ) -> Result<String, ServiceError> {
        if scope != "snsapi_base" && scope != "snsapi_userinfo" {
            return Err(ServiceError::invalid(
                "invalid_scope",
                format!(
                    "scope {:?} is not snsapi_base or snsapi_userinfo",
                    scope.chars().take(40).collect::<String>()
                ),
            ));
        }
        if state.len() > 128 || !state.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ServiceError::invalid(
                "invalid_state_parameter",
                "state must be at most 128 letters and digits (WeChat's limit)",
            ));
        }
        let mut url = url::Url::parse(OAUTH_AUTHORIZE_URL).expect("a valid constant");
        url.query_pairs_mut()
            .append_pair("appid", appid.as_str())
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("response_type", "code")
            .append_pair("scope", scope)
            .append_pair("state", state)
            .append_pair("component_appid", self.component().as_str());
        url.set_fragment(Some("wechat_redirect"));
        Ok(url.to_string())
    }

    /// Resets the daily API quotas of `appid`, or of the platform (`clear_quota/v2`), for when
    /// WeChat answers 45009, within the budget (`quota.rs`: one a day, eight a month per
    /// account, two of WeChat's ten left to the console). One audit line per attempt.
    pub async fn clear_quota(&self, appid: Option<&AuthorizerAppid>) -> Result<(), ServiceError> {
        let claimed = match quota::claim(&*self.once, appid, Timestamp::now()).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(audit = "clear_quota", appid = appid.map(AuthorizerAppid::as_str), error = %e, "quota reset refused by the budget");
                return Err(e);
            }
        };
        let result = self.tokens.clear_quota(appid).await;
        if result.is_err() {
            quota::give_back(&*self.once, claimed).await;
        }
        match &result {
            Ok(()) => tracing::warn!(
                audit = "clear_quota",
                appid = appid.map(AuthorizerAppid::as_str),
                "daily API quotas reset"
            ),
            Err(e) => {
                tracing::warn!(audit = "clear_quota", appid = appid.map(AuthorizerAppid::as_str), error = %e, "quota reset refused")
            }
        }
        result
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
