//! `authorizer_info` of `api_get_authorizer_info`: an Official Account or a Mini Program.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// Declares an enum over WeChat's integer codes with a catch-all for values added later.
macro_rules! int_code {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "i64", into = "i64")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value not documented when this crate was written; kept as sent.
            Other(i64),
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                match v {
                    $($value => Self::$variant,)*
                    other => Self::Other(other),
                }
            }
        }

        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                match v {
                    $($name::$variant => $value,)*
                    $name::Other(other) => other,
                }
            }
        }
    };
}

int_code!(
    /// Official Account type (`service_type_info.id`).
    ServiceType {
        /// 0: Subscription Account.
        Subscription = 0,
        /// 1: Subscription Account upgraded from an older account.
        UpgradedSubscription = 1,
        /// 2: Service Account.
        Service = 2,
    }
);

int_code!(
    /// Mini Program type (`service_type_info.id`); the seed documents only the default, 0.
    MiniProgramType {
        /// 0: the default, an ordinary Mini Program.
        Default = 0,
    }
);

int_code!(
    /// Verification type (`verify_type_info.id`). Mini Programs use only -1 and 0.
    VerifyType {
        /// -1: unverified.
        Unverified = -1,
        /// 0: Weixin verification.
        Weixin = 0,
        /// 1: Sina Weibo verification.
        SinaWeibo = 1,
        /// 2: Tencent Weibo verification.
        TencentWeibo = 2,
        /// 3: passed qualification verification but not identity verification.
        QualificationOnly = 3,
        /// 4: passed qualification and Sina Weibo verification, but not identity verification.
        QualificationAndSinaWeibo = 4,
        /// 5: passed qualification and Tencent Weibo verification, but not identity verification.
        QualificationAndTencentWeibo = 5,
    }
);

/// `{"id": ...}` wrapper WeChat uses for type codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeInfo<T> {
    /// The code.
    pub id: T,
}

/// A 0/1 feature switch of `business_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub struct Switch(pub bool);

impl From<i64> for Switch {
    fn from(v: i64) -> Self {
        Self(v != 0)
    }
}

impl From<Switch> for i64 {
    fn from(v: Switch) -> i64 {
        i64::from(v.0)
    }
}

/// `business_info`: which features are enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BusinessInfo {
    /// Weixin Store.
    #[serde(default)]
    pub open_store: Switch,
    /// Scan Product via Weixin.
    #[serde(default)]
    pub open_scan: Switch,
    /// WeChat Pay.
    #[serde(default)]
    pub open_pay: Switch,
    /// Weixin Cards & Offers.
    #[serde(default)]
    pub open_card: Switch,
    /// Weixin Shake.
    #[serde(default)]
    pub open_shake: Switch,
}

/// Fields both account kinds share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountProfile {
    /// Display name ("alias" in the seed's wording).
    #[serde(default)]
    pub nick_name: String,
    /// Profile photo URL.
    #[serde(default)]
    pub head_img: String,
    /// Verification type.
    pub verify_type_info: TypeInfo<VerifyType>,
    /// Original ID (`gh_...`).
    #[serde(default)]
    pub user_name: String,
    /// Entity name.
    #[serde(default)]
    pub principal_name: String,
    /// Enabled features.
    #[serde(default)]
    pub business_info: BusinessInfo,
    /// QR code image URL.
    #[serde(default)]
    pub qrcode_url: String,
}

/// An Official Account's `authorizer_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficialAccountInfo {
    /// Shared fields.
    #[serde(flatten)]
    pub profile: AccountProfile,
    /// Subscription or Service Account.
    pub service_type_info: TypeInfo<ServiceType>,
    /// Weixin ID; may be blank.
    #[serde(default)]
    pub alias: String,
}

/// A Mini Program's `authorizer_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiniProgramInfo {
    /// Shared fields.
    #[serde(flatten)]
    pub profile: AccountProfile,
    /// Defaults to 0.
    #[serde(default = "default_mini_program_type")]
    pub service_type_info: TypeInfo<MiniProgramType>,
    /// Account description.
    #[serde(default)]
    pub signature: String,
    /// Mini Program configuration: its presence marks a Mini Program.
    pub miniprograminfo: MiniProgramConfig,
}

fn default_mini_program_type() -> TypeInfo<MiniProgramType> {
    TypeInfo {
        id: MiniProgramType::Default,
    }
}

/// `miniprograminfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MiniProgramConfig {
    /// Valid domain names.
    #[serde(default)]
    pub network: Network,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Visit status (undocumented in the seed beyond its example).
    #[serde(default)]
    pub visit_status: i64,
}

/// `miniprograminfo.network`: valid domains per kind of request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Network {
    /// `wx.request` domains.
    #[serde(rename = "RequestDomain", default)]
    pub request_domain: Vec<String>,
    /// WebSocket domains.
    #[serde(rename = "WsRequestDomain", default)]
    pub ws_request_domain: Vec<String>,
    /// Upload domains.
    #[serde(rename = "UploadDomain", default)]
    pub upload_domain: Vec<String>,
    /// Download domains.
    #[serde(rename = "DownloadDomain", default)]
    pub download_domain: Vec<String>,
}

/// One Mini Program category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// First-level category.
    #[serde(default)]
    pub first: String,
    /// Second-level category.
    #[serde(default)]
    pub second: String,
}

/// Which kind of account an authorizer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// An Official Account.
    OfficialAccount,
    /// A Mini Program.
    MiniProgram,
}

/// `authorizer_info`: the two documented variants, told apart by `miniprograminfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AuthorizerInfo {
    /// An Official Account.
    OfficialAccount(OfficialAccountInfo),
    /// A Mini Program.
    MiniProgram(MiniProgramInfo),
}

impl AuthorizerInfo {
    /// Which variant this is.
    pub fn kind(&self) -> AccountKind {
        match self {
            Self::OfficialAccount(_) => AccountKind::OfficialAccount,
            Self::MiniProgram(_) => AccountKind::MiniProgram,
        }
    }

    /// The fields both variants share.
    pub fn profile(&self) -> &AccountProfile {
        match self {
            Self::OfficialAccount(a) => &a.profile,
            Self::MiniProgram(m) => &m.profile,
        }
    }
}

impl<'de> Deserialize<'de> for AuthorizerInfo {
    // Chosen by the marker field first, so a malformed field gets a precise error instead of
    // "did not match any variant".
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let is_mini_program = value.get("miniprograminfo").is_some_and(|v| !v.is_null());
        if is_mini_program {
            serde_json::from_value(value)
                .map(Self::MiniProgram)
                .map_err(|e| D::Error::custom(format!("Mini Program authorizer_info: {e}")))
        } else {
            serde_json::from_value(value)
                .map(Self::OfficialAccount)
                .map_err(|e| D::Error::custom(format!("Official Account authorizer_info: {e}")))
        }
    }
}
