//! The code-to-token exchange, used by the callback, the `authorized` push and the `exchange`
//! function alike. WeChat hands the same code to the redirect and to the push: whoever claims it
//! first (a conditional write) exchanges it, the other waits for the stored result, so a code
//! costs one `api_query_auth`, and a code WeChat refuses is answered at once, with no waiting,
//! unless another exchange of that very code is under way.

use super::ServiceError;
use crate::clock::Timestamp;
use crate::store::{AuthorizerStore, CachedToken, NewAuthorization, OnceKind, OnceStore, Use};
use crate::tokens::{ComponentApi, RefreshError, TokenManager};
use crate::wechat::WeChatError;
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus};
use wxopen_models::AuthorizationCode;

/// How long an exchange waits for a concurrent exchange of the same code to be stored.
pub const CONCURRENT_EXCHANGE_WAIT: Duration = Duration::from_secs(3);

/// How long a claim on a code lasts if its holder never finishes: longer than an exchange
/// takes, shorter than the code lives (10 minutes).
const CODE_CLAIM: Duration = Duration::from_secs(60);

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
    claims: Arc<dyn OnceStore>,
    concurrent_wait: Duration,
}

impl Exchanger {
    /// An exchanger calling WeChat through `api`, storing in `store`, claiming codes in
    /// `claims`, and leaving the token it gets in `tokens`' memory.
    pub fn new(
        api: ComponentApi,
        tokens: Arc<TokenManager>,
        store: Arc<dyn AuthorizerStore>,
        claims: Arc<dyn OnceStore>,
    ) -> Self {
        Self {
            api,
            tokens,
            store,
            claims,
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
    /// stored). A code another exchange claimed is not sent again: that exchange's result is
    /// the answer, waited for up to [`CONCURRENT_EXCHANGE_WAIT`].
    pub async fn exchange(
        &self,
        code: &AuthorizationCode,
        authorized_at: Timestamp,
        ext: Option<&str>,
    ) -> Result<AuthorizerRecord, ServiceError> {
        let hash = code_hash(code);
        let started = std::time::Instant::now();
        loop {
            if self.claim(&hash).await? {
                return self.exchange_claimed(code, &hash, authorized_at, ext).await;
            }
            if let Some(record) = self.exchanged(&hash).await? {
                return Ok(record);
            }
            if started.elapsed() >= self.concurrent_wait {
                return Err(RefreshError::Busy {
                    what: "another exchange of this authorization code".into(),
                }
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100).min(self.concurrent_wait)).await;
        }
    }

    /// Exchanges a code the browser brought back (the `authorized` push carries the same one).
    pub async fn exchange_or_find(
        &self,
        code: &AuthorizationCode,
        ext: Option<&str>,
    ) -> Result<AuthorizerRecord, ServiceError> {
        self.exchange(code, Timestamp::now(), ext).await
    }

    async fn exchange_claimed(
        &self,
        code: &AuthorizationCode,
        hash: &str,
        authorized_at: Timestamp,
        ext: Option<&str>,
    ) -> Result<AuthorizerRecord, ServiceError> {
        let result = self.query_and_store(code, authorized_at, ext).await;
        if result.is_err() {
            // The other side (or WeChat's retry of the push) may try this code itself.
            if let Err(e) = self.claims.forget_use(OnceKind::Code, hash).await {
                tracing::warn!(error = %e, "a failed exchange's claim stays until it lapses");
            }
        }
        match result {
            // Used before this claim: by an earlier exchange, whose record is the answer.
            Err(ServiceError::WeChat(WeChatError::AuthCodeInvalid)) => self
                .exchanged(hash)
                .await?
                .ok_or_else(|| WeChatError::AuthCodeInvalid.into()),
            other => other,
        }
    }

    async fn query_and_store(
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

    /// Claims the exchange of the code hashed `hash`, across instances.
    async fn claim(&self, hash: &str) -> Result<bool, ServiceError> {
        let now = Timestamp::now();
        let claim = Use {
            kind: OnceKind::Code,
            key: hash,
            until: now.plus(CODE_CLAIM),
            now,
        };
        Ok(self.claims.first_use(&claim).await?)
    }

    /// The record the code hashed `hash` was exchanged for, if it was.
    async fn exchanged(&self, hash: &str) -> Result<Option<AuthorizerRecord>, ServiceError> {
        let Some(appid) = self.store.exchanged_code(hash).await? else {
            return Ok(None);
        };
        tracing::info!(authorizer = %appid, "the code was exchanged by the other side (the push or the redirect)");
        let stored = self.store.load_authorizer(&appid).await?;
        Ok(stored.map(|s| s.record))
    }
}
