//! WeChat failures, with the protocol's error table as named variants.

use wxopen_models::envelope::ErrorBody;

/// A failed call to WeChat. Messages name the endpoint and say what to do; none carries a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeChatError {
    /// errcode -1, still busy after every retry.
    #[error("WeChat is busy (errcode -1) on {endpoint} after {attempts} attempts: try again in a few seconds")]
    Busy {
        /// The API called.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
    },
    /// 40001, 40014, 42001: the access token used is invalid or expired.
    #[error("WeChat rejected the access token on {endpoint} (errcode {errcode}): it is invalid or expired and must be fetched again")]
    AccessTokenInvalid {
        /// The API called.
        endpoint: &'static str,
        /// 40001, 40014 or 42001.
        errcode: i64,
    },
    /// 45009: the daily quota is used up.
    #[error("the daily quota of {endpoint} is used up (errcode 45009): wait for the daily reset or clear the quota in the WeChat Open Platform console")]
    QuotaExceeded {
        /// The API called.
        endpoint: &'static str,
    },
    /// 61003: the account has not authorized this platform.
    #[error("the account has not authorized this platform (errcode 61003 on {endpoint}): its administrator must authorize it first")]
    ComponentNotAuthorized {
        /// The API called.
        endpoint: &'static str,
    },
    /// 61004: the caller's IP is not whitelisted.
    #[error("this caller's IP address is not on the platform's whitelist (errcode 61004 on {endpoint}): add the function's fixed egress IP in the WeChat Open Platform console")]
    IpNotWhitelisted {
        /// The API called.
        endpoint: &'static str,
    },
    /// 61005: the component_verify_ticket expired.
    #[error("the component_verify_ticket has expired (errcode 61005): wait for WeChat's next push to the event URL (every 10 minutes) and check that pushes arrive")]
    TicketExpired,
    /// 61006: the component_verify_ticket is invalid.
    #[error("the component_verify_ticket is invalid (errcode 61006): wait for WeChat's next push to the event URL and check the platform's AppID and keys")]
    TicketInvalid,
    /// 61007: the API is not authorized to the platform.
    #[error("the platform may not call {endpoint} for this account (errcode 61007): the account must grant the permission set this API needs")]
    ApiNotAuthorized {
        /// The API called.
        endpoint: &'static str,
    },
    /// 61009: the authorization code is invalid or already used.
    #[error("the authorization code is invalid or was already used (errcode 61009): the account administrator must start the authorization again")]
    AuthCodeInvalid,
    /// 61010: the authorization code expired.
    #[error("the authorization code has expired (errcode 61010): the account administrator must start the authorization again")]
    AuthCodeExpired,
    /// 61023: the refresh token is invalid.
    #[error("the authorizer's refresh token is invalid (errcode 61023): the account must authorize the platform again")]
    RefreshTokenInvalid,
    /// Any other errcode.
    #[error("WeChat returned errcode {errcode} on {endpoint}: {errmsg}")]
    Api {
        /// The API called.
        endpoint: &'static str,
        /// WeChat's code.
        errcode: i64,
        /// WeChat's message.
        errmsg: String,
    },
    /// A non-success HTTP status.
    #[error("WeChat answered HTTP {status} on {endpoint} after {attempts} attempts")]
    Http {
        /// The API called.
        endpoint: &'static str,
        /// The status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// The body was not JSON.
    #[error("WeChat's answer on {endpoint} is not JSON ({snippet:?}): a proxy answered instead, or WECHAT_API_BASE points at the wrong host")]
    NotJson {
        /// The API called.
        endpoint: &'static str,
        /// The first characters of the body.
        snippet: String,
    },
    /// The body was JSON without the expected data.
    #[error("WeChat's answer on {endpoint} lacks the expected data: {reason}")]
    UnexpectedShape {
        /// The API called.
        endpoint: &'static str,
        /// What was missing or mistyped.
        reason: String,
    },
    /// No answer within the timeout, on every attempt.
    #[error("WeChat did not answer {endpoint} in time after {attempts} attempts: check the function's network egress")]
    Timeout {
        /// The API called.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
    },
    /// No connection could be made, on every attempt.
    #[error("could not connect to WeChat for {endpoint} after {attempts} attempts ({reason}): check WECHAT_API_BASE and network egress")]
    Connect {
        /// The API called.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The transport's account, without the URL.
        reason: String,
    },
}

