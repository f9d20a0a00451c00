//! A token WeChat refuses (40001, 40014, 42001: another instance refreshed it, or WeChat
//! revoked it early): another instance's newer token is used if one is stored; otherwise the
//! refused one is dropped here and in the store, a new one fetched (at most once a minute per
//! key), and the call made once more. One rule for both kinds of token.

use super::TokenManager;
use crate::error::ServiceError;
use crate::store::{OnceKind, TokenKey, Use};
use crate::wechat::WeChatError;
use std::future::Future;
use std::time::Duration;
use wxopen_models::{AccessToken, AuthorizerAppid};

impl TokenManager {
    /// Calls WeChat with the component token, retried once with a new token if it is refused.
    /// (The call takes the token by value so that its future is `Send` for any caller.)
    pub async fn with_component_token<T, F, Fut>(&self, call: F) -> Result<T, ServiceError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, WeChatError>>,
    {
        self.with_token(&TokenKey::Component, call).await
    }

    /// Calls WeChat with an authorizer's access token, retried once with a new token if it is
    /// refused.
    pub async fn with_authorizer_token<T, F, Fut>(
        &self,
        appid: &AuthorizerAppid,
        call: F,
    ) -> Result<T, ServiceError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, WeChatError>>,
    {
        self.with_token(&TokenKey::Authorizer(appid.clone()), call)
            .await
    }

    async fn with_token<T, F, Fut>(&self, key: &TokenKey, call: F) -> Result<T, ServiceError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, WeChatError>>,
    {
        let refused = |r: &Result<T, WeChatError>| matches!(r, Err(e) if e.is_token_invalid());
        Ok(self.with_token_refused_when(key, call, refused).await??)
    }

    /// Calls WeChat with `key`'s token; when `refused` says the answer refused the token, makes
    /// the call once more with a newer one, whose answer is returned as it is. For the
    /// pass-through, whose refusals arrive as answers (an errcode in the body), not errors.
    ///
    /// The newer token is another instance's when the store holds one (no renewal). Otherwise
    /// the refused token is dropped and renewed, at most once per key per
    /// [`TokenSettings::refusal_renewal`](super::TokenSettings) across instances; a refusal past
    /// that bound goes back to the caller as WeChat's answer, and is counted.
    pub async fn with_token_refused_when<T, F, Fut>(
        &self,
        key: &TokenKey,
        call: F,
        refused: impl Fn(&Result<T, WeChatError>) -> bool,
    ) -> Result<Result<T, WeChatError>, ServiceError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, WeChatError>>,
    {
        let margin = self.settings.refresh_margin;
        let token = self.token(key, margin).await?;
        let first = call(token.token.clone()).await;
        if !refused(&first) {
            return Ok(first);
        }
        self.forget_remembered(key, &token.token);
        if self.still_stored(key, &token.token).await? {
            if self.may_renew_refused(key).await? {
                tracing::info!(token = %key, "WeChat refused the token; replacing it once");
                self.invalidate(key, &token.token).await?;
            } else if !self.replaced_soon(key, &token.token).await? {
                tracing::warn!(token = %key, "WeChat refused the token again within a minute of its renewal; answering without renewing");
                crate::telemetry::refusal_not_renewed(key);
                return Ok(first);
            }
        }
        let token = self.token(key, margin).await?;
        Ok(call(token.token).await)
    }

    /// Whether the store still holds `failed` as `key`'s token (strongly consistent).
    async fn still_stored(
        &self,
        key: &TokenKey,
        failed: &AccessToken,
    ) -> Result<bool, ServiceError> {
        let stored = self.store.load_slot(key).await?.and_then(|slot| slot.token);
        Ok(stored.is_some_and(|t| &t.token == failed))
    }

    /// This minute's renewal was claimed elsewhere: if the claimer is replacing this very token
    /// (concurrent refusals of one token), its drop shows within a moment; if it renewed an
    /// earlier one, `failed` stays, and the refusal is the answer.
    async fn replaced_soon(
        &self,
        key: &TokenKey,
        failed: &AccessToken,
    ) -> Result<bool, ServiceError> {
        let started = std::time::Instant::now();
        let mut poll = self.settings.poll;
        while started.elapsed() < self.settings.replacement_wait {
            tokio::time::sleep(poll).await;
            if !self.still_stored(key, failed).await? {
                return Ok(true);
            }
            poll = (poll * 2).min(Duration::from_millis(200));
        }
        Ok(false)
    }

    /// Claims this minute's refusal-driven renewal of `key`, across instances.
    async fn may_renew_refused(&self, key: &TokenKey) -> Result<bool, ServiceError> {
        let now = self.now();
        let key = key.to_string();
        let claim = Use {
            kind: OnceKind::Renewal,
            key: &key,
            until: now.plus(self.settings.refusal_renewal),
            now,
        };
        Ok(self.once.first_use(&claim).await?)
    }

    /// Forgets this container's copy of `key` if it is still `failed`.
    fn forget_remembered(&self, key: &TokenKey, failed: &AccessToken) {
        let mut memory = self.memory.lock().expect("memory cache lock");
        if memory.get(key).is_some_and(|e| &e.token.token == failed) {
            memory.remove(key);
        }
    }

    /// Drops a token if it is still `failed` (WeChat said 40001/40014/42001), here and in the
    /// store.
    pub async fn invalidate(
        &self,
        key: &TokenKey,
        failed: &AccessToken,
    ) -> Result<(), ServiceError> {
        self.forget_remembered(key, failed);
        let dropped = self.store.drop_token(key, failed).await?;
        tracing::info!(token = %key, dropped, "token reported invalid");
        Ok(())
    }
}
