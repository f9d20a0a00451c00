//! What this service stores about authorizers, as other services see it: never a token.

use crate::ids::AuthorizerAppid;
use crate::permissions::PermissionId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an authorizer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizerStatus {
    /// Authorized, with a usable refresh token.
    Authorized,
    /// The account revoked the authorization; the record and its history are kept.
    Revoked,
    /// WeChat refused the refresh token (61023) or sent none: the account must authorize again.
    NeedsReauth,
}

impl AuthorizerStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "authorized",
            Self::Revoked => "revoked",
            Self::NeedsReauth => "needs_reauth",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "authorized" => Self::Authorized,
            "revoked" => Self::Revoked,
            "needs_reauth" => Self::NeedsReauth,
            _ => return None,
        })
    }
}

impl fmt::Display for AuthorizerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stored record of an authorizer, as returned to callers. It never holds a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerRecord {
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// Where it stands.
    pub status: AuthorizerStatus,
    /// Permission sets granted at the last authorization or update.
    pub permission_ids: Vec<PermissionId>,
    /// First authorization, epoch seconds.
    pub authorized_at: i64,
    /// Last change, epoch seconds.
    pub updated_at: i64,
    /// When it was revoked, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    /// Increases with every change of the refresh token or status.
    pub version: u64,
    /// Whether a refresh token is stored (the token itself is never shown).
    pub has_refresh_token: bool,
    /// The caller data (`ext`, the platform's own customer) of the authorization that created or
    /// last renewed this record, from a link the platform minted: never taken from a browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
}

/// What changed, in an authorizer's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// First authorization.
    Authorized,
    /// Authorized again after a revocation or a lost refresh token.
    Reauthorized,
    /// The granted permission sets changed.
    PermissionsChanged,
    /// The account revoked the authorization.
    Revoked,
    /// WeChat returned a different refresh token, which replaced the stored one.
    RefreshTokenReplaced,
    /// WeChat refused the refresh token; the account must authorize again.
    NeedsReauth,
    /// A refresh token was recovered from `api_get_authorizer_list`.
    RefreshTokenRecovered,
}

impl HistoryKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "authorized",
            Self::Reauthorized => "reauthorized",
            Self::PermissionsChanged => "permissions_changed",
            Self::Revoked => "revoked",
            Self::RefreshTokenReplaced => "refresh_token_replaced",
            Self::NeedsReauth => "needs_reauth",
            Self::RefreshTokenRecovered => "refresh_token_recovered",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "authorized" => Self::Authorized,
            "reauthorized" => Self::Reauthorized,
            "permissions_changed" => Self::PermissionsChanged,
            "revoked" => Self::Revoked,
            "refresh_token_replaced" => Self::RefreshTokenReplaced,
            "needs_reauth" => Self::NeedsReauth,
            "refresh_token_recovered" => Self::RefreshTokenRecovered,
            _ => return None,
        })
    }
}

/// One history item: what changed and when, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// What changed.
    pub kind: HistoryKind,
    /// When, epoch milliseconds.
    pub at_ms: i64,
    /// The permission sets after the change.
    pub permission_ids: Vec<PermissionId>,
    /// The record's `ext` after the change (for authorizations and revocations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
}
