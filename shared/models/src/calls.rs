//! Calls to any WeChat API on behalf of another function (`authorizer-api`, `component-api`):
//! what the caller asks for, checked before anything is sent, and WeChat's answer as it came.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`: never has a body; safe to send again.
    Get,
    /// `POST` (the default): a JSON body; sent again after a lost answer only when the caller
    /// says it is safe.
    #[default]
    Post,
}

/// Why a call was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The path is not a plain path on `WECHAT_API_BASE`.
    #[error("path {path:?} is not allowed: {why}; pass a path on the WeChat API host such as /cgi-bin/message/custom/send")]
    Path {
        /// The refused path, shortened.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The caller sent a token, which this service injects itself.
    #[error("{name} must not be sent: this service adds the right token itself (and replaces a refused one); remove it from the {place}")]
    Token {
        /// The parameter or field.
        name: String,
        /// `query` or `body`.
        place: &'static str,
    },
    /// A query value that is neither text nor a number.
    #[error("query parameter {0:?} must be a string or a number")]
    QueryValue(String),
    /// A body on a GET.
    #[error("a GET call has no body: send the parameters in query, or use POST")]
    BodyOnGet,
}

/// Names no caller may send: the tokens this service injects.
const TOKEN_NAMES: [&str; 4] = [
    "access_token",
    "component_access_token",
    "authorizer_access_token",
    "authorizer_refresh_token",
];

fn is_token_name(name: &str) -> bool {
    TOKEN_NAMES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name.trim()))
}

/// A checked path: starts with `/`, only path characters, no scheme, host, `..`, `//`, query
/// or fragment.
pub fn check_path(path: &str) -> Result<String, CallError> {
    let refuse = |why| CallError::Path {
        path: path.chars().take(100).collect(),
        why,
    };
    if path.contains("://") {
        return Err(refuse("it names a scheme and a host"));
    }
    if path.starts_with("//") {
        return Err(refuse("it names a host"));
    }
    if !path.starts_with('/') {
        return Err(refuse("it must start with /"));
    }
    if path.contains("//") {
        return Err(refuse("it contains //"));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(refuse("it contains a . or .. segment"));
    }
    if path.contains('%') {
        return Err(refuse("it contains percent-encoding"));
    }
    if path.contains('?') || path.contains('#') {
        return Err(refuse(
            "it contains a query or fragment: pass the query as \"query\"",
        ));
    }
    if path.len() > 256 {
        return Err(refuse("it is longer than 256 characters"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.');
    if !path.chars().all(allowed) {
        return Err(refuse(
            "it has characters other than letters, digits, /, _, - and .",
        ));
    }
    Ok(path.to_owned())
}

/// A call to a WeChat API, as another function asks for it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ApiCall {
    /// A path on `WECHAT_API_BASE`, such as `/cgi-bin/message/custom/send`.
    pub path: String,
    /// `POST` by default.
    #[serde(default)]
    pub method: Method,
    /// Query parameters (strings or numbers), without any token.
    #[serde(default)]
    pub query: Map<String, Value>,
    /// The JSON body of a POST.
    #[serde(default)]
    pub body: Option<Value>,
    /// A POST whose answer was lost after it was sent may be sent again (the caller knows the
    /// API is idempotent). GETs always may.
    #[serde(default)]
    pub retry: bool,
}

/// A call after its checks: what is sent, apart from the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCall {
    /// The path.
    pub path: String,
    /// The method.
    pub method: Method,
    /// Query parameters as text, in the caller's order.
    pub query: Vec<(String, String)>,
    /// The body, serialized.
    pub body: Option<String>,
    /// Whether a lost answer may be replayed.
    pub replay_safe: bool,
}

impl ApiCall {
    /// Checks the call: the path, no token anywhere the caller controls, a body only on POST.
    pub fn check(&self) -> Result<CheckedCall, CallError> {
        let path = check_path(&self.path)?;
        let mut query = Vec::with_capacity(self.query.len());
        for (name, value) in &self.query {
            if is_token_name(name) {
                return Err(CallError::Token {
                    name: name.chars().take(40).collect(),
                    place: "query",
                });
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(CallError::QueryValue(name.chars().take(40).collect())),
            };
            query.push((name.clone(), text));
        }
        if let Some(Value::Object(fields)) = &self.body {
            if let Some(name) = fields.keys().find(|k| is_token_name(k)) {
                return Err(CallError::Token {
                    name: name.chars().take(40).collect(),
                    place: "body",
                });
            }
        }
        let body = match (&self.method, &self.body) {
            (Method::Get, Some(_)) => return Err(CallError::BodyOnGet),
            (_, Some(body)) => Some(body.to_string()),
            (Method::Post, None) => Some("{}".to_owned()),
            (Method::Get, None) => None,
        };
        Ok(CheckedCall {
            path,
            method: self.method,
            query,
            body,
            replay_safe: self.method == Method::Get || self.retry,
        })
    }
}

/// WeChat's answer, returned to the caller as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApiAnswer {
    /// A JSON answer, `errcode` included when WeChat sent one.
    Json {
        /// HTTP status.
        status: u16,
        /// The body as WeChat sent it.
        body: Value,
    },
    /// A binary answer (a QR code, say).
    Binary {
        /// HTTP status.
        status: u16,
        /// WeChat's `Content-Type`.
        content_type: String,
        /// The body, base64.
        body_base64: String,
    },
}

