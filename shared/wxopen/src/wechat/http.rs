//! [`WeChatApi`] over HTTPS with reqwest: one client per container, a timeout on every call,
//! retries for transient failures only.

use super::{AccessPoints, RawRequest, RawResponse, RetryPolicy, WeChatApi, WeChatError};
use async_trait::async_trait;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::api::{
    AuthorizerTokenRequest, AuthorizerTokenResponse, ClearQuotaRequest, ComponentTokenRequest,
    ComponentTokenResponse, CreatePreAuthCodeRequest, CreatePreAuthCodeResponse, CustomTextMessage,
    GetAuthorizerInfoRequest, GetAuthorizerInfoResponse, GetAuthorizerListRequest,
    GetAuthorizerListResponse, GetAuthorizerOptionRequest, GetAuthorizerOptionResponse,
    QueryAuthRequest, QueryAuthResponse, SetAuthorizerOptionRequest, StartPushTicketRequest,
};
use wxopen_models::envelope::{parse_response, ResponseError};
use wxopen_models::AccessToken;

/// The production [`WeChatApi`].
#[derive(Clone)]
pub struct HttpWeChat {
    pub(super) http: reqwest::Client,
    pub(super) points: Arc<AccessPoints>,
    pub(super) retry: RetryPolicy,
}

impl std::fmt::Debug for HttpWeChat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWeChat")
            .field("points", &self.points)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Outcome of one failed attempt: what may be done next.
pub(super) enum Attempt {
    /// The request never reached WeChat (no connection, DNS, TLS, a gateway's 5xx before it):
    /// sent again, at another access point when there is one.
    Undelivered(WeChatError),
    /// The answer was lost after the request left, and the call may be replayed: sent again,
    /// at another access point when there is one.
    Lost(WeChatError),
    /// WeChat answered that it is busy (-1): sent again to the same point, after a pause.
    Transient(WeChatError),
    /// Give up with this error.
    Final(WeChatError),
}

impl HttpWeChat {
    /// The default timeout of one attempt.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A client for `api_base` (`WECHAT_API_BASE`, e.g. `https://api.weixin.qq.com`), with no
    /// other access point.
    pub fn new(api_base: &str, timeout: Duration, retry: RetryPolicy) -> Self {
        Self::with_points(AccessPoints::new(api_base, &[]), timeout, retry)
    }

    /// A client for the access points `points` (`WECHAT_API_BASE`, then
    /// `WECHAT_API_FALLBACK_BASES`).
    pub fn with_points(points: AccessPoints, timeout: Duration, retry: RetryPolicy) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent(concat!("wxopen/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with rustls and no custom roots always builds");
        Self {
            http,
            points: Arc::new(points),
            retry,
        }
    }

