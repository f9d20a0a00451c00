//! What arrives at the message and event URL (`/wechat/messages/$APPID$`): the encrypted
//! envelope (XML, or JSON for Mini Programs configured so), the decrypted message of a user or
//! an account event, and the passive text reply.

use crate::events::{EncryptedEnvelope, EventError};
use crate::xml_fields::{xml_fields, MAX_DEPTH};
use serde::Deserialize;
use serde_json::{Map, Value};

/// How a body was written; the reply is written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `<xml>...</xml>`.
    Xml,
    /// A JSON object (Mini Programs whose message format is set to JSON).
    Json,
}

impl BodyFormat {
    /// JSON when the first non-blank character opens an object, XML otherwise.
    pub fn sniff(body: &str) -> Self {
        if body.trim_start().starts_with('{') {
            Self::Json
        } else {
            Self::Xml
        }
    }
}

#[derive(Deserialize)]
struct JsonEnvelope {
    #[serde(rename = "ToUserName", default)]
    to_user_name: Option<String>,
    #[serde(rename = "Encrypt", default)]
    encrypt: Option<String>,
}

/// Parses the outer body of a message, XML or JSON.
pub fn parse_envelope(body: &str) -> Result<(EncryptedEnvelope, BodyFormat), EventError> {
    let format = BodyFormat::sniff(body);
    let envelope = match format {
        BodyFormat::Xml => EncryptedEnvelope::parse_xml(body)?,
        BodyFormat::Json => {
            let raw: JsonEnvelope =
                serde_json::from_str(body).map_err(|e| EventError::Xml(e.to_string()))?;
            EncryptedEnvelope {
                app_id: None,
                to_user_name: raw.to_user_name.filter(|v| !v.trim().is_empty()),
                encrypt: raw.encrypt.filter(|v| !v.trim().is_empty()).ok_or(
                    EventError::MissingField {
                        info_type: "envelope".into(),
                        field: "Encrypt",
                    },
                )?,
            }
        }
    };
    Ok((envelope, format))
}

/// A decrypted message: what a user sent an account, or an account event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerMessage {
    /// `ToUserName`: the account's original id (`gh_...`).
    pub to_user_name: String,
    /// `FromUserName`: the user's openid.
    pub from_user_name: String,
    /// `CreateTime`, epoch seconds.
    pub create_time: i64,
    /// `MsgType`: `text`, `image`, `event`, ...
    pub msg_type: String,
    /// `Content` of a text message.
    pub content: Option<String>,
    /// `Event` of an event message.
    pub event: Option<String>,
    /// `MsgId` of a user message (events have none).
    pub msg_id: Option<String>,
    /// Every field as sent (nested elements as objects, repeated ones as arrays).
    pub fields: Map<String, Value>,
    /// How it was written.
    pub format: BodyFormat,
}

/// The deepest nesting of objects and arrays in `text` (brackets inside strings not counted),
/// so that JSON is held to the same limit as XML before it is parsed.
fn json_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for c in text.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, false, _) => {}
            (false, _, '"') => in_string = true,
            (false, _, '{' | '[') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, '}' | ']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl AuthorizerMessage {
    /// Parses a decrypted message in `format`.
    pub fn parse(text: &str, format: BodyFormat) -> Result<Self, EventError> {
        let fields = match format {
            BodyFormat::Xml => xml_fields(text)?,
            BodyFormat::Json if json_depth(text) > MAX_DEPTH => {
                return Err(EventError::Xml(
                    "objects or arrays nested too deeply".into(),
                ))
            }
            BodyFormat::Json => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(EventError::Xml("the message is not a JSON object".into())),
                Err(e) => return Err(EventError::Xml(e.to_string())),
            },
        };
        let text_of = |name: &str| -> Option<String> {
            match fields.get(name)? {
                Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let missing = |field: &'static str| EventError::MissingField {
            info_type: "message".into(),
            field,
        };
        let create_time = text_of("CreateTime")
            .ok_or_else(|| missing("CreateTime"))?
            .parse::<i64>()
            .map_err(|_| missing("CreateTime"))?;
        Ok(Self {
            to_user_name: text_of("ToUserName").ok_or_else(|| missing("ToUserName"))?,
            from_user_name: text_of("FromUserName").ok_or_else(|| missing("FromUserName"))?,
            create_time,
            msg_type: text_of("MsgType").ok_or_else(|| missing("MsgType"))?,
            // Content is kept as sent: a text message's spaces are part of it.
            content: match fields.get("Content") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
            event: text_of("Event"),
            msg_id: text_of("MsgId"),
            fields,
            format,
        })
    }

    /// The text of a text message.
    pub fn text(&self) -> Option<&str> {
        (self.msg_type == "text")
            .then_some(self.content.as_deref())
            .flatten()
    }
}

