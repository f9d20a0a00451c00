//! Requests and responses of the component APIs (`/cgi-bin/component/<name>`).

use crate::authorizer_info::AuthorizerInfo;
use crate::ids::{AuthorizerAppid, ComponentAppid};
use crate::permissions::PermissionId;
use crate::secret::{
    AccessToken, AuthorizationCode, PreAuthCode, RefreshToken, Secret, VerifyTicket,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `api_component_token` request: the only call without a token in its query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentTokenRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The platform's AppSecret.
    pub component_appsecret: Secret,
    /// The latest pushed ticket.
    pub component_verify_ticket: VerifyTicket,
}

/// `api_component_token` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentTokenResponse {
    /// The component access token.
    pub component_access_token: AccessToken,
    /// Lifetime in seconds (7200).
    pub expires_in: u64,
}

/// `api_create_preauthcode` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePreAuthCodeRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
}

/// `api_create_preauthcode` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePreAuthCodeResponse {
    /// Single-use code for the authorization page.
    pub pre_auth_code: PreAuthCode,
    /// Lifetime in seconds (600 or 1800 depending on the documentation's age).
    pub expires_in: u64,
}

/// `api_query_auth` request (seed document `api_query_auth.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryAuthRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The code from the redirect or from an `authorized` push.
    pub authorization_code: AuthorizationCode,
}

/// `api_query_auth` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryAuthResponse {
    /// What the account granted.
    pub authorization_info: AuthorizationInfo,
}

/// The `authorization_info` of an exchange: tokens and the permission sets actually granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationInfo {
    /// The authorizer's AppID (the redirect does not carry it; this does).
    pub authorizer_appid: AuthorizerAppid,
    /// Present when the account has API permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_access_token: Option<AccessToken>,
    /// Lifetime of the access token in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Present when the account has API permissions; may be empty, in which case the account
    /// must authorize again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_refresh_token: Option<RefreshToken>,
    /// The permission sets granted: the truth, never the declared set.
    #[serde(default)]
    pub func_info: Vec<FuncInfo>,
}

impl AuthorizationInfo {
    /// The refresh token, treating WeChat's empty string as absent.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.authorizer_refresh_token
            .as_ref()
            .filter(|t| !t.is_empty())
    }

    /// The access token, treating an empty string as absent.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.authorizer_access_token
            .as_ref()
            .filter(|t| !t.is_empty())
    }

    /// Granted permission set ids, sorted and without duplicates.
    pub fn permission_ids(&self) -> Vec<PermissionId> {
        permission_ids(&self.func_info)
    }
}

/// Sorted, de-duplicated permission ids of a `func_info` list.
pub fn permission_ids(func_info: &[FuncInfo]) -> Vec<PermissionId> {
    let mut ids: Vec<PermissionId> = func_info.iter().map(|f| f.funcscope_category.id).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// One granted permission set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuncInfo {
    /// The set's id.
    pub funcscope_category: FuncscopeCategory,
    /// Present for sets that need the account's explicit confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_info: Option<ConfirmInfo>,
}

impl FuncInfo {
    /// A granted set with no confirmation info.
    pub fn new(id: u32) -> Self {
        Self {
            funcscope_category: FuncscopeCategory {
                id: PermissionId(id),
            },
            confirm_info: None,
        }
    }
}

/// `funcscope_category`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuncscopeCategory {
    /// The permission set id.
    pub id: PermissionId,
}

/// `confirm_info` of a permission set that needs confirmation (0 or 1 each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmInfo {
    /// Whether the set needs confirmation.
    #[serde(default)]
    pub need_confirm: i64,
    /// Whether the account has confirmed.
    #[serde(default)]
    pub already_confirm: i64,
    /// Whether the account can confirm now.
    #[serde(default)]
    pub can_confirm: i64,
}

/// `api_authorizer_token` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerTokenRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The account whose token is refreshed.
    pub authorizer_appid: AuthorizerAppid,
    /// Its stored refresh token.
    pub authorizer_refresh_token: RefreshToken,
}

/// `api_authorizer_token` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerTokenResponse {
    /// The new access token.
    pub authorizer_access_token: AccessToken,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// Whatever refresh token WeChat returned: always persisted before the access token is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_refresh_token: Option<RefreshToken>,
}

impl AuthorizerTokenResponse {
    /// The returned refresh token, treating an empty string as absent.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.authorizer_refresh_token
            .as_ref()
            .filter(|t| !t.is_empty())
    }
}

/// `api_get_authorizer_info` request (seed document `api_get_authorizer_info.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetAuthorizerInfoRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The account asked about.
    pub authorizer_appid: AuthorizerAppid,
}