    /// Sends an attempt (`send` with the URL of `path` at an access point, and the attempt's
    /// number) until one answers: an undelivered request, or a replayable one whose answer was
    /// lost, moves at once to the next access point (the failed one skipped for a while), a
    /// busy WeChat is asked again after a pause, up to the retry policy's attempts.
    pub(super) async fn with_failover<T, F, Fut>(
        &self,
        path: &str,
        endpoint: &str,
        send: F,
    ) -> Result<T, WeChatError>
    where
        F: Fn(String, u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, Attempt>>,
    {
        let attempts = self.retry.max_attempts.max(1);
        let (mut attempt, mut moves) = (1, 0);
        let mut point = self.points.choose();
        loop {
            let url = format!("{}{path}", self.points.base(point));
            let error = match send(url, attempt).await {
                Ok(answer) => return Ok(answer),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Undelivered(e) | Attempt::Lost(e))
                    if moves + 1 < self.points.len() =>
                {
                    if let Some(next) = self.points.failed(point) {
                        let (from, to) = (self.points.base(point), self.points.base(next));
                        tracing::warn!(endpoint, from, to, error = %e, "WeChat access point failed: moving to the next");
                        crate::telemetry::wechat_failover();
                        (point, moves) = (next, moves + 1);
                        continue;
                    }
                    e
                }
                Err(Attempt::Undelivered(e) | Attempt::Lost(e) | Attempt::Transient(e)) => e,
            };
            if attempt >= attempts {
                return Err(error);
            }
            let delay = self.retry.delay(attempt);
            tracing::warn!(endpoint, attempt, error = %error, delay_ms = delay.as_millis() as u64, "transient WeChat failure, retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn call<Req, Resp>(
        &self,
        endpoint: &'static str,
        token: Option<&AccessToken>,
        body: &Req,
    ) -> Result<Resp, WeChatError>
    where
        Req: Serialize + Sync,
        Resp: DeserializeOwned,
    {
        let path = format!("/cgi-bin/component/{endpoint}");
        let token = token.map(|t| ("component_access_token", t));
        self.call_path(&path, endpoint, token, body).await
    }

    /// One call to `path` with retries and failover; `token` is the query parameter carrying
    /// the token.
    async fn call_path<Req, Resp>(
        &self,
        path: &str,
        endpoint: &'static str,
        token: Option<(&'static str, &AccessToken)>,
        body: &Req,
    ) -> Result<Resp, WeChatError>
    where
        Req: Serialize + Sync,
        Resp: DeserializeOwned,
    {
        self.with_failover(path, endpoint, |url, attempt| async move {
            self.attempt(&url, endpoint, token, body, attempt).await
        })
        .await
    }

    async fn attempt<Req, Resp>(
        &self,
        url: &str,
        endpoint: &'static str,
        token: Option<(&'static str, &AccessToken)>,
        body: &Req,
        attempt: u32,
    ) -> Result<Resp, Attempt>
    where
        Req: Serialize + Sync,
        Resp: DeserializeOwned,
    {
        let mut request = self.http.post(url).json(body);
        if let Some((param, token)) = token {
            request = request.query(&[(param, token.expose())]);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(endpoint, attempt, e, replay_safe(endpoint)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(endpoint, attempt, e, replay_safe(endpoint)))?;
        if status.is_server_error() {
            // WeChat answers its own errors with 200 and an errcode: a 5xx is a gateway's.
            return Err(Attempt::Undelivered(WeChatError::Http {
                endpoint,
                status: status.as_u16(),
                attempts: attempt,
            }));
        }
        if !status.is_success() {
            return Err(Attempt::Final(WeChatError::Http {
                endpoint,
                status: status.as_u16(),
                attempts: attempt,
            }));
        }
        match parse_response::<Resp>(&bytes) {
            Ok(resp) => {
                tracing::debug!(endpoint, attempt, "WeChat call succeeded");
                Ok(resp)
            }
            Err(ResponseError::WeChat(body)) => {
                let error = WeChatError::from_body(endpoint, body, attempt);
                if let Some(errcode) = error.errcode() {
                    crate::telemetry::wechat_error(errcode);
                }
                tracing::info!(
                    endpoint,
                    attempt,
                    errcode = error.errcode(),
                    "WeChat returned an error"
                );
                if matches!(error, WeChatError::Busy { .. }) {
                    Err(Attempt::Transient(error))
                } else {
                    Err(Attempt::Final(error))
                }
            }
            Err(ResponseError::NotJson { snippet }) => {
                Err(Attempt::Final(WeChatError::NotJson { endpoint, snippet }))
            }
            Err(ResponseError::UnexpectedShape { reason }) => {
                Err(Attempt::Final(WeChatError::UnexpectedShape {
                    endpoint,
                    reason,
                }))
            }
        }
    }
}

/// Whether a request whose answer was lost after it was sent (a timeout, a connection broken
/// mid-request) may be sent again. WeChat may have acted on the first one.
fn replay_safe(endpoint: &str) -> bool {
    match endpoint {
        // The authorization code is spent on first use: a replay answers 61009 and the tokens
        // of the first answer are lost. Better to fail and let the push or the person retry.
        "api_query_auth" => false,
        // A second send shows the user the same message twice.
        "message/custom/send" => false,
        // A second reset spends another of the month's ten.
        "clear_quota/v2" => false,
        // Reads, a new pre-auth code, an option set to the same value: harmless twice. A
        // second token refresh returns a valid token and WeChat keeps the previous one valid
        // for a few minutes, so nothing handed out breaks.
        _ => true,
    }
}

/// A transport failure: undelivered when the request never left (a failed connect, DNS, TLS),
/// lost when it left and may be replayed, otherwise final. The URL (which carries the token)
/// is stripped first.
pub(super) fn transport_error(
    endpoint: &'static str,
    attempts: u32,
    e: reqwest::Error,
    replayable: bool,
) -> Attempt {
    let e = e.without_url();
    let sent = !e.is_connect();
    let error = if e.is_timeout() {
        WeChatError::Timeout { endpoint, attempts }
    } else {
        let mut reason = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        WeChatError::Connect {
            endpoint,
            attempts,
            reason,
        }
    };
    match (sent, replayable) {
        (false, _) => Attempt::Undelivered(error),
        (true, true) => Attempt::Lost(error),
        (true, false) => Attempt::Final(error),
    }
}

#[async_trait]
impl WeChatApi for HttpWeChat {
    async fn component_token(
        &self,
        req: &ComponentTokenRequest,
    ) -> Result<ComponentTokenResponse, WeChatError> {
        self.call("api_component_token", None, req).await
    }

    async fn create_pre_auth_code(
        &self,
        token: &AccessToken,
        req: &CreatePreAuthCodeRequest,
    ) -> Result<CreatePreAuthCodeResponse, WeChatError> {
        self.call("api_create_preauthcode", Some(token), req).await
    }

    async fn query_auth(
        &self,
        token: &AccessToken,
        req: &QueryAuthRequest,
    ) -> Result<QueryAuthResponse, WeChatError> {
        self.call("api_query_auth", Some(token), req).await
    }

    async fn authorizer_token(
        &self,
        token: &AccessToken,
        req: &AuthorizerTokenRequest,
    ) -> Result<AuthorizerTokenResponse, WeChatError> {
        self.call("api_authorizer_token", Some(token), req).await
    }

    async fn get_authorizer_info(
        &self,
        token: &AccessToken,
        req: &GetAuthorizerInfoRequest,
    ) -> Result<GetAuthorizerInfoResponse, WeChatError> {
        self.call("api_get_authorizer_info", Some(token), req).await
    }

    async fn get_authorizer_list(
        &self,
        token: &AccessToken,
        req: &GetAuthorizerListRequest,
    ) -> Result<GetAuthorizerListResponse, WeChatError> {
        self.call("api_get_authorizer_list", Some(token), req).await
    }

    async fn get_authorizer_option(
        &self,
        token: &AccessToken,
        req: &GetAuthorizerOptionRequest,
    ) -> Result<GetAuthorizerOptionResponse, WeChatError> {
        self.call("api_get_authorizer_option", Some(token), req)
            .await
    }

    async fn set_authorizer_option(
        &self,
        token: &AccessToken,
        req: &SetAuthorizerOptionRequest,
    ) -> Result<(), WeChatError> {
        self.call::<_, IgnoredAny>("api_set_authorizer_option", Some(token), req)
            .await
            .map(|_| ())
    }

    async fn clear_quota(&self, req: &ClearQuotaRequest) -> Result<(), WeChatError> {
        self.call::<_, IgnoredAny>("clear_quota/v2", None, req)
            .await
            .map(|_| ())
    }

    async fn start_push_ticket(&self, req: &StartPushTicketRequest) -> Result<(), WeChatError> {
        self.call::<_, IgnoredAny>("api_start_push_ticket", None, req)
            .await
            .map(|_| ())
    }

    async fn send_custom_message(
        &self,
        authorizer_token: &AccessToken,
        msg: &CustomTextMessage,
    ) -> Result<(), WeChatError> {
        let path = "/cgi-bin/message/custom/send";
        let token = Some(("access_token", authorizer_token));
        self.call_path::<_, IgnoredAny>(path, "message/custom/send", token, msg)
            .await
            .map(|_| ())
    }

    async fn call_raw(&self, req: &RawRequest<'_>) -> Result<RawResponse, WeChatError> {
        self.raw(req).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_code_exchange_and_a_message_to_a_user_are_never_replayed() {
        assert!(!super::replay_safe("api_query_auth"));
        assert!(!super::replay_safe("message/custom/send"));
        for endpoint in [
            "api_component_token",
            "api_authorizer_token",
            "api_get_authorizer_info",
            "api_create_preauthcode",
        ] {
            assert!(super::replay_safe(endpoint), "{endpoint}");
        }
    }
}
