//! A token WeChat refuses (40001, 40014, 42001: another instance refreshed it, or WeChat
//! revoked it early): dropped here and in the store if it is still the one stored, a new one
//! fetched, and the call made once more. One rule for both kinds of token.

use super::TokenManager;
use crate::error::ServiceError;
use crate::store::TokenKey;
use crate::wechat::WeChatError;
use std::future::Future;
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

    /// Calls WeChat with `key`'s token; when `refused` says the answer refused the token, drops
    /// it and makes the call once more with a new one, whose answer is returned as it is. For
    /// the pass-through, whose refusals arrive as answers (an errcode in the body), not errors.
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
        tracing::info!(token = %key, "WeChat refused the token; replacing it once");
        self.invalidate(key, &token.token).await?;
        let token = self.token(key, margin).await?;
        Ok(call(token.token).await)
    }

    /// Drops a token if it is still `failed` (WeChat said 40001/40014/42001), here and in the
    /// store.
    pub async fn invalidate(
        &self,
        key: &TokenKey,
        failed: &AccessToken,
    ) -> Result<(), ServiceError> {
        {
            let mut memory = self.memory.lock().expect("memory cache lock");
            if memory.get(key).is_some_and(|e| &e.token.token == failed) {
                memory.remove(key);
            }
        }
        let dropped = self.store.drop_token(key, failed).await?;
        tracing::info!(token = %key, dropped, "token reported invalid");
        Ok(())
    }
}
