//! Pushes to the authorization event URL: the encrypted envelope and the decrypted events.

use crate::ids::{AuthorizerAppid, ComponentAppid, IdError};
use crate::secret::{AuthorizationCode, PreAuthCode, VerifyTicket};
use serde::Deserialize;

/// Why a push body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not well-formed XML, or not the expected elements.
    #[error("the push is not readable XML: {0}")]
    Xml(String),
    /// A field the event kind requires is missing or empty.
    #[error("the {info_type} push has no {field}")]
    MissingField {
        /// The event's `InfoType`.
        info_type: String,
        /// The missing element.
        field: &'static str,
    },
    /// An AppID in the push is malformed.
    #[error("the push carries a malformed AppID: {0}")]
    BadAppid(#[from] IdError),
}

/// The outer body WeChat POSTs: `<xml><AppId/><Encrypt/></xml>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedEnvelope {
    /// The component AppID (authorization events) when present.
    pub app_id: Option<String>,
    /// `ToUserName`, present on message pushes instead of `AppId`.
    pub to_user_name: Option<String>,
    /// Base64 ciphertext.
    pub encrypt: String,
}

#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(rename = "AppId", default)]
    app_id: Option<String>,
    #[serde(rename = "ToUserName", default)]
    to_user_name: Option<String>,
    #[serde(rename = "Encrypt", default)]
    encrypt: Option<String>,
}

impl EncryptedEnvelope {
    /// Parses the outer XML.
    pub fn parse_xml(xml: &str) -> Result<Self, EventError> {
        let raw: RawEnvelope =
            quick_xml::de::from_str(xml).map_err(|e| EventError::Xml(e.to_string()))?;
        let encrypt = non_empty(raw.encrypt).ok_or(EventError::MissingField {
            info_type: "envelope".into(),
            field: "Encrypt",
        })?;
        Ok(Self {
            app_id: non_empty(raw.app_id),
            to_user_name: non_empty(raw.to_user_name),
            encrypt,
        })
    }

    /// The XML WeChat sends, with CDATA sections.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<xml>");
        if let Some(app_id) = &self.app_id {
            element(&mut out, "AppId", app_id);
        }
        if let Some(to) = &self.to_user_name {
            element(&mut out, "ToUserName", to);
        }
        element(&mut out, "Encrypt", &self.encrypt);
        out.push_str("</xml>");
        out
    }
}

/// `component_verify_ticket` push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyTicketEvent {
    /// The platform.
    pub component_appid: ComponentAppid,
    /// Epoch seconds; the newest push wins.
    pub create_time: i64,
    /// The ticket.
    pub ticket: VerifyTicket,
}

/// `authorized` or `updateauthorized` push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationEvent {
    /// The platform.
    pub component_appid: ComponentAppid,
    /// Epoch seconds.
    pub create_time: i64,
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// A code to exchange with `api_query_auth`.
    pub authorization_code: AuthorizationCode,
    /// When the code expires, epoch seconds.
    pub authorization_code_expired_time: Option<i64>,
    /// The pre-auth code the authorization used.
    pub pre_auth_code: Option<PreAuthCode>,
}

/// `unauthorized` push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnauthorizedEvent {
    /// The platform.
    pub component_appid: ComponentAppid,
    /// Epoch seconds.
    pub create_time: i64,
    /// The account that revoked.
    pub authorizer_appid: AuthorizerAppid,
}

/// A decrypted push to the authorization event URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentEvent {
    /// A new `component_verify_ticket`.
    VerifyTicket(VerifyTicketEvent),
    /// An account authorized the platform.
    Authorized(AuthorizationEvent),
    /// An account changed the permission sets it grants.
    UpdateAuthorized(AuthorizationEvent),
    /// An account revoked the authorization.
    Unauthorized(UnauthorizedEvent),
    /// Any other push (fast registration, ICP filing, verification, and types WeChat adds):
    /// typed by [`crate::pushes::ComponentPush::of`], kept whole here.
    Other {
        /// The platform.
        component_appid: ComponentAppid,
        /// Epoch seconds.
        create_time: i64,
        /// The `InfoType` as sent.
        info_type: String,
        /// Every field as sent (`AppId`, `CreateTime` and `InfoType` too), nested elements as
        /// objects.
        fields: serde_json::Map<String, serde_json::Value>,
    },
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "AppId", default)]
    app_id: Option<String>,
    #[serde(rename = "CreateTime", default)]
    create_time: Option<String>,
    #[serde(rename = "InfoType", default)]
    info_type: Option<String>,
    #[serde(rename = "ComponentVerifyTicket", default)]
    ticket: Option<String>,
    #[serde(rename = "AuthorizerAppid", default)]
    authorizer_appid: Option<String>,
    #[serde(rename = "AuthorizationCode", default)]
    authorization_code: Option<String>,
    #[serde(rename = "AuthorizationCodeExpiredTime", default)]
    code_expired_time: Option<String>,
    #[serde(rename = "PreAuthCode", default)]
    pre_auth_code: Option<String>,
}

