//! The error contract: `{"error": {"code", "message", "wechat_errcode"?}}` with a fitting HTTP
//! status, or the same object as a Lambda error (`errorType` = the code) for direct invocations.

use lambda_http::lambda_runtime::Diagnostic;
use lambda_http::{Body, Response};
use serde::Serialize;
use wxopen::msg_crypto::PushError;
use wxopen::services::ServiceError;
use wxopen::state::{LinkError, StateError};
use wxopen::store::StoreError;
use wxopen::tokens::{AuthorizerError, RefreshError};
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

fn push_error(p: &PushError) -> (u16, &'static str) {
    match p {
        PushError::Unsigned | PushError::BadSignature(_) => (401, "bad_signature"),
        PushError::UnsupportedEncryption(_) => (400, "unsupported_encryption"),
        PushError::TooLarge { .. } => (413, "body_too_large"),
        PushError::Malformed(_) => (400, "malformed_push"),
        PushError::Undecryptable(_) => (400, "undecryptable_push"),
        PushError::WrongComponent { .. } => (403, "wrong_component"),
        PushError::OutOfWindow { .. } => (403, "stale_message"),
        PushError::WrongAccount { .. } => (403, "wrong_account"),
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let (status, code) = match &e {
            ServiceError::Invalid { code, .. } => (400, *code),
            ServiceError::Forbidden { code, .. } => (403, *code),
            ServiceError::NotFound { code, .. } => (404, *code),
            ServiceError::Conflict { code, .. } => (409, *code),
            ServiceError::NotConfigured { .. } => (500, "not_configured"),
            ServiceError::UnknownCursor(_) => (400, "invalid_cursor"),
            ServiceError::State(StateError::Missing) => (403, "missing_state"),
            ServiceError::State(StateError::Malformed | StateError::Forged) => {
                (403, "invalid_state")
            }
            ServiceError::State(StateError::Expired) => (403, "expired_state"),
            ServiceError::State(StateError::Used) => (403, "state_used"),
            ServiceError::Link(LinkError::Malformed | LinkError::Forged) => (403, "invalid_link"),
            ServiceError::Link(LinkError::Expired) => (403, "expired_link"),
            ServiceError::Link(LinkError::Required) => (403, "link_required"),
            ServiceError::Link(LinkError::Busy { .. }) => (429, "link_busy"),
            ServiceError::Push(p) => push_error(p),
            ServiceError::Authorizer(AuthorizerError::Unknown(_)) => (404, "unknown_authorizer"),
            ServiceError::Authorizer(AuthorizerError::Revoked(_)) => (409, "authorizer_revoked"),
            ServiceError::Authorizer(AuthorizerError::NeedsReauth(_)) => {
                (409, "authorizer_needs_reauth")
            }
            ServiceError::Refresh(RefreshError::TicketMissing) => (503, "ticket_missing"),
            ServiceError::Refresh(RefreshError::Busy { .. }) => (503, "token_refresh_busy"),
            ServiceError::Refresh(RefreshError::Conflict { .. }) => (503, "token_refresh_conflict"),
            ServiceError::WeChat(w) => return wechat(w),
            ServiceError::Store(StoreError::KeyUnavailable(_)) => (503, "key_unavailable"),
            ServiceError::Store(StoreError::Unsealable { .. }) => (500, "token_unsealable"),
            ServiceError::Store(_) => (503, "store_unavailable"),
            ServiceError::Publish(_) => (503, "publish_failed"),
            ServiceError::Queue(_) => (503, "queue_unavailable"),
        };
        ApiError::new(status, code, e.to_string())
    }
}
