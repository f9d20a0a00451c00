//! The code-to-token exchange, used by the callback, the `authorized` push and the `exchange`
//! function alike.

use super::ServiceError;
use crate::clock::Timestamp;
use crate::store::{AuthorizerStore, CachedToken, NewAuthorization};
use crate::tokens::{ComponentApi, TokenManager};
use crate::wechat::WeChatError;
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus};
use wxopen_models::AuthorizationCode;

/// How long the callback waits for a concurrent exchange of the same code to be stored.
pub const CONCURRENT_EXCHANGE_WAIT: Duration = Duration::from_secs(3);

/// The SHA-256 of a code, hex: codes are never stored themselves.
pub fn code_hash(code: &AuthorizationCode) -> String {
    secret_hash(code.expose())
}

/// The SHA-256 of a secret value (a code, a pre-auth code), hex.
pub fn secret_hash(value: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(value.as_bytes()))
}

/// Exchanges authorization codes and stores the result.
#[derive(Clone)]
pub struct Exchanger {
    api: ComponentApi,
    tokens: Arc<TokenManager>,
    store: Arc<dyn AuthorizerStore>,
    concurrent_wait: Duration,
}

impl Exchanger {
    /// An exchanger calling WeChat through `api`, storing in `store`, and leaving the token it
    /// gets in `tokens`' memory.
    pub fn new(
        api: ComponentApi,
        tokens: Arc<TokenManager>,
        store: Arc<dyn AuthorizerStore>,
    ) -> Self {
        Self {
            api,
            tokens,
            store,
            concurrent_wait: CONCURRENT_EXCHANGE_WAIT,
        }
    }

    /// The same exchanger waiting `wait` (instead of [`CONCURRENT_EXCHANGE_WAIT`]) for a
    /// concurrent exchange of a code WeChat calls used.
    pub fn waiting(self, wait: Duration) -> Self {
        Self {
            concurrent_wait: wait,
            ..self
        }
    }

    /// Exchanges an authorization code and stores the result, with the code's hash in the
    /// same write. Returns the stored record. `authorized_at` is the push's `CreateTime`, or
    /// now for a redirect; `ext` is the caller data of a minted link (`None` keeps what is
    /// stored).
    pub async fn exchange(
        &self,
        code: &AuthorizationCode,
        authorized_at: Timestamp,
        ext: Option<&str>,
    ) -> Result<AuthorizerRecord, ServiceError> {
        let issued_at = Timestamp::now();
        let info = self.api.query_auth(code).await?.authorization_info;
        let auth = NewAuthorization {
            authorizer_appid: info.authorizer_appid.clone(),
            refresh_token: info.refresh_token().cloned(),
            access: info.access_token().map(|token| CachedToken {
                token: token.clone(),
                expires_at: issued_at.plus(Duration::from_secs(info.expires_in.unwrap_or(0))),
            }),
            permission_ids: info.permission_ids(),
            code_hash: Some(code_hash(code)),
            ext: ext.map(str::to_owned),
        };
        let record = self
            .store
            .save_authorization(&auth, authorized_at, Timestamp::now())
            .await?;
        if let Some(access) = auth
            .access
            .as_ref()
            .filter(|_| record.status == AuthorizerStatus::Authorized)
        {
            // Stored just now: a token request in this container needs no read.
            self.tokens
                .remember_authorizer(&record.authorizer_appid, access);
        }
        tracing::info!(authorizer = %record.authorizer_appid, status = %record.status, permissions = ?record.permission_ids, "authorization stored");
        Ok(record)
    }

    /// Exchanges a code the browser brought back. WeChat pushes `authorized` with the same
    /// code; if the push exchanged it first, the stored authorization is the answer.
    pub async fn exchange_or_find(
        &self,
        code: &AuthorizationCode,
        ext: Option<&str>,
    ) -> Result<AuthorizerRecord, ServiceError> {
        match self.exchange(code, Timestamp::now(), ext).await {
            Err(ServiceError::WeChat(WeChatError::AuthCodeInvalid)) => {
                match self.wait_for_exchanged(code).await? {
                    Some(record) => Ok(record),
                    None => Err(WeChatError::AuthCodeInvalid.into()),
                }
            }
            other => other,
        }
    }

    /// The record a code was already exchanged for, waiting briefly for a concurrent exchange
    /// (the push) to finish storing it.
    async fn wait_for_exchanged(
        &self,
        code: &AuthorizationCode,
    ) -> Result<Option<AuthorizerRecord>, ServiceError> {
        let hash = code_hash(code);
        let started = std::time::Instant::now();
        loop {
            if let Some(appid) = self.store.exchanged_code(&hash).await? {
                tracing::info!(authorizer = %appid, "the code was already exchanged by the authorized push");
                let stored = self.store.load_authorizer(&appid).await?;
                return Ok(stored.map(|s| s.record));
            }
            if started.elapsed() >= self.concurrent_wait {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100).min(self.concurrent_wait)).await;
        }
    }
}
