//! The pushes at the authorization event URL beyond the ticket and the three authorization
//! kinds (the protocol notes, "More pushes"), typed from the push's fields. Fields sit at the top
//! level (`status` included: one SDK reads it from `info` and never sees a success) unless they
//! are inside `info`; every value arrives as XML text, so numbers are read from text or number.
//! An InfoType not listed is [`ComponentPush::Unknown`]: it is still published whole.

use crate::events::EventError;
use crate::secret::AuthorizationCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A component push other than the ticket and the authorization kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentPush {
    /// `notify_third_fasteregister`: a fast-registered Mini Program, with its authorization code
    /// when `status` is 0.
    FastRegister(Registration),
    /// `notify_third_fastregisterbetaapp`: a beta Mini Program created (its authorization comes
    /// as a separate `authorized` push).
    FastRegisterBeta(Registration),
    /// `notify_third_fastverifybetaapp`: a beta Mini Program became a regular one.
    FastVerifyBeta(Registration),
    /// `notify_icpfiling_verify_result`: the ICP filing's face check.
    IcpFilingVerify(IcpFilingVerify),
    /// `notify_apply_icpfiling_result`: the ICP filing's result.
    IcpFilingApply(IcpFilingApply),
    /// `notify_3rd_wxa_auth`: verification progress.
    WxaAuth(WxaAuth),
    /// `notify_3rd_wxa_wxverify`: a verification expires.
    WxaVerify(WxaVerify),
    /// `notify_3rd_wxa_auth_and_icp`: the combined verification and ICP flow.
    WxaAuthAndIcp(WxaAuthAndIcp),
    /// Any other InfoType, kept whole in the push's fields.
    Unknown,
}

/// The fields of the registration pushes (`fast*register*`, `fastverifybetaapp`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Registration {
    /// The new Mini Program's AppID.
    #[serde(default)]
    pub appid: Option<String>,
    /// 0 on success, else the failure's code.
    #[serde(default, deserialize_with = "number")]
    pub status: Option<i64>,
    /// The authorization code of the new account (`fasteregister`, status 0), exchanged once.
    #[serde(default)]
    pub auth_code: Option<AuthorizationCode>,
    /// WeChat's message.
    #[serde(default)]
    pub msg: Option<String>,
    /// What the registration was made with, as WeChat echoes it.
    #[serde(default)]
    pub info: RegistrationInfo,
}

/// `info` of a registration push: the fields of each kind (all optional: new-version flows may
/// send only `taskid`, or `name`, `code` and `taskid`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RegistrationInfo {
    /// The enterprise's or Mini Program's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The enterprise's code.
    #[serde(default)]
    pub code: Option<String>,
    /// The code's type.
    #[serde(default, deserialize_with = "number")]
    pub code_type: Option<i64>,
    /// The legal person's WeChat id.
    #[serde(default)]
    pub legal_persona_wechat: Option<String>,
    /// The legal person's name.
    #[serde(default)]
    pub legal_persona_name: Option<String>,
    /// The platform's contact phone.
    #[serde(default)]
    pub component_phone: Option<String>,
    /// Personal registration: the person's WeChat id.
    #[serde(default)]
    pub wxuser: Option<String>,
    /// Personal registration: the person's name.
    #[serde(default)]
    pub idname: Option<String>,
    /// The new-version flows' task id.
    #[serde(default)]
    pub taskid: Option<String>,
    /// A beta Mini Program's unique id.
    #[serde(default)]
    pub unique_id: Option<String>,
}

/// `notify_icpfiling_verify_result`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IcpFilingVerify {
    /// The filing's task.
    #[serde(default)]
    pub task_id: Option<String>,
    /// The account checked.
    #[serde(default)]
    pub verify_appid: Option<String>,
    /// 2 failed, 3 passed.
    #[serde(default, deserialize_with = "number")]
    pub result: Option<i64>,
    /// The verification's result when it ran along.
    #[serde(default)]
    pub along_with_auth_result: Option<Value>,
}

/// `notify_apply_icpfiling_result`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IcpFilingApply {
    /// The account filed.
    #[serde(default)]
    pub authorizer_appid: Option<String>,
    /// 2/3 platform review/rejected, 4/5 authority review/rejected, 6 filed, 1024 not filed.
    #[serde(default, deserialize_with = "number")]
    pub beian_status: Option<i64>,
}

