//! The error contract: `{"error": {"code", "message", "wechat_errcode"?}}` with a fitting HTTP
//! status, or the same object as a Lambda error (`errorType` = the code) for direct invocations.

use lambda_http::lambda_runtime::Diagnostic;
use lambda_http::{Body, Response};
use serde::Serialize;
use wxopen::platform::{PushError, ServiceError};
use wxopen::state::StateError;
use wxopen::tokens::TokenError;
use wxopen::wechat::WeChatError;

/// An error as the caller sees it. Its message never carries a token or secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// HTTP status.
    #[serde(skip)]
    pub status: u16,
    /// snake_case code.
    pub code: String,
    /// What happened and what to do.
    pub message: String,
    /// WeChat's errcode, when WeChat caused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechat_errcode: Option<i64>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ApiError,
}

impl ApiError {
    /// An error with no WeChat cause.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            wechat_errcode: None,
        }
    }

    /// 400 for a malformed request.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// The contract's JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Envelope { error: self }).expect("the error serializes")
    }

    /// The HTTP response.
    pub fn to_response(&self) -> Response<Body> {
        Response::builder()
            .status(self.status)
            .header("content-type", "application/json")
            .header("cache-control", "no-store")
            .body(Body::Text(self.to_json()))
            .expect("a valid response")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Diagnostic {
    fn from(e: ApiError) -> Self {
        Diagnostic {
            error_type: e.code.clone(),
            error_message: e.to_json(),
        }
    }
}

fn wechat(e: &WeChatError) -> ApiError {
    let status = match e {
        // The code came from the request: the person must start again.
        WeChatError::AuthCodeInvalid | WeChatError::AuthCodeExpired => 400,
        WeChatError::RefreshTokenInvalid => 409,
        _ => 502,
    };
    ApiError {
        status,
        code: e.code().to_owned(),
        message: e.to_string(),
        wechat_errcode: e.errcode(),
    }
}

impl From<&TokenError> for ApiError {
    fn from(e: &TokenError) -> Self {
        let (status, code) = match e {
            TokenError::TicketMissing => (503, "ticket_missing"),
            TokenError::UnknownAuthorizer(_) => (404, "unknown_authorizer"),
            TokenError::Revoked(_) => (409, "authorizer_revoked"),
            TokenError::NeedsReauth(_) => (409, "authorizer_needs_reauth"),
            TokenError::Busy { .. } => (503, "token_refresh_busy"),
            TokenError::Conflict { .. } => (503, "token_refresh_conflict"),
            TokenError::WeChat(w) => return wechat(w),
            TokenError::Store(_) => (503, "store_unavailable"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match &e {
            ServiceError::Invalid { code, message } => {
                let status = if *code == "not_configured" { 500 } else { 400 };
                ApiError::new(status, *code, message.clone())
            }
            ServiceError::State(s) => ApiError::new(
                403,
                match s {
                    StateError::Missing => "missing_state",
                    StateError::Malformed | StateError::Forged => "invalid_state",
                    StateError::Expired => "expired_state",
                },
                s.to_string(),
            ),
            ServiceError::Push(p) => {
                let (status, code) = match p {
                    PushError::Unsigned | PushError::BadSignature(_) => (401, "bad_signature"),
                    PushError::UnsupportedEncryption(_) => (400, "unsupported_encryption"),
                    PushError::TooLarge { .. } => (413, "body_too_large"),
                    PushError::Malformed(_) => (400, "malformed_push"),
                    PushError::Undecryptable(_) => (400, "undecryptable_push"),
                    PushError::WrongComponent { .. } => (403, "wrong_component"),
                };
                ApiError::new(status, code, p.to_string())
            }
            ServiceError::Token(t) => t.into(),
        }
    }
}