impl WeChatError {
    /// Maps an error object to its named variant.
    pub fn from_body(endpoint: &'static str, body: ErrorBody, attempts: u32) -> Self {
        match body.errcode {
            -1 => Self::Busy { endpoint, attempts },
            40001 | 40014 | 42001 => Self::AccessTokenInvalid {
                endpoint,
                errcode: body.errcode,
            },
            45009 => Self::QuotaExceeded { endpoint },
            61003 => Self::ComponentNotAuthorized { endpoint },
            61004 => Self::IpNotWhitelisted { endpoint },
            61005 => Self::TicketExpired,
            61006 => Self::TicketInvalid,
            61007 => Self::ApiNotAuthorized { endpoint },
            61009 => Self::AuthCodeInvalid,
            61010 => Self::AuthCodeExpired,
            61023 => Self::RefreshTokenInvalid,
            errcode => Self::Api {
                endpoint,
                errcode,
                errmsg: body.errmsg,
            },
        }
    }

    /// WeChat's errcode, when WeChat caused the failure.
    pub fn errcode(&self) -> Option<i64> {
        Some(match self {
            Self::Busy { .. } => -1,
            Self::AccessTokenInvalid { errcode, .. } | Self::Api { errcode, .. } => *errcode,
            Self::QuotaExceeded { .. } => 45009,
            Self::ComponentNotAuthorized { .. } => 61003,
            Self::IpNotWhitelisted { .. } => 61004,
            Self::TicketExpired => 61005,
            Self::TicketInvalid => 61006,
            Self::ApiNotAuthorized { .. } => 61007,
            Self::AuthCodeInvalid => 61009,
            Self::AuthCodeExpired => 61010,
            Self::RefreshTokenInvalid => 61023,
            Self::Http { .. }
            | Self::NotJson { .. }
            | Self::UnexpectedShape { .. }
            | Self::Timeout { .. }
            | Self::Connect { .. } => return None,
        })
    }

    /// True when the access token used must be dropped and fetched again.
    pub fn is_token_invalid(&self) -> bool {
        matches!(self, Self::AccessTokenInvalid { .. })
    }

    /// A short snake_case name for the error contract's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Busy { .. } => "wechat_busy",
            Self::AccessTokenInvalid { .. } => "wechat_token_invalid",
            Self::QuotaExceeded { .. } => "wechat_quota_exceeded",
            Self::ComponentNotAuthorized { .. } => "component_not_authorized",
            Self::IpNotWhitelisted { .. } => "ip_not_whitelisted",
            Self::TicketExpired => "ticket_expired",
            Self::TicketInvalid => "ticket_invalid",
            Self::ApiNotAuthorized { .. } => "api_not_authorized",
            Self::AuthCodeInvalid => "auth_code_invalid",
            Self::AuthCodeExpired => "auth_code_expired",
            Self::RefreshTokenInvalid => "refresh_token_invalid",
            Self::Api { .. } => "wechat_error",
            Self::Http { .. } => "wechat_http_error",
            Self::NotJson { .. } | Self::UnexpectedShape { .. } => "wechat_bad_response",
            Self::Timeout { .. } => "wechat_timeout",
            Self::Connect { .. } => "wechat_unreachable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_errcode_has_its_variant_and_round_trips() {
        for code in [
            -1, 40001, 40014, 42001, 45009, 61003, 61004, 61005, 61006, 61007, 61009, 61010, 61023,
        ] {
            let e = WeChatError::from_body(
                "api_x",
                ErrorBody {
                    errcode: code,
                    errmsg: String::new(),
                },
                1,
            );
            assert!(
                !matches!(e, WeChatError::Api { .. }),
                "{code} has no named variant"
            );
            assert_eq!(e.errcode(), Some(code));
        }
        let other = WeChatError::from_body(
            "api_x",
            ErrorBody {
                errcode: 48001,
                errmsg: "api unauthorized".into(),
            },
            1,
        );
        assert_eq!(other.errcode(), Some(48001));
        assert!(other.to_string().contains("api unauthorized"));
    }
}
