//! The WeChat APIs this service calls itself: a port ([`WeChatApi`]) and its HTTP adapter ([`HttpWeChat`]).

mod error;
mod http;
mod points;
mod raw;
mod retry;

pub use error::WeChatError;
pub use http::HttpWeChat;
pub use points::{AccessPoints, SKIP_FOR};
pub use raw::{RawRequest, RawResponse};
pub use retry::RetryPolicy;

use async_trait::async_trait;
use wxopen_models::api::{
    AuthorizerTokenRequest, AuthorizerTokenResponse, ClearQuotaRequest, ComponentTokenRequest,
    ComponentTokenResponse, CreatePreAuthCodeRequest, CreatePreAuthCodeResponse, CustomTextMessage,
    GetAuthorizerInfoRequest, GetAuthorizerInfoResponse, GetAuthorizerListRequest,
    GetAuthorizerListResponse, GetAuthorizerOptionRequest, GetAuthorizerOptionResponse,
    QueryAuthRequest, QueryAuthResponse, SetAuthorizerOptionRequest, StartPushTicketRequest,
};
use wxopen_models::AccessToken;

/// Every WeChat API this service calls. `token` is the component access token unless named
/// otherwise.
#[async_trait]
pub trait WeChatApi: Send + Sync {
    /// `api_component_token`.
    async fn component_token(
        &self,
        req: &ComponentTokenRequest,
    ) -> Result<ComponentTokenResponse, WeChatError>;

    /// `api_create_preauthcode`.
    async fn create_pre_auth_code(
        &self,
        token: &AccessToken,
        req: &CreatePreAuthCodeRequest,
    ) -> Result<CreatePreAuthCodeResponse, WeChatError>;

    /// `api_query_auth`: exchanges an authorization code.
    async fn query_auth(
        &self,
        token: &AccessToken,
        req: &QueryAuthRequest,
    ) -> Result<QueryAuthResponse, WeChatError>;

    /// `api_authorizer_token`: refreshes an authorizer access token.
    async fn authorizer_token(
        &self,
        token: &AccessToken,
        req: &AuthorizerTokenRequest,
    ) -> Result<AuthorizerTokenResponse, WeChatError>;

    /// `api_get_authorizer_info`.
    async fn get_authorizer_info(
        &self,
        token: &AccessToken,
        req: &GetAuthorizerInfoRequest,
    ) -> Result<GetAuthorizerInfoResponse, WeChatError>;

    /// `api_get_authorizer_list`.
    async fn get_authorizer_list(
        &self,
        token: &AccessToken,
        req: &GetAuthorizerListRequest,
    ) -> Result<GetAuthorizerListResponse, WeChatError>;

    /// `api_get_authorizer_option`.
    async fn get_authorizer_option(
        &self,
        token: &AccessToken,
        req: &GetAuthorizerOptionRequest,
    ) -> Result<GetAuthorizerOptionResponse, WeChatError>;

    /// `api_set_authorizer_option`.
    async fn set_authorizer_option(
        &self,
        token: &AccessToken,
        req: &SetAuthorizerOptionRequest,
    ) -> Result<(), WeChatError>;

    /// `api_start_push_ticket`: asks WeChat to push a ticket now (no token).
    async fn start_push_ticket(&self, req: &StartPushTicketRequest) -> Result<(), WeChatError>;

    /// `clear_quota/v2`: resets daily API quotas (no token).
    async fn clear_quota(&self, req: &ClearQuotaRequest) -> Result<(), WeChatError>;

    /// `cgi-bin/message/custom/send`: a customer-service text to a user, with the
    /// authorizer's access token (not the component's).
    async fn send_custom_message(
        &self,
        authorizer_token: &AccessToken,
        msg: &CustomTextMessage,
    ) -> Result<(), WeChatError>;

    /// Any API on `WECHAT_API_BASE` with the given token: WeChat's answer as it came (errcodes
    /// included), after the transient failures the call allows retrying.
    async fn call_raw(&self, req: &RawRequest<'_>) -> Result<RawResponse, WeChatError>;
}
