//! Any WeChat API, called for another function: the authorizer's or the component's token
//! injected, and a refused token (40001/40014/42001) dropped only while it is still the stored
//! one, then replaced once. The second answer is returned as it came, whatever it says.

use super::ComponentApi;
use crate::error::ServiceError;
use crate::store::TokenKey;
use crate::wechat::{RawRequest, RawResponse, WeChatError};
use wxopen_models::calls::CheckedCall;
use wxopen_models::{AccessToken, AuthorizerAppid};

/// The pass-through's refusal: WeChat answered, with 40001/40014/42001 in the body.
fn refused(answer: &Result<RawResponse, WeChatError>) -> bool {
    answer.as_ref().is_ok_and(RawResponse::token_refused)
}

impl ComponentApi {
    /// `call` as `appid`, with its `access_token`.
    pub async fn call_as_authorizer(
        &self,
        appid: &AuthorizerAppid,
        call: &CheckedCall,
    ) -> Result<RawResponse, ServiceError> {
        let key = TokenKey::Authorizer(appid.clone());
        self.call_raw(&key, call, "access_token", &[]).await
    }

    /// `call` as the platform, with its `component_access_token` and `extra_query`.
    pub async fn call_as_component(
        &self,
        call: &CheckedCall,
        extra_query: &[(&'static str, &str)],
    ) -> Result<RawResponse, ServiceError> {
        let key = TokenKey::Component;
        self.call_raw(&key, call, "component_access_token", extra_query)
            .await
    }

    /// `call` as the platform, its `component_access_token` in the query parameter
    /// `token_param` (the beta registration takes it as `access_token`).
    pub async fn call_with_component_token(
        &self,
        call: &CheckedCall,
        token_param: &'static str,
    ) -> Result<RawResponse, ServiceError> {
        self.call_raw(&TokenKey::Component, call, token_param, &[])
            .await
    }

    /// `call` with `key`'s token in the query parameter `token_param`.
    async fn call_raw(
        &self,
        key: &TokenKey,
        call: &CheckedCall,
        token_param: &'static str,
        extra_query: &[(&'static str, &str)],
    ) -> Result<RawResponse, ServiceError> {
        let wechat = &self.wechat;
        let send = |token: AccessToken| async move {
            let request = RawRequest {
                call,
                token_param,
                token: &token,
                extra_query,
            };
            wechat.call_raw(&request).await
        };
        Ok(self
            .tokens
            .with_token_refused_when(key, send, refused)
            .await??)
    }
}
