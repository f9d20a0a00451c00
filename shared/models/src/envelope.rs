//! WeChat's response envelope: every response may be `{"errcode": N, "errmsg": "..."}` instead.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The error object WeChat returns in place of data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Non-zero on failure.
    pub errcode: i64,
    /// WeChat's short description, in English or Chinese.
    #[serde(default)]
    pub errmsg: String,
}

/// Why a response body could not be turned into the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// WeChat answered with an error object.
    #[error("WeChat returned errcode {} ({})", .0.errcode, .0.errmsg)]
    WeChat(ErrorBody),
    /// The body was not JSON at all (an HTML error page from a proxy, for example).
    #[error("the response is not JSON ({snippet:?}): a proxy or gateway answered instead of WeChat, or WECHAT_API_BASE points at the wrong host")]
    NotJson {
        /// The first characters of the body, control characters removed.
        snippet: String,
    },
    /// The body was JSON and had no error, but lacked the data this call returns.
    #[error("the response is JSON but not the expected shape: {reason}")]
    UnexpectedShape {
        /// The parser's account of the missing or mistyped field.
        reason: String,
    },
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// Parses a WeChat response body: an error object when `errcode` is non-zero, else `T`.
///
/// A success either has no `errcode` or has `errcode: 0`.
pub fn parse_response<T: DeserializeOwned>(body: &[u8]) -> Result<T, ResponseError> {
    let probe: Probe = serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() || !looks_like_json_object(body) {
            ResponseError::NotJson {
                snippet: snippet(body),
            }
        } else {
            ResponseError::UnexpectedShape {
                reason: e.to_string(),
            }
        }
    })?;
    if let Some(code) = probe.errcode.filter(|c| *c != 0) {
        return Err(ResponseError::WeChat(ErrorBody {
            errcode: code,
            errmsg: probe.errmsg.unwrap_or_default(),
        }));
    }
    serde_json::from_slice(body).map_err(|e| ResponseError::UnexpectedShape {
        reason: e.to_string(),
    })
}

/// Parses a response that carries no data: only `errcode: 0` (or nothing) means success.
pub fn parse_ack(body: &[u8]) -> Result<(), ResponseError> {
    parse_response::<serde::de::IgnoredAny>(body).map(|_| ())
}

fn looks_like_json_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(80)])
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Data {
        value: u32,
    }

    #[test]
    fn success_without_errcode_and_with_errcode_zero() {
        let d: Data = parse_response(br#"{"value": 3}"#).unwrap();
        assert_eq!(d.value, 3);
        let d: Data = parse_response(br#"{"errcode": 0, "errmsg": "ok", "value": 4}"#).unwrap();
        assert_eq!(d.value, 4);
    }

    #[test]
    fn error_object_becomes_wechat_error() {
        let e = parse_response::<Data>(br#"{"errcode": 61010, "errmsg": "code is expired"}"#)
            .unwrap_err();
        assert_eq!(
            e,
            ResponseError::WeChat(ErrorBody {
                errcode: 61010,
                errmsg: "code is expired".into()
            })
        );
    }

    #[test]
    fn html_page_is_not_json() {
        let e = parse_response::<Data>(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
        assert!(matches!(e, ResponseError::NotJson { ref snippet } if snippet.contains("502")));
        let e = parse_response::<Data>(br#"{"value": 3"#).unwrap_err();
        assert!(matches!(e, ResponseError::NotJson { .. }));
    }

    #[test]
    fn errcode_zero_without_data_is_unexpected_shape() {
        let e = parse_response::<Data>(br#"{"errcode": 0, "errmsg": "ok"}"#).unwrap_err();
        assert!(
            matches!(e, ResponseError::UnexpectedShape { ref reason } if reason.contains("value"))
        );
    }

    #[test]
    fn ack_accepts_zero_and_refuses_error() {
        assert!(parse_ack(br#"{"errcode": 0, "errmsg": "ok"}"#).is_ok());
        assert!(parse_ack(br#"{"errcode": 45009, "errmsg": "quota"}"#).is_err());
    }
}
