//! `component-api`'s authorizer options: `api_get_authorizer_option` and
//! `api_set_authorizer_option`, typed.

use super::{ComponentCalls, ServiceError};
use wxopen_models::api::{
    GetAuthorizerOptionRequest, GetAuthorizerOptionResponse, OptionName, OptionValue,
    SetAuthorizerOptionRequest,
};
use wxopen_models::AuthorizerAppid;

impl ComponentCalls {
    /// `api_get_authorizer_option`.
    pub async fn get_option(
        &self,
        appid: &AuthorizerAppid,
        name: &OptionName,
    ) -> Result<GetAuthorizerOptionResponse, ServiceError> {
        let req = GetAuthorizerOptionRequest {
            component_appid: self.component(),
            authorizer_appid: appid.clone(),
            option_name: name.clone(),
        };
        self.api.get_option(&req).await
    }

    /// `api_set_authorizer_option`.
    pub async fn set_option(
        &self,
        appid: &AuthorizerAppid,
        name: &OptionName,
        value: &OptionValue,
    ) -> Result<(), ServiceError> {
        let req = SetAuthorizerOptionRequest {
            component_appid: self.component(),
            authorizer_appid: appid.clone(),
            option_name: name.clone(),
            option_value: value.clone(),
        };
        self.api.set_option(&req).await
    }
}
