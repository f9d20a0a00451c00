//! Answers about authorizers for other services: info merged with the stored record, the
//! listing, and valid access tokens.

use super::views::{permission_views, AuthorizerView, InfoSource, TokenGrant};
use super::ServiceError;
use crate::clock::Timestamp;
use crate::store::{AuthorizerListing, AuthorizerPage, AuthorizerStore, InfoSnapshot, TokenKey};
use crate::tokens::{AuthorizerError, ComponentApi, TokenManager};
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::api::GetAuthorizerInfoResponse;
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::{AccessToken, AuthorizerAppid};

/// Live `api_get_authorizer_info`, saved as the authorizer's snapshot.
pub(super) async fn fetch_info(
    api: &ComponentApi,
    store: &dyn AuthorizerStore,
    appid: &AuthorizerAppid,
) -> Result<(GetAuthorizerInfoResponse, Timestamp), ServiceError> {
    let fetched_at = Timestamp::now();
    let info = api.get_authorizer_info(appid).await?;
    let json = serde_json::to_string(&info).expect("info serializes");
    store
        .save_info_snapshot(appid, &InfoSnapshot { json, fetched_at })
        .await?;
    Ok((info, fetched_at))
}

/// How an info lookup may be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoRead {
    /// A stored snapshot younger than this is served instead of asking WeChat; zero: always live.
    pub max_age: Duration,
    /// Save a live answer as the snapshot (the default).
    pub save_snapshot: bool,
}

impl InfoRead {
    /// Live, saved as the snapshot.
    pub const LIVE: InfoRead = InfoRead {
        max_age: Duration::ZERO,
        save_snapshot: true,
    };

    /// A snapshot younger than `max_age`, else live and saved.
    pub fn at_most(max_age: Duration) -> Self {
        Self {
            max_age,
            save_snapshot: true,
        }
    }
}

/// The `authorizer-info` and `authorizer-token` use cases.
#[derive(Clone)]
pub struct Authorizers {
    api: ComponentApi,
    tokens: Arc<TokenManager>,
    store: Arc<dyn AuthorizerStore>,
    listing: Arc<dyn AuthorizerListing>,
}

impl Authorizers {
    /// The use case over the component API (profiles), the token manager and the authorizer
    /// stores.
    pub fn new(
        api: ComponentApi,
        tokens: Arc<TokenManager>,
        store: Arc<dyn AuthorizerStore>,
        listing: Arc<dyn AuthorizerListing>,
    ) -> Self {
        Self {
            api,
            tokens,
            store,
            listing,
        }
    }

    /// Live `api_get_authorizer_info` merged with the stored record; the snapshot is served
    /// instead when it is younger than `read.max_age`. A live answer is saved as the snapshot
    /// unless `read.save_snapshot` is off (a caller that never reads snapshots saves the write).
    pub async fn info(
        &self,
        appid: &AuthorizerAppid,
        read: InfoRead,
    ) -> Result<AuthorizerView, ServiceError> {
        let max_age = read.max_age;
        let stored = self
            .store
            .load_authorizer(appid)
            .await?
            .ok_or_else(|| AuthorizerError::Unknown(appid.clone()))?;
        if stored.record.status == AuthorizerStatus::Revoked {
            return Err(AuthorizerError::Revoked(appid.clone()).into());
        }
        let now = Timestamp::now();
        let from_snapshot = stored
            .info
            .as_ref()
            .filter(|s| !max_age.is_zero() && now.since(s.fetched_at) < max_age)
            .and_then(|s| {
                serde_json::from_str::<GetAuthorizerInfoResponse>(&s.json)
                    .ok()
                    .map(|info| (info, s.fetched_at))
            });
        let (info, fetched_at, source) = match from_snapshot {
            Some((info, at)) => (info, at, InfoSource::Snapshot),
            None => {
                let (info, at) = if read.save_snapshot {
                    fetch_info(&self.api, self.store.as_ref(), appid).await?
                } else {
                    (self.api.get_authorizer_info(appid).await?, now)
                };
                (info, at, InfoSource::Live)
            }
        };
        Ok(AuthorizerView {
            permissions: permission_views(&stored.record.permission_ids),
            record: stored.record,
            account_kind: info.authorizer_info.kind(),
            authorizer_info: info.authorizer_info,
            authorization_info: info.authorization_info,
            info_fetched_at: fetched_at,
            info_source: source,
        })
    }

    /// A page of stored authorizers after `cursor` (a previous page's `next_cursor`).
    pub async fn list(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AuthorizerPage, ServiceError> {
        let unknown = |c: &str| ServiceError::UnknownCursor(c.chars().take(70).collect());
        let after = cursor
            .map(|c| AuthorizerAppid::parse(c).map_err(|_| unknown(c)))
            .transpose()?;
        self.listing
            .list_authorizers(after.as_ref(), limit)
            .await?
            .ok_or_else(|| unknown(cursor.unwrap_or_default()))
    }

    /// A valid access token for `appid`. `invalid` is a token the caller saw rejected
    /// (40001/42001): it is dropped first, if it is still the stored one.
    pub async fn token(
        &self,
        appid: &AuthorizerAppid,
        invalid: Option<&AccessToken>,
    ) -> Result<TokenGrant, ServiceError> {
        let tokens = &self.tokens;
        if let Some(failed) = invalid {
            tokens
                .invalidate(&TokenKey::Authorizer(appid.clone()), failed)
                .await?;
        }
        let token = tokens.authorizer_token(appid).await?;
        Ok(TokenGrant {
            authorizer_appid: appid.clone(),
            authorizer_access_token: token.token,
            expires_at: token.expires_at,
        })
    }
}
