//! The WeChat APIs the services call themselves, each with the component token injected and a refused
//! token replaced once ([`TokenManager::with_component_token`]).

use super::TokenManager;
use crate::error::ServiceError;
use crate::wechat::WeChatApi;
use std::sync::Arc;
use wxopen_models::api::{
    CreatePreAuthCodeRequest, CreatePreAuthCodeResponse, CustomTextMessage,
    GetAuthorizerInfoRequest, GetAuthorizerInfoResponse, GetAuthorizerListRequest,
    GetAuthorizerListResponse, GetAuthorizerOptionRequest, GetAuthorizerOptionResponse,
    QueryAuthRequest, QueryAuthResponse, SetAuthorizerOptionRequest,
};
use wxopen_models::{AuthorizationCode, AuthorizerAppid, ComponentAppid};

/// The platform's own WeChat calls, bound to one component.
#[derive(Clone)]
pub struct ComponentApi {
    pub(super) tokens: Arc<TokenManager>,
    pub(super) wechat: Arc<dyn WeChatApi>,
}

impl std::fmt::Debug for ComponentApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentApi")
            .field("component", self.tokens.component())
            .finish_non_exhaustive()
    }
}

impl ComponentApi {
    /// The calls of `tokens`' component through `wechat`.
    pub fn new(tokens: Arc<TokenManager>, wechat: Arc<dyn WeChatApi>) -> Self {
        Self { tokens, wechat }
    }

    /// The component these calls are made for.
    pub fn component(&self) -> ComponentAppid {
        self.tokens.component().clone()
    }

    /// `api_create_preauthcode`.
    pub async fn create_pre_auth_code(&self) -> Result<CreatePreAuthCodeResponse, ServiceError> {
        let req = CreatePreAuthCodeRequest {
            component_appid: self.component(),
        };
        let api = &self.wechat;
        self.tokens
            .with_component_token(|token| {
                let req = &req;
                async move { api.create_pre_auth_code(&token, req).await }
            })
            .await
    }

    /// `api_query_auth`: exchanges an authorization code.
    pub async fn query_auth(
        &self,
        code: &AuthorizationCode,
    ) -> Result<QueryAuthResponse, ServiceError> {
        let req = QueryAuthRequest {
            component_appid: self.component(),
            authorization_code: code.clone(),
        };
        let api = &self.wechat;
        self.tokens
            .with_component_token(|token| {
                let req = &req;
                async move { api.query_auth(&token, req).await }
            })
            .await
    }

    /// `api_get_authorizer_info`.
    pub async fn get_authorizer_info(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<GetAuthorizerInfoResponse, ServiceError> {
        let req = GetAuthorizerInfoRequest {
            component_appid: self.component(),
            authorizer_appid: appid.clone(),
        };
        let api = &self.wechat;
        self.tokens
            .with_component_token(|token| {
                let req = &req;
                async move { api.get_authorizer_info(&token, req).await }
            })
            .await
    }

    /// One page of `api_get_authorizer_list`.
    pub async fn get_authorizer_list(
        &self,
        offset: u32,
        count: u32,
    ) -> Result<GetAuthorizerListResponse, ServiceError> {
        let req = GetAuthorizerListRequest {
            component_appid: self.component(),
            offset,
            count,
        };
        let api = &self.wechat;
        self.tokens
            .with_component_token(|token| {
                let req = &req;
                async move { api.get_authorizer_list(&token, req).await }
            })
            .await
    }

    /// `cgi-bin/message/custom/send`: a customer-service text from `appid` to a user, with the
    /// authorizer's access token (a refused token is replaced once). Never replayed once sent:
    /// a second send would show the user the message twice.
    pub async fn send_custom_message(
        &self,
        appid: &AuthorizerAppid,
        msg: &CustomTextMessage,
    ) -> Result<(), ServiceError> {
        let api = &self.wechat;
        self.tokens
            .with_authorizer_token(appid, |token| async move {
                api.send_custom_message(&token, msg).await
            })
            .await
    }

    /// `api_get_authorizer_option`.
    pub async fn get_option(
        &self,
        req: &GetAuthorizerOptionRequest,
    ) -> Result<GetAuthorizerOptionResponse, ServiceError> {
        let api = &self.wechat;
        self.tokens
            .with_component_token(
                |token| async move { api.get_authorizer_option(&token, req).await },
            )
            .await
    }

    /// `api_set_authorizer_option`.
    pub async fn set_option(&self, req: &SetAuthorizerOptionRequest) -> Result<(), ServiceError> {
        let api = &self.wechat;
        self.tokens
            .with_component_token(
                |token| async move { api.set_authorizer_option(&token, req).await },
            )
            .await
    }
}