/// The encrypted envelope of a passive reply: what the platform answers WeChat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyEnvelope {
    /// Base64 ciphertext.
    pub encrypt: String,
    /// `sha1(sort(token, timestamp, nonce, encrypt))`.
    pub msg_signature: String,
    /// The timestamp signed.
    pub timestamp: String,
    /// The nonce signed.
    pub nonce: String,
}

impl ReplyEnvelope {
    /// Parses a reply body, XML or JSON.
    pub fn parse(body: &str) -> Result<(Self, BodyFormat), EventError> {
        let format = BodyFormat::sniff(body);
        let fields = match format {
            BodyFormat::Xml => xml_fields(body)?,
            BodyFormat::Json => match serde_json::from_str::<Value>(body) {
                Ok(Value::Object(map)) => map,
                _ => return Err(EventError::Xml("the reply is not a JSON object".into())),
            },
        };
        let get = |field: &'static str| -> Result<String, EventError> {
            match fields.get(field) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                _ => Err(EventError::MissingField {
                    info_type: "reply".into(),
                    field,
                }),
            }
        };
        Ok((
            Self {
                encrypt: get("Encrypt")?,
                msg_signature: get("MsgSignature")?,
                timestamp: get("TimeStamp")?,
                nonce: get("Nonce")?,
            },
            format,
        ))
    }
}

/// A passive text reply, before encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextReply {
    /// The user's openid (the message's `FromUserName`).
    pub to_user_name: String,
    /// The account (the message's `ToUserName`).
    pub from_user_name: String,
    /// Epoch seconds.
    pub create_time: i64,
    /// The text.
    pub content: String,
}

impl TextReply {
    /// A reply to `message` with `content`.
    pub fn to(message: &AuthorizerMessage, content: String, now: i64) -> Self {
        Self {
            to_user_name: message.from_user_name.clone(),
            from_user_name: message.to_user_name.clone(),
            create_time: now,
            content,
        }
    }

