//! The client: one Lambda client, the functions' names, and the authorizer tokens this
//! container holds.

use crate::{Error, Functions};
use aws_sdk_lambda::primitives::Blob;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wxopen_models::calls::{ApiAnswer, ApiCall, OAuthGrant, Session};
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::{AccessToken, AuthorizerAppid};

/// How long before its expiry a held token is no longer handed out: the service's own margin,
/// so a token from this cache is never one the service would already renew.
pub const TOKEN_MARGIN: Duration = Duration::from_secs(600);

/// An authorizer's access token, as `authorizer-token` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// The token, for `access_token=` on the account's APIs.
    pub authorizer_access_token: AccessToken,
    /// When it expires, epoch seconds.
    pub expires_at: i64,
}

/// A link minted for one of the platform's customers (`authorize`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The URL to send the customer.
    pub url: String,
    /// When it stops opening, epoch seconds.
    pub expires_at: i64,
}

/// What a minted link starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LinkRequest {
    /// The platform's own id of the customer (bound to the authorization, in its events).
    pub ext: String,
    /// 1 Official Accounts, 2 Mini Programs, 3 both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<u8>,
    /// One account only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biz_appid: Option<String>,
    /// WeChat's mobile authorization page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile: Option<bool>,
    /// Its lifetime, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

fn now_secs() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| d.as_secs() as i64)
}

/// The typed client of this service's functions.
#[derive(Debug)]
pub struct Client {
    lambda: aws_sdk_lambda::Client,
    functions: Functions,
    tokens: Mutex<HashMap<AuthorizerAppid, Token>>,
    invocations: AtomicU64,
}

impl Client {
    /// A client invoking `functions` through `lambda`.
    pub fn new(lambda: aws_sdk_lambda::Client, functions: Functions) -> Self {
        Self {
            lambda,
            functions,
            tokens: Mutex::new(HashMap::new()),
            invocations: AtomicU64::new(0),
        }
    }

