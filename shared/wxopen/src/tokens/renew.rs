//! Renewing a token under the lease: the component token from the ticket, an authorizer's from
//! its refresh token. Whatever WeChat returns is written with the lease and version as the
//! condition, and only a written token is handed out.

use super::{AuthorizerError, RefreshError, ServiceError, TokenManager};
use crate::store::rules::{usable, Unusable};
use crate::store::{AuthorizerTokenWrite, CachedToken, TokenKey, TokenSlot, TokenWrite};
use crate::telemetry;
use crate::wechat::WeChatError;
use std::time::Duration;
use wxopen_models::api::{AuthorizerTokenRequest, ComponentTokenRequest};
use wxopen_models::{AuthorizerAppid, PermissionId, RefreshToken};

/// A token fresh from WeChat, not yet stored.
struct Renewed {
    token: CachedToken,
    /// For an authorizer: the version the refresh started from, a replaced refresh token, and
    /// the permission ids for the history item.
    authorizer: Option<(u64, Option<RefreshToken>, Vec<PermissionId>)>,
}

fn unusable(appid: &AuthorizerAppid, why: Unusable) -> ServiceError {
    match why {
        Unusable::Revoked => AuthorizerError::Revoked(appid.clone()).into(),
        Unusable::NeedsReauth => AuthorizerError::NeedsReauth(appid.clone()).into(),
    }
}

impl TokenManager {
    /// The slot of `key`, refused when the authorizer is unknown, revoked or needs reauth.
    pub(super) async fn usable_slot(&self, key: &TokenKey) -> Result<TokenSlot, ServiceError> {
        let slot = self.store.load_slot(key).await?;
        let TokenKey::Authorizer(appid) = key else {
            return Ok(slot.unwrap_or_default());
        };
        let slot =
            slot.ok_or_else(|| ServiceError::from(AuthorizerError::Unknown(appid.clone())))?;
        self.check_usable(key, &slot)?;
        Ok(slot)
    }

    /// Refuses a slot whose authorizer is revoked or needs reauth.
    pub(super) fn check_usable(
        &self,
        key: &TokenKey,
        slot: &TokenSlot,
    ) -> Result<(), ServiceError> {
        match (key, &slot.credentials) {
            (TokenKey::Authorizer(appid), Some(c)) => {
                usable(&c.record).map_err(|why| unusable(appid, why))
            }
            _ => Ok(()),
        }
    }

    async fn release(&self, key: &TokenKey) {
        if let Err(e) = self.store.release_lease(key, &self.owner).await {
            tracing::warn!(token = %key, error = %e, "could not release the refresh lease; it will lapse");
        }
    }

    /// Holding the lease: renew, write, and hand out only what was written.
    pub(super) async fn refresh(
        &self,
        key: &TokenKey,
        leased: TokenSlot,
        margin: Duration,
    ) -> Result<CachedToken, ServiceError> {
        let fresh = |t: &CachedToken| t.is_fresh(self.now(), margin);
        // Another instance refreshed between our read and the lease.
        if let Some(token) = leased.token.as_ref().filter(|t| fresh(t)) {
            self.release(key).await;
            self.remember(key, token);
            return Ok(token.clone());
        }
        let renewed = match key {
            TokenKey::Component => self.renew_component().await,
            // Boxed: renewing an authorizer's token needs the component token, which goes
            // through this same algorithm.
            TokenKey::Authorizer(appid) => Box::pin(self.renew_authorizer(appid, &leased)).await,
        };
        let renewed = match renewed {
            Ok(renewed) => renewed,
            Err(e) => {
                telemetry::token_refresh(key, false);
                self.release(key).await;
                return Err(e);
            }
        };
        let authorizer =
            renewed
                .authorizer
                .as_ref()
                .map(|(version, replaced, ids)| AuthorizerTokenWrite {
                    expected_version: *version,
                    replaced_refresh_token: replaced.as_ref(),
                    permission_ids: ids,
                });
        let write = TokenWrite {
            owner: &self.owner,
            token: &renewed.token,
            authorizer,
            now: self.now(),
        };
        match self.store.write_token(key, &write).await {
            Ok(true) => {
                telemetry::token_refresh(key, true);
                let expires_at = renewed.token.expires_at.secs();
                match key {
                    TokenKey::Component => {
                        tracing::info!(expires_at, "component token refreshed");
                    }
                    TokenKey::Authorizer(appid) => {
                        let replaced =
                            authorizer.is_some_and(|a| a.replaced_refresh_token.is_some());
                        tracing::info!(authorizer = %appid, expires_at, refresh_token_replaced = replaced, "authorizer token refreshed");
                    }
                }
                self.remember(key, &renewed.token);
                Ok(renewed.token)
            }
            // The lease or the version was lost while WeChat answered: only a stored token may
            // be handed out.
            Ok(false) => {
                self.release(key).await;
                match self.usable_slot(key).await?.token.filter(|t| fresh(t)) {
                    Some(stored) => {
                        self.remember(key, &stored);
                        Ok(stored)
                    }
                    None => Err(RefreshError::Conflict {
                        what: key.to_string(),
                    }
                    .into()),
                }
            }
            Err(e) => {
                telemetry::token_refresh(key, false);
                self.release(key).await;
                Err(e.into())
            }
        }
    }

