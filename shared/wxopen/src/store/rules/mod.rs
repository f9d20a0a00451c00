//! The rules deciding what a stored change means, kept apart from any database so that they
//! are pinned once and tested in microseconds. Both adapters (DynamoDB and memory) call these
//! and only translate the outcome into their own writes.

use super::{Lease, NewAuthorization, RecoverOutcome, StoredAuthorizer};
use crate::clock::Timestamp;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus, HistoryKind};
use wxopen_models::{PermissionId, RefreshToken};

/// The refresh lease may be taken: nobody holds it, it lapsed, or `owner` holds it.
pub fn lease_is_free(lease: Option<&Lease>, owner: &str, now: Timestamp) -> bool {
    match lease {
        None => true,
        Some(l) => l.until < now || l.owner == owner,
    }
}

/// Why an authorizer's token cannot be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// It revoked the authorization.
    Revoked,
    /// Its refresh token is gone or refused.
    NeedsReauth,
}

/// Whether tokens may be handed out for this record.
pub fn usable(record: &AuthorizerRecord) -> Result<(), Unusable> {
    match record.status {
        AuthorizerStatus::Authorized => Ok(()),
        AuthorizerStatus::Revoked => Err(Unusable::Revoked),
        AuthorizerStatus::NeedsReauth => Err(Unusable::NeedsReauth),
    }
}

/// What an exchange result turns into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAuthorization {
    /// The record to store and return.
    pub record: AuthorizerRecord,
    /// The history item's kind.
    pub kind: HistoryKind,
    /// The refresh token to store: the new one, or the stored one kept.
    pub refresh_token: Option<RefreshToken>,
    /// The latest authorization time seen (revocations older than this are stale).
    pub last_authorized_at: Timestamp,
    /// The version the write is conditional on; `None` when the item must not exist yet.
    pub expected_version: Option<u64>,
}

/// Chooses the history kind of an authorization given what was stored before.
pub fn authorization_kind(
    existing: Option<&StoredAuthorizer>,
    auth: &NewAuthorization,
) -> HistoryKind {
    match existing {
        None => HistoryKind::Authorized,
        Some(e) if e.record.status != AuthorizerStatus::Authorized => HistoryKind::Reauthorized,
        Some(e) if e.record.permission_ids != auth.permission_ids => {
            HistoryKind::PermissionsChanged
        }
        Some(e) if auth.refresh_token.is_some() && e.refresh_token != auth.refresh_token => {
            HistoryKind::RefreshTokenReplaced
        }
        Some(_) => HistoryKind::Reauthorized,
    }
}

/// The stored state after an exchange. Without a refresh token from WeChat the account must
/// authorize again, whatever was stored before.
pub fn plan_authorization(
    existing: Option<&StoredAuthorizer>,
    auth: &NewAuthorization,
    authorized_at: Timestamp,
    now: Timestamp,
) -> PlannedAuthorization {
    let version = existing.map_or(0, |e| e.record.version);
    let refresh_token = auth
        .refresh_token
        .clone()
        .or_else(|| existing.and_then(|e| e.refresh_token.clone()));
    let status = if auth.refresh_token.is_some() {
        AuthorizerStatus::Authorized
    } else {
        AuthorizerStatus::NeedsReauth
    };
    PlannedAuthorization {
        record: AuthorizerRecord {
            authorizer_appid: auth.authorizer_appid.clone(),
            status,
            permission_ids: auth.permission_ids.clone(),
            authorized_at: existing.map_or(authorized_at.secs(), |e| e.record.authorized_at),
            updated_at: now.secs(),
            revoked_at: None,
            version: version + 1,
            has_refresh_token: refresh_token.is_some(),
            ext: auth
                .ext
                .clone()
                .or_else(|| existing.and_then(|e| e.record.ext.clone())),
        },
        kind: authorization_kind(existing, auth),
        refresh_token,
        last_authorized_at: existing
            .map_or(authorized_at, |e| e.last_authorized_at.max(authorized_at)),
        expected_version: existing.map(|e| e.record.version),
    }
}

/// The record after a revocation sent at `event_time`, or `None` when there is nothing to do:
/// already revoked, or authorized again after the push was sent (a stale revocation).
pub fn plan_revocation(
    existing: &StoredAuthorizer,
    event_time: Timestamp,
    now: Timestamp,
) -> Option<AuthorizerRecord> {
    if existing.record.status == AuthorizerStatus::Revoked
        || existing.last_authorized_at.secs() > event_time.secs()
    {
        return None;
    }
    Some(AuthorizerRecord {
        status: AuthorizerStatus::Revoked,
        revoked_at: Some(now.secs()),
        updated_at: now.secs(),
        version: existing.record.version + 1,
        has_refresh_token: false,
        ..existing.record.clone()
    })
}

/// Whether a refresh token listed by `api_get_authorizer_list` should be stored: for a missing
/// authorizer, or one whose stored refresh token is absent, refused or another, unless it was
/// revoked after the listed authorization, or authorized again after it (a list fetched before
/// a re-authorization must not put back the token that re-authorization replaced).
pub fn recovery(
    existing: Option<&StoredAuthorizer>,
    listed: &AuthorizerListItem,
) -> RecoverOutcome {
    let Some(e) = existing else {
        return RecoverOutcome::Added;
    };
    let authorized = e.record.status == AuthorizerStatus::Authorized && e.refresh_token.is_some();
    let current = authorized
        && (e.refresh_token.as_ref() == Some(&listed.refresh_token)
            || e.last_authorized_at.secs() > listed.auth_time);
    let revoked_later = e.record.status == AuthorizerStatus::Revoked
        && e.record.revoked_at.is_some_and(|r| r >= listed.auth_time);
    if current || revoked_later {
        RecoverOutcome::Unchanged
    } else {
        RecoverOutcome::Restored
    }
}

/// The record after a recovery (see [`recovery`]): authorized, with a refresh token, the
/// cached token dropped; an added authorizer gets `permission_ids`. Returns the record and
/// the new last authorization time.
pub fn recovered(
    existing: Option<&StoredAuthorizer>,
    listed: &AuthorizerListItem,
    permission_ids: &[PermissionId],
    now: Timestamp,
) -> (AuthorizerRecord, Timestamp) {
    let auth_time = Timestamp::from_secs(listed.auth_time);
    match existing {
        None => (
            AuthorizerRecord {
                authorizer_appid: listed.authorizer_appid.clone(),
                status: AuthorizerStatus::Authorized,
                permission_ids: permission_ids.to_vec(),
                authorized_at: auth_time.secs(),
                updated_at: now.secs(),
                revoked_at: None,
                version: 1,
                has_refresh_token: true,
                ext: None,
            },
            auth_time,
        ),
        Some(e) => (
            AuthorizerRecord {
                status: AuthorizerStatus::Authorized,
                updated_at: now.secs(),
                revoked_at: None,
                version: e.record.version + 1,
                has_refresh_token: true,
                ..e.record.clone()
            },
            e.last_authorized_at.max(auth_time),
        ),
    }
}

/// The record after WeChat refused the refresh token (61023).
pub fn needs_reauth(record: &AuthorizerRecord, now: Timestamp) -> AuthorizerRecord {
    AuthorizerRecord {
        status: AuthorizerStatus::NeedsReauth,
        updated_at: now.secs(),
        version: record.version + 1,
        ..record.clone()
    }
}

#[cfg(test)]
mod tests;