    /// A client from the environment: the AWS SDK's own configuration (region, credentials,
    /// `AWS_ENDPOINT_URL_LAMBDA`) and the functions' names ([`Functions::from_lookup`]).
    pub async fn from_env() -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http)
            .load()
            .await;
        let functions = Functions::from_lookup(|name| std::env::var(name).ok());
        Self::new(aws_sdk_lambda::Client::new(&sdk), functions)
    }

    /// How many functions this client has invoked.
    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::Relaxed)
    }

    /// Invokes `function` with `payload`; its answer, or the contract's error.
    pub async fn invoke<T: DeserializeOwned>(
        &self,
        function: &str,
        payload: &Value,
    ) -> Result<T, Error> {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let bytes = serde_json::to_vec(payload).map_err(|e| Error::Decode(e.to_string()))?;
        let sent = self
            .lambda
            .invoke()
            .function_name(function)
            .payload(Blob::new(bytes))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                // Some emulators answer a function error with an error status: read it as one.
                let body = e
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .map(<[u8]>::to_vec);
                if let Some(error) = body.as_deref().and_then(function_error) {
                    return Err(error);
                }
                return Err(Error::Invoke(
                    aws_sdk_lambda::error::DisplayErrorContext(&e).to_string(),
                ));
            }
        };
        let body = out
            .payload()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default();
        if out.function_error().is_some() {
            return Err(function_error(&body).unwrap_or_else(|| Error::Service {
                code: "function_error".into(),
                message: String::from_utf8_lossy(&body).into_owned(),
            }));
        }
        serde_json::from_slice(&body).map_err(|e| Error::Decode(format!("{function}: {e}")))
    }

    /// A valid access token of `appid`: held in this container until ten minutes before its
    /// expiry (no invocation), else asked of `authorizer-token`.
    pub async fn authorizer_token(&self, appid: &AuthorizerAppid) -> Result<Token, Error> {
        if let Some(held) = self.held(appid) {
            return Ok(held);
        }
        let token: Token = self
            .invoke(
                &self.functions.authorizer_token,
                &json!({"authorizer_appid": appid}),
            )
            .await?;
        self.hold(&token);
        Ok(token)
    }

    /// WeChat refused `refused` (40001, 40014, 42001): it is dropped here and at the service
    /// (only while it is still the stored one), and a new one is answered.
    pub async fn replace_token(
        &self,
        appid: &AuthorizerAppid,
        refused: &AccessToken,
    ) -> Result<Token, Error> {
        self.tokens
            .lock()
            .expect("token cache")
            .retain(|a, t| a != appid || &t.authorizer_access_token != refused);
        let payload = json!({"authorizer_appid": appid, "invalid_token": refused});
        let token: Token = self
            .invoke(&self.functions.authorizer_token, &payload)
            .await?;
        self.hold(&token);
        Ok(token)
    }

    fn held(&self, appid: &AuthorizerAppid) -> Option<Token> {
        let tokens = self.tokens.lock().expect("token cache");
        let fresh = |t: &&Token| t.expires_at - TOKEN_MARGIN.as_secs() as i64 > now_secs();
        tokens.get(appid).filter(fresh).cloned()
    }

    fn hold(&self, token: &Token) {
        let mut tokens = self.tokens.lock().expect("token cache");
        tokens.insert(token.authorizer_appid.clone(), token.clone());
    }

    /// Any WeChat API as `appid` (`authorizer-api`): WeChat's answer as it came.
    pub async fn call_as(
        &self,
        appid: &AuthorizerAppid,
        call: &ApiCall,
    ) -> Result<ApiAnswer, Error> {
        let mut payload = call_payload(call);
        payload["authorizer_appid"] = json!(appid);
        self.invoke(&self.functions.authorizer_api, &payload).await
    }

    /// Any component-token API (`component-api`): WeChat's answer as it came.
    pub async fn call_as_platform(&self, call: &ApiCall) -> Result<ApiAnswer, Error> {
        self.invoke(&self.functions.component_api, &call_payload(call))
            .await
    }

    /// Mini Program login for an authorized Mini Program.
    pub async fn jscode2session(
        &self,
        appid: &AuthorizerAppid,
        js_code: &str,
    ) -> Result<Session, Error> {
        let payload = json!({"op": "jscode2session", "appid": appid, "js_code": js_code});
        self.invoke(&self.functions.component_api, &payload).await
    }

    /// Web OAuth on behalf of an Official Account: the code the browser brought back.
    pub async fn oauth_exchange(
        &self,
        appid: &AuthorizerAppid,
        code: &str,
    ) -> Result<OAuthGrant, Error> {
        let payload = json!({"op": "oauth_exchange", "appid": appid, "code": code});
        self.invoke(&self.functions.component_api, &payload).await
    }

    /// Any other `component-api` operation (`{"op": ...}`), its answer as JSON.
    pub async fn component_op(&self, payload: &Value) -> Result<Value, Error> {
        self.invoke(&self.functions.component_api, payload).await
    }

    /// A link for one of the platform's customers to authorize with.
    pub async fn mint_link(&self, request: &LinkRequest) -> Result<Link, Error> {
        let payload = serde_json::to_value(request).map_err(|e| Error::Decode(e.to_string()))?;
        self.invoke(&self.functions.authorize, &payload).await
    }

    /// Exchanges an authorization code: the stored record (never a token).
    pub async fn exchange(&self, authorization_code: &str) -> Result<AuthorizerRecord, Error> {
        let payload = json!({ "authorization_code": authorization_code });
        self.invoke(&self.functions.exchange, &payload).await
    }

    /// An authorizer's info merged with its stored record, as JSON.
    pub async fn authorizer_info(&self, appid: &AuthorizerAppid) -> Result<Value, Error> {
        self.invoke(
            &self.functions.authorizer_info,
            &json!({ "authorizer_appid": appid }),
        )
        .await
    }

    /// A `rollouts` operation (`{"op": "create" | "status" | ...}`), its answer as JSON.
    pub async fn rollouts(&self, payload: &Value) -> Result<Value, Error> {
        self.invoke(&self.functions.rollouts, payload).await
    }
}

/// The proxies' payload of `call`.
fn call_payload(call: &ApiCall) -> Value {
    let mut payload =
        json!({"path": call.path, "method": call.method, "query": call.query, "retry": call.retry});
    if let Some(body) = &call.body {
        payload["body"] = body.clone();
    }
    payload
}

/// The contract's error in a function error's payload (`errorType`, `errorMessage`).
fn function_error(body: &[u8]) -> Option<Error> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let error_type = v["errorType"].as_str()?;
    Some(Error::from_function(
        error_type,
        v["errorMessage"].as_str().unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_error_payload_reads_as_the_contract() {
        let payload = json!({"errorType": "unknown_authorizer",
            "errorMessage": json!({"error": {"code": "unknown_authorizer", "message": "authorize first"}}).to_string()});
        let error = function_error(payload.to_string().as_bytes()).unwrap();
        assert_eq!(error, Error::UnknownAuthorizer("authorize first".into()));
        assert!(function_error(b"{\"answer\": 1}").is_none());
    }

    #[test]
    fn a_call_becomes_the_proxies_payload() {
        let call: ApiCall = serde_json::from_value(
            json!({"path": "/cgi-bin/x", "method": "GET", "query": {"a": "1"}}),
        )
        .unwrap();
        let payload = call_payload(&call);
        assert_eq!(
            (payload["path"].as_str(), payload["query"]["a"].as_str()),
            (Some("/cgi-bin/x"), Some("1"))
        );
        assert!(payload.get("body").is_none());
    }
}
