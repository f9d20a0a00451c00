//! Links the platform mints for its customers: the choices signed into an expiring token, and
//! read back (verified) when the customer opens one.

use super::{Authorization, AuthorizeRequest, Link, LinkRequest, LINK_LIFETIME, MAX_LINK_LIFETIME};
use crate::services::exchange::secret_hash;
use crate::services::ServiceError;
use crate::state::{LinkClaims, LinkError, MAX_EXT_LEN};
use crate::store::{OnceKind, Use};
use std::time::Duration;
use wxopen_models::{AuthType, AuthorizerAppid};

/// Opens of one link a minute, across instances. Each open creates a pre-auth code, which
/// WeChat's documentation gives a lifetime (600 s in its example answer, 1800 s in its text) but
/// no rule for reuse, and the protocol notes say to use once: so a code is never reused, and a
/// link cannot be replayed into a flood of them. Three allows a customer's reloads.
pub const LINK_OPENS_PER_MINUTE: u32 = 3;

impl Authorization {
    /// A link to the public authorize route for one of the platform's customers: the choices
    /// signed into an expiring token, so that whoever opens it authorizes for that customer and
    /// no one can change it. No WeChat call: the pre-auth code is created when it is opened.
    pub fn mint_link(&self, req: &LinkRequest) -> Result<Link, ServiceError> {
        let ext = req.ext.trim();
        if ext.is_empty() || ext.len() > MAX_EXT_LEN {
            return Err(ServiceError::invalid(
                "invalid_ext",
                format!(
                    "ext must be 1 to {MAX_EXT_LEN} bytes: the platform's own id of the customer"
                ),
            ));
        }
        let lifetime = req.expires_in.unwrap_or(LINK_LIFETIME);
        if lifetime.is_zero() || lifetime > MAX_LINK_LIFETIME {
            return Err(ServiceError::invalid(
                "invalid_expires_in",
                format!(
                    "expires_in must be 1 to {} seconds",
                    MAX_LINK_LIFETIME.as_secs()
                ),
            ));
        }
        let expires_at = self.clock.now().plus(lifetime);
        let token = self.state.issue_link(&LinkClaims {
            ext: ext.to_owned(),
            auth_type: req.auth_type.map(|t| t.code()),
            biz_appid: req.biz_appid.as_ref().map(|a| a.to_string()),
            mobile: req.mobile,
            expires_at: expires_at.secs(),
        });
        // The authorize route is the callback route's sibling on the same API.
        let mut url =
            self.callback()?
                .join("authorize")
                .map_err(|_| ServiceError::NotConfigured {
                    variable: "AUTH_CALLBACK_URL",
                    hint: "a URL ending in /callback, beside the authorize route",
                })?;
        url.query_pairs_mut().append_pair("link", &token);
        Ok(Link {
            url: url.into(),
            expires_at,
        })
    }

    /// Takes one of this minute's opens of the link `token` (already verified), or refuses
    /// before anything is spent.
    pub(super) async fn take_open(&self, token: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let minute = now.secs().div_euclid(60);
        let link = secret_hash(token);
        for slot in 0..LINK_OPENS_PER_MINUTE {
            let key = format!("{link}#{minute}#{slot}");
            let open = Use {
                kind: OnceKind::LinkOpen,
                key: &key,
                until: now.plus(Duration::from_secs(120)),
                now,
            };
            if self.once.first_use(&open).await? {
                return Ok(());
            }
        }
        Err(LinkError::Busy {
            opens: LINK_OPENS_PER_MINUTE,
        }
        .into())
    }

    /// The choices of an authorization: a verified link's, or (only with `AUTH_ANONYMOUS`) the
    /// query's without `ext`. Checked before anything is spent: an anonymous hit where links are
    /// required costs no WeChat call.
    pub(super) fn choices(&self, req: &AuthorizeRequest) -> Result<AuthorizeRequest, ServiceError> {
        let Some(token) = &req.link else {
            if req.ext.is_some() {
                return Err(ServiceError::invalid(
                    "unsigned_ext",
                    "ext is accepted only inside a link the platform minted: invoke the authorize function directly with {\"ext\": \"<customer id>\"} and send the customer the url it returns",
                ));
            }
            if !self.pages.anonymous {
                return Err(LinkError::Required.into());
            }
            return Ok(req.clone());
        };
        let claims = self.state.verify_link(token, self.clock.now().secs())?;
        let malformed = || ServiceError::Link(LinkError::Malformed);
        Ok(AuthorizeRequest {
            auth_type: match claims.auth_type {
                Some(code) => AuthType::parse(&code.to_string()).map_err(|_| malformed())?,
                None => AuthType::default(),
            },
            biz_appid: claims
                .biz_appid
                .map(AuthorizerAppid::parse)
                .transpose()
                .map_err(|_| malformed())?,
            mobile: claims.mobile || req.mobile,
            ext: Some(claims.ext),
            link: None,
        })
    }
}
