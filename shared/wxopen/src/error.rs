//! The core's errors: one enum, [`ServiceError`], for everything the services and the token
//! manager can fail with, one variant per cause, so the edge picks a status by variant. The
//! layers below have their own: [`WeChatError`] (the client) and [`StoreError`] (the store).

use crate::msg_crypto::PushError;
use crate::publish::PublishError;
use crate::state::{LinkError, StateError};
use crate::store::StoreError;
use crate::wechat::WeChatError;
use wxopen_models::AuthorizerAppid;

/// A failure of a service call, one variant per cause, for the error contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// A request parameter is missing or malformed.
    #[error("{message}")]
    Invalid {
        /// A snake_case code naming the problem.
        code: &'static str,
        /// What was wrong and what to send instead.
        message: String,
    },
    /// The function lacks a setting this call needs.
    #[error("{variable} is not set: {hint}")]
    NotConfigured {
        /// The variable.
        variable: &'static str,
        /// What it should hold.
        hint: &'static str,
    },
    /// A request this service refuses on principle, whatever its form (a credential endpoint
    /// through a proxy, say).
    #[error("{message}")]
    Forbidden {
        /// A snake_case code naming the refusal.
        code: &'static str,
        /// Why, and what to use instead.
        message: String,
    },
    /// What the request names does not exist (or no longer does).
    #[error("{message}")]
    NotFound {
        /// A snake_case code naming what is missing.
        code: &'static str,
        /// What was looked for and what to do.
        message: String,
    },
    /// The request conflicts with what is stored: repeating it will not help.
    #[error("{message}")]
    Conflict {
        /// A snake_case code naming the conflict.
        code: &'static str,
        /// What conflicts and what to do.
        message: String,
    },
    /// A listing cursor this service did not issue.
    #[error("cursor {0:?} was not issued by this service: pass the next_cursor of a previous page, or omit it to start at the beginning")]
    UnknownCursor(String),
    /// The `state` of a callback was refused.
    #[error(transparent)]
    State(#[from] StateError),
    /// An authorization link was refused.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// An event push was refused.
    #[error(transparent)]
    Push(#[from] PushError),
    /// The authorizer cannot be served.
    #[error(transparent)]
    Authorizer(#[from] AuthorizerError),
    /// A token refresh failed on this side.
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    /// WeChat failed.
    #[error(transparent)]
    WeChat(#[from] WeChatError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Events could not be published; nothing was acknowledged, so the sender retries.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The rollouts' work queue refused work; nothing was acknowledged.
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
}

impl ServiceError {
    /// An invalid request parameter.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
}

/// An authorizer whose tokens cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerError {
    /// The authorizer is not stored.
    #[error("authorizer {0} is not known to this platform: it has never authorized it, or authorized another platform")]
    Unknown(AuthorizerAppid),
    /// The authorizer revoked the authorization.
    #[error("authorizer {0} has revoked its authorization: its administrator must authorize the platform again")]
    Revoked(AuthorizerAppid),
    /// The refresh token is gone or refused.
    #[error("authorizer {0} needs to authorize again: WeChat refused its refresh token (61023) or never sent one")]
    NeedsReauth(AuthorizerAppid),
}

/// A refresh that could not produce a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// No `component_verify_ticket` has been stored yet.
    #[error("no component_verify_ticket has been received yet: WeChat was asked to push one now (and pushes one every 10 minutes anyway); retry in a minute, and if it persists check that the authorization event URL in the WeChat console points at the events function")]
    TicketMissing,
    /// Another instance held the refresh lease for longer than the wait.
    #[error("another instance is still refreshing the {what} token: retry in a few seconds")]
    Busy {
        /// `component` or the authorizer AppID.
        what: String,
    },
    /// The refreshed token could not be stored because the item changed underneath.
    #[error("the refreshed {what} token was not stored because the record changed meanwhile (re-authorization or a slower refresh); no token was handed out: retry")]
    Conflict {
        /// `component` or the authorizer AppID.
        what: String,
    },
}