/// `notify_3rd_wxa_auth`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WxaAuth {
    /// The account.
    #[serde(default)]
    pub appid: Option<String>,
    /// The verification task.
    #[serde(default)]
    pub taskid: Option<String>,
    /// 0 to 15.
    #[serde(default, deserialize_with = "number")]
    pub task_status: Option<i64>,
    /// 1 awaiting payment, 2 in review, 3 refill, 4 passed, 5 failed.
    #[serde(default, deserialize_with = "number")]
    pub apply_status: Option<i64>,
    /// WeChat's message.
    #[serde(default)]
    pub message: Option<String>,
    /// Who reviews it (`provider`, `contact`, `dispatch_time`).
    #[serde(default)]
    pub dispatch_info: Option<Value>,
}

/// `notify_3rd_wxa_wxverify`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WxaVerify {
    /// The account.
    #[serde(default)]
    pub appid: Option<String>,
    /// When its verification expires, epoch seconds.
    #[serde(default, deserialize_with = "number")]
    pub expired: Option<i64>,
    /// WeChat's message.
    #[serde(default)]
    pub message: Option<String>,
}

/// `notify_3rd_wxa_auth_and_icp`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WxaAuthAndIcp {
    /// The procedure.
    #[serde(default)]
    pub procedure_id: Option<String>,
    /// Its status.
    #[serde(default, deserialize_with = "number")]
    pub procedure_status: Option<i64>,
}

/// A number written as text (XML) or as a number (JSON); empty text is none.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("not an integer")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an integer"))),
        Some(_) => Err(serde::de::Error::custom("not an integer")),
    }
}

impl ComponentPush {
    /// The push named `info_type`, typed from its `fields`. A listed type whose fields do not
    /// read is an error naming the type; an unlisted one is [`ComponentPush::Unknown`].
    pub fn of(info_type: &str, fields: &Map<String, Value>) -> Result<Self, EventError> {
        fn read<T: DeserializeOwned>(
            info_type: &str,
            fields: &Map<String, Value>,
        ) -> Result<T, EventError> {
            // `info` may be absent or empty text (`<info/>`): an empty object.
            let mut fields = fields.clone();
            if matches!(fields.get("info"), Some(Value::String(s)) if s.trim().is_empty()) {
                fields.insert("info".into(), Value::Object(Map::new()));
            }
            serde_json::from_value(Value::Object(fields))
                .map_err(|e| EventError::Xml(format!("{info_type}: {e}")))
        }
        Ok(match info_type {
            "notify_third_fasteregister" => Self::FastRegister(read(info_type, fields)?),
            "notify_third_fastregisterbetaapp" => Self::FastRegisterBeta(read(info_type, fields)?),
            "notify_third_fastverifybetaapp" => Self::FastVerifyBeta(read(info_type, fields)?),
            "notify_icpfiling_verify_result" => Self::IcpFilingVerify(read(info_type, fields)?),
            "notify_apply_icpfiling_result" => Self::IcpFilingApply(read(info_type, fields)?),
            "notify_3rd_wxa_auth" => Self::WxaAuth(read(info_type, fields)?),
            "notify_3rd_wxa_wxverify" => Self::WxaVerify(read(info_type, fields)?),
            "notify_3rd_wxa_auth_and_icp" => Self::WxaAuthAndIcp(read(info_type, fields)?),
            _ => Self::Unknown,
        })
    }
}

/// The fields of a push as it may be published: every field as WeChat sent it, but an
/// authorization code (`auth_code`, `AuthorizationCode`) or anything named like a token removed
/// at any depth, since no event carries a code or a token.
pub fn publishable(fields: &Map<String, Value>) -> Map<String, Value> {
    fn secret(name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        matches!(
            lower.as_str(),
            "auth_code" | "authorizationcode" | "authorization_code" | "componentverifyticket"
        ) || lower.ends_with("token")
    }
    fn scrub(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(publishable(map)),
            Value::Array(items) => Value::Array(items.iter().map(scrub).collect()),
            other => other.clone(),
        }
    }
    fields
        .iter()
        .filter(|(k, _)| !secret(k))
        .map(|(k, v)| (k.clone(), scrub(v)))
        .collect()
}

#[cfg(test)]
mod tests;
