//! Any WeChat API, called for another function: the authorizer's or the component's token
//! injected, and a refused token (40001/40014/42001) dropped only while it is still the stored
//! one, then replaced once. The second answer is returned as it came, whatever it says.

use super::ComponentApi;
use crate::error::ServiceError;
use crate::store::TokenKey;
use crate::wechat::{RawRequest, RawResponse};
use wxopen_models::calls::CheckedCall;
use wxopen_models::AuthorizerAppid;

impl ComponentApi {
    /// `call` as `appid`, with its `access_token`.
    pub async fn call_as_authorizer(
        &self,
        appid: &AuthorizerAppid,
        call: &CheckedCall,
    ) -> Result<RawResponse, ServiceError> {
        let key = TokenKey::Authorizer(appid.clone());
        let token = self.tokens.authorizer_token(appid).await?.token;
        let request = |token| RawRequest {
            call,
            token_param: "access_token",
            token,
            extra_query: &[],
        };
        let first = self.wechat.call_raw(&request(&token)).await?;
        if !first.token_refused() {
            return Ok(first);
        }
        tracing::info!(authorizer = %appid, path = %call.path, "the authorizer token was refused; replacing it once");
        self.tokens.invalidate(&key, &token).await?;
        let token = self.tokens.authorizer_token(appid).await?.token;
        Ok(self.wechat.call_raw(&request(&token)).await?)
    }

    /// `call` as the platform, with its `component_access_token` and `extra_query`.
    pub async fn call_as_component(
        &self,
        call: &CheckedCall,
        extra_query: &[(&'static str, &str)],
    ) -> Result<RawResponse, ServiceError> {
        let token = self.tokens.component_token().await?.token;
        let request = |token| RawRequest {
            call,
            token_param: "component_access_token",
            token,
            extra_query,
        };
        let first = self.wechat.call_raw(&request(&token)).await?;
        if !first.token_refused() {
            return Ok(first);
        }
        tracing::info!(path = %call.path, "the component token was refused; replacing it once");
        self.tokens.invalidate(&TokenKey::Component, &token).await?;
        let token = self.tokens.component_token().await?.token;
        Ok(self.wechat.call_raw(&request(&token)).await?)
    }
}