impl ComponentEvent {
    /// Parses a decrypted push.
    pub fn parse_xml(xml: &str) -> Result<Self, EventError> {
        let raw: RawEvent =
            quick_xml::de::from_str(xml).map_err(|e| EventError::Xml(e.to_string()))?;
        let info_type = non_empty(raw.info_type).ok_or(EventError::MissingField {
            info_type: "unknown".into(),
            field: "InfoType",
        })?;
        let missing = |field: &'static str| EventError::MissingField {
            info_type: info_type.clone(),
            field,
        };
        let component_appid =
            ComponentAppid::parse(non_empty(raw.app_id).ok_or_else(|| missing("AppId"))?)?;
        let create_time = non_empty(raw.create_time)
            .ok_or_else(|| missing("CreateTime"))?
            .trim()
            .parse::<i64>()
            .map_err(|_| missing("CreateTime"))?;
        let authorizer = |value: Option<String>| -> Result<AuthorizerAppid, EventError> {
            Ok(AuthorizerAppid::parse(
                non_empty(value).ok_or_else(|| missing("AuthorizerAppid"))?,
            )?)
        };
        Ok(match info_type.as_str() {
            "component_verify_ticket" => Self::VerifyTicket(VerifyTicketEvent {
                component_appid,
                create_time,
                ticket: VerifyTicket::new(
                    non_empty(raw.ticket).ok_or_else(|| missing("ComponentVerifyTicket"))?,
                ),
            }),
            "authorized" | "updateauthorized" => {
                let event = AuthorizationEvent {
                    component_appid,
                    create_time,
                    authorizer_appid: authorizer(raw.authorizer_appid)?,
                    authorization_code: AuthorizationCode::new(
                        non_empty(raw.authorization_code)
                            .ok_or_else(|| missing("AuthorizationCode"))?,
                    ),
                    authorization_code_expired_time: non_empty(raw.code_expired_time)
                        .and_then(|t| t.trim().parse().ok()),
                    pre_auth_code: non_empty(raw.pre_auth_code).map(PreAuthCode::new),
                };
                if info_type == "authorized" {
                    Self::Authorized(event)
                } else {
                    Self::UpdateAuthorized(event)
                }
            }
            "unauthorized" => Self::Unauthorized(UnauthorizedEvent {
                component_appid,
                create_time,
                authorizer_appid: authorizer(raw.authorizer_appid)?,
            }),
            _ => Self::Other {
                component_appid,
                create_time,
                info_type,
                fields: crate::xml_fields::xml_fields(xml)?,
            },
        })
    }

    /// The `InfoType` of this event.
    pub fn info_type(&self) -> &str {
        match self {
            Self::VerifyTicket(_) => "component_verify_ticket",
            Self::Authorized(_) => "authorized",
            Self::UpdateAuthorized(_) => "updateauthorized",
            Self::Unauthorized(_) => "unauthorized",
            Self::Other { info_type, .. } => info_type,
        }
    }

    /// The component AppID the push names.
    pub fn component_appid(&self) -> &ComponentAppid {
        match self {
            Self::VerifyTicket(e) => &e.component_appid,
            Self::Authorized(e) | Self::UpdateAuthorized(e) => &e.component_appid,
            Self::Unauthorized(e) => &e.component_appid,
            Self::Other {
                component_appid, ..
            } => component_appid,
        }
    }

    /// The XML WeChat sends for this event (before encryption), with CDATA sections.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<xml>");
        element(&mut out, "AppId", self.component_appid().as_str());
        let create_time = match self {
            Self::VerifyTicket(e) => e.create_time,
            Self::Authorized(e) | Self::UpdateAuthorized(e) => e.create_time,
            Self::Unauthorized(e) => e.create_time,
            Self::Other { create_time, .. } => *create_time,
        };
        out.push_str(&format!("<CreateTime>{create_time}</CreateTime>"));
        element(&mut out, "InfoType", self.info_type());
        match self {
            Self::VerifyTicket(e) => element(&mut out, "ComponentVerifyTicket", e.ticket.expose()),
            Self::Authorized(e) | Self::UpdateAuthorized(e) => {
                element(&mut out, "AuthorizerAppid", e.authorizer_appid.as_str());
                element(&mut out, "AuthorizationCode", e.authorization_code.expose());
                if let Some(t) = e.authorization_code_expired_time {
                    out.push_str(&format!(
                        "<AuthorizationCodeExpiredTime>{t}</AuthorizationCodeExpiredTime>"
                    ));
                }
                if let Some(p) = &e.pre_auth_code {
                    element(&mut out, "PreAuthCode", p.expose());
                }
            }
            Self::Unauthorized(e) => {
                element(&mut out, "AuthorizerAppid", e.authorizer_appid.as_str())
            }
            Self::Other { fields, .. } => {
                for (name, value) in fields {
                    if !matches!(name.as_str(), "AppId" | "CreateTime" | "InfoType") {
                        value_xml(&mut out, name, value);
                    }
                }
            }
        }
        out.push_str("</xml>");
        out
    }
}

/// Appends `value` as the element `name`: text as CDATA, an object's fields as children, an
/// array as the element repeated.
fn value_xml(out: &mut String, name: &str, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (child, v) in map {
                value_xml(out, child, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => items.iter().for_each(|v| value_xml(out, name, v)),
        Value::String(text) => element(out, name, text),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Appends `<name><![CDATA[text]]></name>`.
pub(crate) fn element(out: &mut String, name: &str, text: &str) {
    // A CDATA section cannot contain "]]>": split it across two sections.
    let text = text.replace("]]>", "]]]]><![CDATA[>");
    out.push_str(&format!("<{name}><![CDATA[{text}]]></{name}>"));
}
