//! Registering Mini Programs for the platform's customers (fast registration, WeChat's 2026
//! `new_version` flows): what a caller asks for, what WeChat answers, what a registration's
//! state is, and what a failed registration's status code means.

use serde::{Deserialize, Serialize};

/// Which of WeChat's fast-registration flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationKind {
    /// An enterprise's Mini Program (`fastregisterenterpriseweapp`, `new_version`).
    Enterprise,
    /// A person's Mini Program (`fastregisterpersonalweapp`).
    Personal,
    /// A beta (trial) Mini Program (`fastregisterbetaweapp`).
    Beta,
}

impl RegistrationKind {
    /// The stored and published name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enterprise => "enterprise",
            Self::Personal => "personal",
            Self::Beta => "beta",
        }
    }

    /// The kind named `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "enterprise" => Some(Self::Enterprise),
            "personal" => Some(Self::Personal),
            "beta" => Some(Self::Beta),
            _ => None,
        }
    }
}

impl std::fmt::Display for RegistrationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the person registered for must give, per kind: the body of WeChat's call (without
/// `new_version`, which the service adds). Every field is checked before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RegistrationDetails {
    /// An enterprise: its name and code, the legal person, the platform's contact phone.
    Enterprise {
        /// The enterprise's registered name.
        name: String,
        /// Its code (the 18-character unified social credit code when `code_type` is 1).
        code: String,
        /// 1 unified social credit code (default), 2 organization code, 3 business licence.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code_type: Option<u8>,
        /// The legal person's WeChat id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        legal_persona_wechat: Option<String>,
        /// The legal person's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        legal_persona_name: Option<String>,
        /// The platform's contact phone, shown to the person.
        component_phone: String,
    },
    /// A person: their name and WeChat id.
    Personal {
        /// The person's name on their ID.
        idname: String,
        /// Their WeChat id.
        wxuser: String,
        /// The platform's contact phone, shown to the person.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        component_phone: Option<String>,
    },
    /// A beta Mini Program, created for a WeChat user of the platform's Official Account.
    Beta {
        /// The Mini Program's name.
        name: String,
        /// The user's openid (of the platform's Official Account).
        openid: String,
    },
}

/// A field the caller must fix, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DetailError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Longest text accepted in a field: WeChat's names and ids are far shorter.
const MAX_FIELD: usize = 128;

fn text(field: &'static str, value: &str) -> Result<(), DetailError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DetailError {
            field,
            reason: "is required".into(),
        });
    }
    if trimmed.chars().count() > MAX_FIELD || trimmed.chars().any(char::is_control) {
        return Err(DetailError {
            field,
            reason: format!("must be at most {MAX_FIELD} characters, without control characters"),
        });
    }
    Ok(())
}

fn optional(field: &'static str, value: &Option<String>) -> Result<(), DetailError> {
    value.as_deref().map_or(Ok(()), |v| text(field, v))
}

impl RegistrationDetails {
    /// Its kind.
    pub fn kind(&self) -> RegistrationKind {
        match self {
            Self::Enterprise { .. } => RegistrationKind::Enterprise,
            Self::Personal { .. } => RegistrationKind::Personal,
            Self::Beta { .. } => RegistrationKind::Beta,
        }
    }

    /// Every field present and plausible; the first that is not, named.
    pub fn check(&self) -> Result<(), DetailError> {
        match self {
            Self::Enterprise {
                name,
                code,
                code_type,
                legal_persona_wechat,
                legal_persona_name,
                component_phone,
            } => {
                text("name", name)?;
                text("code", code)?;
                if !code
                    .trim()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(DetailError {
                        field: "code",
                        reason: "must be letters and digits".into(),
                    });
                }
                if code_type.is_some_and(|t| !(1..=3).contains(&t)) {
                    return Err(DetailError {
                        field: "code_type",
                        reason: "must be 1 (unified social credit code), 2 or 3".into(),
                    });
                }
                if code_type.unwrap_or(1) == 1 && code.trim().len() != 18 {
                    return Err(DetailError {
                        field: "code",
                        reason: "a unified social credit code has 18 characters".into(),
                    });
                }
                optional("legal_persona_wechat", legal_persona_wechat)?;
                optional("legal_persona_name", legal_persona_name)?;
                text("component_phone", component_phone)
            }
            Self::Personal {
                idname,
                wxuser,
                component_phone,
            } => {
                text("idname", idname)?;
                text("wxuser", wxuser)?;
                optional("component_phone", component_phone)
            }
            Self::Beta { name, openid } => {
                text("name", name)?;
                text("openid", openid)
            }
        }
    }
}

/// WeChat's answer to a registration call: a task id (enterprise, personal) or a unique id
/// (beta), and the URL the person opens. The URL's field name is not settled in WeChat's
/// documentation (`authorize_url` as seen; `verify_url` accepted too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RegistrationAnswer {
    /// The new-version flows' task id.
    #[serde(default)]
    pub taskid: Option<String>,
    /// A beta registration's id.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// The URL the person opens (as seen).
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// The URL under its other name.
    #[serde(default)]
    pub verify_url: Option<String>,
}