    /// The reply as `format`.
    pub fn render(&self, format: BodyFormat) -> String {
        match format {
            BodyFormat::Xml => {
                let mut out = String::from("<xml>");
                crate::events::element(&mut out, "ToUserName", &self.to_user_name);
                crate::events::element(&mut out, "FromUserName", &self.from_user_name);
                out.push_str(&format!("<CreateTime>{}</CreateTime>", self.create_time));
                crate::events::element(&mut out, "MsgType", "text");
                crate::events::element(&mut out, "Content", &self.content);
                out.push_str("</xml>");
                out
            }
            BodyFormat::Json => serde_json::json!({
                "ToUserName": self.to_user_name,
                "FromUserName": self.from_user_name,
                "CreateTime": self.create_time,
                "MsgType": "text",
                "Content": self.content,
            })
            .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "<xml><ToUserName><![CDATA[gh_3c884a361561]]></ToUserName><FromUserName><![CDATA[ozy4qt1eDxSxzCr0aNT0mXCWfrDE]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[TESTCOMPONENT_MSG_TYPE_TEXT]]></Content><MsgId>6364923474433998594</MsgId></xml>";

    #[test]
    fn text_message_reads_every_field() {
        let m = AuthorizerMessage::parse(TEXT, BodyFormat::Xml).unwrap();
        assert_eq!(m.to_user_name, "gh_3c884a361561");
        assert_eq!(m.from_user_name, "ozy4qt1eDxSxzCr0aNT0mXCWfrDE");
        assert_eq!(m.create_time, 1482048670);
        assert_eq!(m.text(), Some("TESTCOMPONENT_MSG_TYPE_TEXT"));
        assert_eq!(m.msg_id.as_deref(), Some("6364923474433998594"));
        assert_eq!(m.fields["MsgId"], "6364923474433998594");
    }

    #[test]
    fn event_with_nested_and_repeated_elements_keeps_them() {
        let xml = "<xml><ToUserName>gh_a</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>\
                   <MsgType>event</MsgType><Event>scancode_push</Event><ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo>\
                   <Item>1</Item><Item>2</Item><Empty/></xml>";
        let m = AuthorizerMessage::parse(xml, BodyFormat::Xml).unwrap();
        assert_eq!(m.event.as_deref(), Some("scancode_push"));
        assert_eq!(m.fields["ScanCodeInfo"]["ScanType"], "qrcode");
        assert_eq!(m.fields["Item"], serde_json::json!(["1", "2"]));
        assert_eq!(m.fields["Empty"], "");
        assert_eq!(m.text(), None);
    }

    #[test]
    fn json_message_of_a_mini_program() {
        let json = r#"{"ToUserName":"gh_8dad206e9538","FromUserName":"o2","CreateTime":1482048670,"MsgType":"text","Content":"QUERY_AUTH_CODE:abc","MsgId":1234567890123456}"#;
        let m = AuthorizerMessage::parse(json, BodyFormat::Json).unwrap();
        assert_eq!(m.text(), Some("QUERY_AUTH_CODE:abc"));
        assert_eq!(m.msg_id.as_deref(), Some("1234567890123456"));
        assert_eq!(m.format, BodyFormat::Json);
    }

    #[test]
    fn json_nested_as_deeply_as_xml_may_be_is_taken_and_deeper_is_refused() {
        // The object itself is one level; brackets inside a string are not nesting.
        let nested = |levels: usize| {
            let (open, close) = ("[".repeat(levels - 1), "]".repeat(levels - 1));
            format!(
                r#"{{"ToUserName":"gh_a","FromUserName":"o","CreateTime":1,"MsgType":"event","s":"}}]\"{{[","x":{open}{close}}}"#
            )
        };
        assert!(AuthorizerMessage::parse(&nested(MAX_DEPTH), BodyFormat::Json).is_ok());
        let err = AuthorizerMessage::parse(&nested(MAX_DEPTH + 1), BodyFormat::Json).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(AuthorizerMessage::parse(&deep, BodyFormat::Json).is_err());
    }

    #[test]
    fn garbage_and_missing_fields_are_errors_not_panics() {
        for bad in [
            "",
            "not xml",
            "<xml><ToUserName>gh</ToUserName>",
            "<root><a>1</a></root>",
            "<xml></xml>",
            "<xml><ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType></xml>",
            &format!("<xml>{}</xml>", "<a>".repeat(20)),
        ] {
            assert!(
                AuthorizerMessage::parse(bad, BodyFormat::Xml).is_err(),
                "{bad}"
            );
        }
        assert!(AuthorizerMessage::parse("[1]", BodyFormat::Json).is_err());
        assert!(AuthorizerMessage::parse("{", BodyFormat::Json).is_err());
    }

    #[test]
    fn envelopes_in_both_formats() {
        let (xml, f) = parse_envelope(
            "<xml><ToUserName><![CDATA[gh_a]]></ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>",
        )
        .unwrap();
        assert_eq!((xml.encrypt.as_str(), f), ("abc", BodyFormat::Xml));
        let (json, f) = parse_envelope(r#" {"ToUserName": "gh_a", "Encrypt": "abc"}"#).unwrap();
        assert_eq!((json.encrypt.as_str(), f), ("abc", BodyFormat::Json));
        assert!(parse_envelope(r#"{"ToUserName": "gh_a"}"#).is_err());
    }

    #[test]
    fn reply_goes_back_to_the_sender_in_the_same_format() {
        let m = AuthorizerMessage::parse(TEXT, BodyFormat::Xml).unwrap();
        let reply = TextReply::to(&m, "TESTCOMPONENT_MSG_TYPE_TEXT_callback".into(), 5);
        let xml = reply.render(BodyFormat::Xml);
        let back = AuthorizerMessage::parse(&xml, BodyFormat::Xml).unwrap();
        assert_eq!(back.to_user_name, "ozy4qt1eDxSxzCr0aNT0mXCWfrDE");
        assert_eq!(back.from_user_name, "gh_3c884a361561");
        assert_eq!(back.text(), Some("TESTCOMPONENT_MSG_TYPE_TEXT_callback"));
        let json = reply.render(BodyFormat::Json);
        let back = AuthorizerMessage::parse(&json, BodyFormat::Json).unwrap();
        assert_eq!(back.text(), Some("TESTCOMPONENT_MSG_TYPE_TEXT_callback"));
    }
}