    async fn renew_component(&self) -> Result<Renewed, ServiceError> {
        let Some(ticket) = self.check_ticket().await? else {
            return Err(RefreshError::TicketMissing.into());
        };
        let issued_at = self.now();
        let resp = self
            .wechat
            .component_token(&ComponentTokenRequest {
                component_appid: self.component.clone(),
                component_appsecret: self.appsecret.clone(),
                component_verify_ticket: ticket.ticket,
            })
            .await?;
        Ok(Renewed {
            token: CachedToken {
                token: resp.component_access_token,
                expires_at: issued_at.plus(Duration::from_secs(resp.expires_in)),
            },
            authorizer: None,
        })
    }

    async fn renew_authorizer(
        &self,
        appid: &AuthorizerAppid,
        leased: &TokenSlot,
    ) -> Result<Renewed, ServiceError> {
        let credentials = leased
            .credentials
            .as_ref()
            .ok_or_else(|| ServiceError::from(AuthorizerError::Unknown(appid.clone())))?;
        let Some(refresh_token) = credentials.refresh_token.clone() else {
            return Err(AuthorizerError::NeedsReauth(appid.clone()).into());
        };
        let request = AuthorizerTokenRequest {
            component_appid: self.component.clone(),
            authorizer_appid: appid.clone(),
            authorizer_refresh_token: refresh_token.clone(),
        };
        let issued_at = self.now();
        let wechat = &self.wechat;
        let resp = match self
            .with_component_token(|token| {
                let request = &request;
                async move { wechat.authorizer_token(&token, request).await }
            })
            .await
        {
            Ok(resp) => resp,
            Err(ServiceError::WeChat(WeChatError::RefreshTokenInvalid)) => {
                let marked = self
                    .store
                    .mark_needs_reauth(credentials, self.now())
                    .await?;
                if marked {
                    telemetry::needs_reauth();
                }
                tracing::warn!(authorizer = %appid, marked, "WeChat refused the refresh token (61023); authorizer needs to authorize again");
                return Err(AuthorizerError::NeedsReauth(appid.clone()).into());
            }
            Err(e) => return Err(e),
        };
        // Whatever refresh token came back is written with the access token, in one write
        // conditional on the lease and the version: the token is handed out only after that.
        let replaced = resp
            .refresh_token()
            .filter(|r| **r != refresh_token)
            .cloned();
        Ok(Renewed {
            token: CachedToken {
                token: resp.authorizer_access_token,
                expires_at: issued_at.plus(Duration::from_secs(resp.expires_in)),
            },
            authorizer: Some((
                credentials.record.version,
                replaced,
                credentials.record.permission_ids.clone(),
            )),
        })
    }
}
