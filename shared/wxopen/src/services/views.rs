//! What the services answer with: records and views that never carry a secret, except the
//! one token [`TokenGrant`] exists to hand out.

use crate::clock::Timestamp;
use serde::Serialize;
use wxopen_models::api::AuthorizationGrant;
use wxopen_models::authorizer_info::{AccountKind, AuthorizerInfo};
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::{AccessToken, AuthorizerAppid, PermissionId};

/// A permission set id with its English and Chinese names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionView {
    /// The id.
    pub id: PermissionId,
    /// The name, for documented ids.
    pub name: Option<&'static str>,
    /// The Chinese name, for documented ids.
    pub name_zh: Option<&'static str>,
}

/// Permission ids with their names.
pub fn permission_views(ids: &[PermissionId]) -> Vec<PermissionView> {
    ids.iter()
        .map(|id| PermissionView {
            id: *id,
            name: id.name(),
            name_zh: id.name_zh(),
        })
        .collect()
}

/// Where an info answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InfoSource {
    /// Fetched from WeChat now.
    Live,
    /// The stored snapshot, younger than the requested maximum age.
    Snapshot,
}

/// `authorizer-info`'s answer: the stored record merged with WeChat's info.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthorizerView {
    /// The stored record (never a token).
    #[serde(flatten)]
    pub record: AuthorizerRecord,
    /// The stored permission ids with names.
    pub permissions: Vec<PermissionView>,
    /// Official Account or Mini Program.
    pub account_kind: AccountKind,
    /// WeChat's `authorizer_info`, typed.
    pub authorizer_info: AuthorizerInfo,
    /// WeChat's `authorization_info` as it reports the grant now.
    pub authorization_info: AuthorizationGrant,
    /// When the info was fetched, epoch seconds like every time in the answer.
    #[serde(serialize_with = "crate::clock::epoch_secs")]
    pub info_fetched_at: Timestamp,
    /// Live or snapshot.
    pub info_source: InfoSource,
}

/// `authorizer-token`'s answer. The token is redacted in `Debug` and serialized as itself,
/// because handing it to the caller is the point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenGrant {
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// A valid token.
    pub authorizer_access_token: AccessToken,
    /// Expiry, epoch seconds.
    #[serde(serialize_with = "crate::clock::epoch_secs")]
    pub expires_at: Timestamp,
}