impl RegistrationAnswer {
    /// The URL the person opens, under either name.
    pub fn url(&self) -> Option<&str> {
        self.authorize_url
            .as_deref()
            .or(self.verify_url.as_deref())
            .filter(|u| !u.is_empty())
    }
}

/// Where a registration stands, as `registration` answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationState {
    /// Waiting for the person (or WeChat) within the 24 hours.
    Waiting,
    /// The Mini Program exists and its authorization is stored.
    Registered,
    /// WeChat refused or the person did not finish: `status` and `reason` say which.
    Failed,
    /// Nobody completed it within WeChat's 24 hours.
    Expired,
}

impl RegistrationState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Registered => "registered",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }
}

/// What a fast registration's failure `status` means, in words (WeChat's table for the
/// registration push); an unlisted code is said to be one.
pub fn failure_reason(status: i64) -> String {
    let known = match status {
        100001 => "the legal person did not confirm within 24 hours (ID card not verified)",
        100002 => "the legal person did not confirm within 24 hours (face not verified)",
        100003 => "the legal person did not confirm within 24 hours",
        101 => "the business registry says the enterprise is deregistered",
        102 => "the business registry does not know the enterprise, or its record is not updated",
        103 => "the legal person's name does not match the business registry",
        104 => "the legal person's ID number does not match the business registry",
        105 => "the business registry has not updated the legal person's ID number yet: try again in 5 to 15 working days",
        1000 => "the enterprise's or the legal person's information does not match the business registry",
        1001 => "the enterprise has reached its limit of Mini Programs",
        1002 => "the enterprise is blacklisted for violations",
        1003 => "the administrator has reached their limit of bound accounts",
        1004 => "the administrator is blacklisted for violations",
        1005 => "the administrator's phone has reached its limit of bound accounts",
        1006 => "the administrator's phone number is blacklisted for violations",
        1007 => "the administrator's ID card has reached its limit of created accounts",
        1008 => "the administrator's ID card is blacklisted for violations",
        -1 => "the enterprise's name and the legal person's name do not match",
        _ => return format!("WeChat's registration status {status}, not in its documented table"),
    };
    known.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(v: serde_json::Value) -> Result<RegistrationDetails, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn each_kind_reads_its_own_fields() {
        let e = details(json!({"kind": "enterprise", "name": "Acme", "code": "91440300MA5EXAMPLE",
            "legal_persona_wechat": "acme_boss", "legal_persona_name": "Li", "component_phone": "0755-1"}))
        .unwrap();
        assert_eq!(e.kind(), RegistrationKind::Enterprise);
        assert_eq!(e.check(), Ok(()));
        let p = details(json!({"kind": "personal", "idname": "Wang", "wxuser": "wang_w"})).unwrap();
        assert_eq!((p.kind(), p.check()), (RegistrationKind::Personal, Ok(())));
        let b = details(json!({"kind": "beta", "name": "Trial", "openid": "o6_bm"})).unwrap();
        assert_eq!((b.kind(), b.check()), (RegistrationKind::Beta, Ok(())));
    }

    #[test]
    fn an_unknown_kind_or_a_missing_field_is_refused_by_name() {
        assert!(details(json!({"kind": "franchise", "name": "x"})).is_err());
        assert!(details(json!({"kind": "beta", "name": "x"})).is_err());
        let blank = details(json!({"kind": "beta", "name": " ", "openid": "o"})).unwrap();
        assert_eq!(blank.check().unwrap_err().field, "name");
        let short = details(json!({"kind": "enterprise", "name": "Acme", "code": "123",
            "component_phone": "1"}))
        .unwrap();
        assert_eq!(short.check().unwrap_err().field, "code");
        let other_type = details(json!({"kind": "enterprise", "name": "Acme", "code": "123",
            "code_type": 2, "component_phone": "1"}))
        .unwrap();
        assert_eq!(other_type.check(), Ok(()));
    }

    #[test]
    fn the_url_is_read_under_either_name() {
        let a: RegistrationAnswer =
            serde_json::from_value(json!({"taskid": "t1", "authorize_url": "https://a"})).unwrap();
        assert_eq!(a.url(), Some("https://a"));
        let b: RegistrationAnswer =
            serde_json::from_value(json!({"taskid": "t1", "verify_url": "https://v"})).unwrap();
        assert_eq!(b.url(), Some("https://v"));
    }

    #[test]
    fn failure_statuses_are_named_in_words() {
        assert!(failure_reason(100001).contains("did not confirm within 24 hours"));
        assert!(failure_reason(1001).contains("limit of Mini Programs"));
        assert!(failure_reason(42).contains("42"));
    }
}