impl ApiAnswer {
    /// WeChat's `errcode`, for a JSON answer that has a non-zero one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Json { body, .. } => body
                .get("errcode")
                .and_then(Value::as_i64)
                .filter(|c| *c != 0),
            Self::Binary { .. } => None,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Json { status, .. } | Self::Binary { status, .. } => *status,
        }
    }
}

/// `GET /sns/component/jscode2session`: a Mini Program user's login, for an authorized Mini
/// Program. The session key is the caller's to keep: it is never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user's openid in the Mini Program.
    pub openid: String,
    /// The session key.
    pub session_key: crate::Secret,
    /// The user's unionid, when the Mini Program is bound to an Open Platform account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
}

/// `GET /sns/oauth2/component/access_token`: a web OAuth code exchanged on behalf of an
/// Official Account. The tokens are the user's, for the caller: never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthGrant {
    /// The user's openid in the Official Account.
    pub openid: String,
    /// The user's web access token.
    pub access_token: crate::Secret,
    /// Its refresh token.
    pub refresh_token: crate::Secret,
    /// Lifetime of the access token, seconds.
    pub expires_in: u64,
    /// `snsapi_base` or `snsapi_userinfo`.
    pub scope: String,
    /// The user's unionid, when WeChat sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(v: Value) -> ApiCall {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn plain_paths_pass_and_hostile_ones_are_refused_by_name() {
        for ok in [
            "/cgi-bin/message/custom/send",
            "/wxa/getwxacode",
            "/datacube/getweanalysisappiddailysummarytrend",
            "/cgi-bin/user/info.json",
        ] {
            assert_eq!(check_path(ok).unwrap(), ok);
        }
        for (bad, why) in [
            ("https://evil.example/cgi-bin/x", "scheme"),
            ("//evil.example/cgi-bin/x", "host"),
            ("cgi-bin/x", "start with /"),
            ("/cgi-bin//x", "//"),
            ("/cgi-bin/../sns/x", ".."),
            ("/cgi-bin/./x", ".."),
            ("/cgi-bin/%2e%2e/x", "percent"),
            ("/cgi-bin/x?access_token=abc", "query"),
            ("/cgi-bin/x#f", "query"),
            ("/cgi-bin/x y", "characters"),
            ("/cgi-bin/x@evil", "characters"),
        ] {
            let e = check_path(bad).unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_token_in_the_query_or_body_is_refused() {
        for v in [
            json!({"path": "/cgi-bin/x", "query": {"access_token": "t"}}),
            json!({"path": "/cgi-bin/x", "query": {"Component_Access_Token": "t"}}),
            json!({"path": "/cgi-bin/x", "body": {"authorizer_refresh_token": "t"}}),
        ] {
            assert!(matches!(call(v).check(), Err(CallError::Token { .. })));
        }
    }

    #[test]
    fn a_checked_call_keeps_the_query_and_knows_when_a_replay_is_safe() {
        let c = call(json!({"path": "/wxa/getwxacode", "body": {"path": "pages/index"}}))
            .check()
            .unwrap();
        assert_eq!(c.method, Method::Post);
        assert_eq!(c.body.as_deref(), Some(r#"{"path":"pages/index"}"#));
        assert!(!c.replay_safe);
        let c = call(json!({"path": "/cgi-bin/user/info", "method": "GET", "query": {"openid": "o1", "lang": "zh_CN", "n": 3}}))
            .check()
            .unwrap();
        assert!(c.replay_safe);
        assert_eq!(c.body, None);
        assert!(c.query.contains(&("n".to_owned(), "3".to_owned())));
        assert!(
            call(json!({"path": "/x", "method": "POST", "retry": true}))
                .check()
                .unwrap()
                .replay_safe
        );
        assert_eq!(
            call(json!({"path": "/x", "method": "GET", "body": {}})).check(),
            Err(CallError::BodyOnGet)
        );
        assert!(
            serde_json::from_value::<ApiCall>(json!({"path": "/x", "method": "DELETE"})).is_err()
        );
    }

    #[test]
    fn answers_serialize_as_the_contract_says() {
        let json_answer = ApiAnswer::Json {
            status: 200,
            body: json!({"errcode": 45009, "errmsg": "quota"}),
        };
        assert_eq!(
            serde_json::to_value(&json_answer).unwrap(),
            json!({"status": 200, "body": {"errcode": 45009, "errmsg": "quota"}})
        );
        assert_eq!(json_answer.errcode(), Some(45009));
        let binary = ApiAnswer::Binary {
            status: 200,
            content_type: "image/jpeg".into(),
            body_base64: "AAE=".into(),
        };
        assert_eq!(
            serde_json::to_value(&binary).unwrap(),
            json!({"status": 200, "content_type": "image/jpeg", "body_base64": "AAE="})
        );
    }
}
