//! The error contract as one enum: each code a function answers with (its Lambda error's
//! `errorType`) is a variant, WeChat's failures carry WeChat's errcode, and what went wrong on
//! the way (the invocation, an answer that does not read) is said as such.

use serde_json::Value;

/// A failed call to one of this service's functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `unknown_authorizer`: the account never authorized the platform (or is not stored).
    #[error("unknown_authorizer: {0}")]
    UnknownAuthorizer(String),
    /// `authorizer_revoked`: the account revoked the authorization.
    #[error("authorizer_revoked: {0}")]
    AuthorizerRevoked(String),
    /// `authorizer_needs_reauth`: WeChat refused its refresh token; it must authorize again.
    #[error("authorizer_needs_reauth: {0}")]
    NeedsReauth(String),
    /// `ticket_missing`: WeChat has not pushed a `component_verify_ticket` yet.
    #[error("ticket_missing: {0}")]
    TicketMissing(String),
    /// `invalid_path`: the API path was refused (no scheme, host, `..` or token allowed).
    #[error("invalid_path: {0}")]
    InvalidPath(String),
    /// `credential_endpoint` / `component_endpoint` / `registration_endpoint`: a path the proxies
    /// never forward; the message names what to use instead.
    #[error("{code}: {message}")]
    Refused {
        /// The code.
        code: String,
        /// What to use instead.
        message: String,
    },
    /// WeChat failed (`wechat_*` codes), with its errcode when it gave one.
    #[error("{code} (errcode {errcode:?}): {message}")]
    WeChat {
        /// The code (`wechat_error`, `wechat_timeout`, `wechat_unreachable`, ...).
        code: String,
        /// WeChat's errcode.
        errcode: Option<i64>,
        /// What happened and what to do.
        message: String,
    },
    /// Any other code of the contract (bad input, unavailable store, ...), kept as it came.
    #[error("{code}: {message}")]
    Service {
        /// The code.
        code: String,
        /// What happened and what to do.
        message: String,
    },
    /// The function could not be invoked (permissions, name, network, throttling).
    #[error("the function could not be invoked: {0}")]
    Invoke(String),
    /// The function's answer did not read as its documented shape.
    #[error("the function's answer does not read: {0}")]
    Decode(String),
}

impl Error {
    /// The contract's code of a function error (`errorType`), or what this client calls the
    /// failure.
    pub fn code(&self) -> &str {
        match self {
            Self::UnknownAuthorizer(_) => "unknown_authorizer",
            Self::AuthorizerRevoked(_) => "authorizer_revoked",
            Self::NeedsReauth(_) => "authorizer_needs_reauth",
            Self::TicketMissing(_) => "ticket_missing",
            Self::InvalidPath(_) => "invalid_path",
            Self::Refused { code, .. } | Self::WeChat { code, .. } | Self::Service { code, .. } => {
                code
            }
            Self::Invoke(_) => "invoke_failed",
            Self::Decode(_) => "answer_unreadable",
        }
    }

    /// The error a function answered: its `errorType` and `errorMessage` (the contract's JSON
    /// object, `{"error": {"code", "message", "wechat_errcode"?}}`).
    pub fn from_function(error_type: &str, error_message: &str) -> Self {
        let parsed: Value = serde_json::from_str(error_message).unwrap_or(Value::Null);
        let body = &parsed["error"];
        let code = body["code"].as_str().unwrap_or(error_type).to_owned();
        let message = body["message"].as_str().unwrap_or(error_message).to_owned();
        let errcode = body["wechat_errcode"].as_i64();
        match code.as_str() {
            "unknown_authorizer" => Self::UnknownAuthorizer(message),
            "authorizer_revoked" => Self::AuthorizerRevoked(message),
            "authorizer_needs_reauth" => Self::NeedsReauth(message),
            "ticket_missing" => Self::TicketMissing(message),
            "invalid_path" => Self::InvalidPath(message),
            "credential_endpoint" | "component_endpoint" | "registration_endpoint" => {
                Self::Refused { code, message }
            }
            c if c.starts_with("wechat_") || errcode.is_some() => Self::WeChat {
                code,
                errcode,
                message,
            },
            _ => Self::Service { code, message },
        }
    }

    /// Whether WeChat refused an access token (40001, 40014, 42001).
    pub fn token_refused(&self) -> bool {
        matches!(
            self,
            Self::WeChat {
                errcode: Some(40001 | 40014 | 42001),
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(code: &str, errcode: Option<i64>) -> String {
        let mut error = serde_json::json!({"code": code, "message": "what to do"});
        if let Some(e) = errcode {
            error["wechat_errcode"] = e.into();
        }
        serde_json::json!({ "error": error }).to_string()
    }

    #[test]
    fn each_code_of_the_contract_becomes_its_variant() {
        let of = |code: &str, errcode| Error::from_function(code, &contract(code, errcode));
        assert_eq!(
            of("unknown_authorizer", None),
            Error::UnknownAuthorizer("what to do".into())
        );
        assert!(matches!(
            of("authorizer_revoked", None),
            Error::AuthorizerRevoked(_)
        ));
        assert!(matches!(
            of("authorizer_needs_reauth", None),
            Error::NeedsReauth(_)
        ));
        assert!(matches!(
            of("ticket_missing", None),
            Error::TicketMissing(_)
        ));
        assert!(matches!(of("invalid_path", None), Error::InvalidPath(_)));
        assert!(matches!(
            of("credential_endpoint", None),
            Error::Refused { .. }
        ));
        let wechat = of("wechat_error", Some(40001));
        assert!(wechat.token_refused());
        assert_eq!(wechat.code(), "wechat_error");
        let other = of("store_unavailable", None);
        assert_eq!(
            (other.code(), other.to_string().contains("what to do")),
            ("store_unavailable", true)
        );
    }

    #[test]
    fn an_error_that_is_not_the_contract_keeps_its_type_and_text() {
        let e = Error::from_function("Runtime.ExitError", "the function crashed");
        assert_eq!(
            e,
            Error::Service {
                code: "Runtime.ExitError".into(),
                message: "the function crashed".into()
            }
        );
    }
}