/// `api_get_authorizer_info` response: the account's profile and what it granted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetAuthorizerInfoResponse {
    /// Official Account or Mini Program profile.
    pub authorizer_info: AuthorizerInfo,
    /// AppID and granted permission sets.
    pub authorization_info: AuthorizationGrant,
}

/// The `authorization_info` of `api_get_authorizer_info`.
///
/// The seed calls the AppID `authorization_appid`; the exchange calls it `authorizer_appid`.
/// Both are accepted and kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationGrant {
    /// The AppID under the seed's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_appid: Option<AuthorizerAppid>,
    /// The AppID under the exchange's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_appid: Option<AuthorizerAppid>,
    /// The permission sets granted.
    #[serde(default)]
    pub func_info: Vec<FuncInfo>,
}

impl AuthorizationGrant {
    /// The AppID, whichever name it came under.
    pub fn appid(&self) -> Option<&AuthorizerAppid> {
        self.authorization_appid
            .as_ref()
            .or(self.authorizer_appid.as_ref())
    }

    /// Granted permission set ids, sorted and without duplicates.
    pub fn permission_ids(&self) -> Vec<PermissionId> {
        permission_ids(&self.func_info)
    }
}

/// `api_get_authorizer_list` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetAuthorizerListRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// Start position.
    pub offset: u32,
    /// Page size, at most [`GetAuthorizerListRequest::MAX_COUNT`].
    pub count: u32,
}

impl GetAuthorizerListRequest {
    /// The largest page WeChat serves.
    pub const MAX_COUNT: u32 = 500;
}

/// `api_get_authorizer_list` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetAuthorizerListResponse {
    /// All authorizers of the platform.
    pub total_count: u64,
    /// This page.
    #[serde(default)]
    pub list: Vec<AuthorizerListItem>,
}

/// One authorizer in `api_get_authorizer_list`: the documented way to recover a refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerListItem {
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// Its current refresh token.
    pub refresh_token: RefreshToken,
    /// When it authorized, epoch seconds.
    #[serde(default)]
    pub auth_time: i64,
}

/// Option names of `api_get_authorizer_option` / `api_set_authorizer_option`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OptionName {
    /// `location_report`: 0 off, 1 on session entry, 2 every 5 seconds.
    LocationReport,
    /// `voice_recognize`: 0 off, 1 on.
    VoiceRecognize,
    /// `customer_service`: 0 off, 1 on.
    CustomerService,
    /// A name this crate does not know.
    Other(String),
}

impl OptionName {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::LocationReport => "location_report",
            Self::VoiceRecognize => "voice_recognize",
            Self::CustomerService => "customer_service",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for OptionName {
    fn from(s: &str) -> Self {
        match s {
            "location_report" => Self::LocationReport,
            "voice_recognize" => Self::VoiceRecognize,
            "customer_service" => Self::CustomerService,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for OptionName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OptionName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(d)?.as_str()))
    }
}

/// An option value: documented as a string, sometimes sent as a number. Kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OptionValue(pub String);

impl<'de> Deserialize<'de> for OptionValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(i64),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Text(s) => Self(s),
            Raw::Number(n) => Self(n.to_string()),
        })
    }
}

/// `api_get_authorizer_option` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetAuthorizerOptionRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// Which option.
    pub option_name: OptionName,
}

/// `api_get_authorizer_option` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetAuthorizerOptionResponse {
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// Which option.
    pub option_name: OptionName,
    /// Its value.
    pub option_value: OptionValue,
}

/// `api_set_authorizer_option` request; the response is a bare `errcode: 0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAuthorizerOptionRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// Which option.
    pub option_name: OptionName,
    /// The new value.
    pub option_value: OptionValue,
}

/// `api_start_push_ticket` request: makes WeChat push a `component_verify_ticket` now. No token
/// in the query; note the field is `component_secret`, not `component_appsecret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartPushTicketRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The platform's AppSecret.
    pub component_secret: Secret,
}

/// `clear_quota/v2`: resets an account's daily API quotas (no token, so it works when the
/// token's own quota is spent; WeChat allows 10 resets a month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClearQuotaRequest {
    /// The platform's AppID.
    pub component_appid: ComponentAppid,
    /// The platform's AppSecret.
    pub appsecret: Secret,
    /// The account whose quotas are reset; absent: the platform's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<AuthorizerAppid>,
}

/// The text of a customer-service message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomText {
    /// What the user reads.
    pub content: String,
}

/// `cgi-bin/message/custom/send` with a text, called with an authorizer's access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomTextMessage {
    /// The user's openid.
    pub touser: String,
    /// Always `text`.
    pub msgtype: String,
    /// The text.
    pub text: CustomText,
}

impl CustomTextMessage {
    /// A text `content` for `touser`.
    pub fn new(touser: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            touser: touser.into(),
            msgtype: "text".into(),
            text: CustomText {
                content: content.into(),
            },
        }
    }
}
