//! The authorization round trip: the authorize link (a pre-auth code and a signed `state`) and
//! the callback (state checked, code exchanged, result shown or redirected).
//!
//! Caller data (`ext`, the platform's own customer) comes only from a link the platform's back
//! end minted ([`Authorization::mint_link`]): the public route refuses an `ext` it did not
//! sign, the binding is stored server-side with the authorizer (and so reaches the events), and
//! the success redirect is signed so that a typed-in URL fails verification.

mod links;

use super::authorizers::fetch_info;
use super::exchange::secret_hash;
use super::{Exchanger, ServiceError};
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::state::StateError;
use crate::state::StateSigner;
use crate::store::{AuthorizerStore, OnceKind, OnceStore, PendingExt, Use};
use crate::tokens::ComponentApi;
use std::sync::Arc;
use std::time::Duration;
use url::Url;
use wxopen_models::api::GetAuthorizerInfoResponse;
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::{AuthType, AuthorizationCode, AuthorizerAppid, Secret};

/// How long a `state` (and so an authorization session) stays valid.
pub const STATE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// How long a minted link stays valid unless the minting call says otherwise.
pub const LINK_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The longest lifetime a minted link may have.
pub const MAX_LINK_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long the success redirect's signature stays valid.
pub const SUCCESS_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// What the platform's back end asks for when it mints a link for one of its customers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkRequest {
    /// The customer the authorization will be bound to.
    pub ext: String,
    /// Which accounts the page offers.
    pub auth_type: Option<AuthType>,
    /// Pins one account.
    pub biz_appid: Option<AuthorizerAppid>,
    /// The mobile authorization page.
    pub mobile: bool,
    /// How long the link stays valid ([`LINK_LIFETIME`] by default).
    pub expires_in: Option<Duration>,
}

/// A minted link.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// The public authorize route with the signed link token.
    pub url: String,
    /// When the link stops working, epoch seconds.
    #[serde(serialize_with = "crate::clock::epoch_secs")]
    pub expires_at: Timestamp,
}

/// Parameters of the authorize route, parsed at the edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// Which accounts the page offers.
    pub auth_type: AuthType,
    /// Pins one account; excludes `auth_type`.
    pub biz_appid: Option<AuthorizerAppid>,
    /// The mobile authorization page instead of the PC one.
    pub mobile: bool,
    /// An `ext` in the query: refused, since only a minted link may carry one.
    pub ext: Option<String>,
    /// A link token minted by [`Authorization::mint_link`].
    pub link: Option<String>,
}

/// The URLs of the round trip, validated at cold start.
#[derive(Debug, Clone)]
pub struct AuthPages {
    /// `WECHAT_AUTH_PAGE_BASE`.
    pub page_base: Url,
    /// `AUTH_CALLBACK_URL`: needed to start an authorization.
    pub callback: Option<Url>,
    /// `AUTH_SUCCESS_URL`: where the callback sends the browser, if set.
    pub success: Option<Url>,
    /// The key the success redirect is signed with (`success_signing_key`, or else the state
    /// key).
    pub success_key: Secret,
    /// `AUTH_ANONYMOUS`: whether the public route may start an authorization without a minted
    /// link. Off by default, since each start spends a pre-auth code from WeChat's daily quota.
    pub anonymous: bool,
}

/// A completed authorization (the callback's result).
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    /// What is now stored.
    pub record: AuthorizerRecord,
    /// The account's profile, when WeChat answered.
    pub info: Option<GetAuthorizerInfoResponse>,
    /// Where to send the browser (`AUTH_SUCCESS_URL`), if configured.
    pub redirect: Option<String>,
}

/// The authorize and callback use case.
#[derive(Clone)]
pub struct Authorization {
    api: ComponentApi,
    authorizers: Arc<dyn AuthorizerStore>,
    once: Arc<dyn OnceStore>,
    exchanger: Arc<Exchanger>,
    state: StateSigner,
    pages: AuthPages,
    clock: Arc<dyn Clock>,
}

impl Authorization {
    /// The use case: the component's calls (pre-auth codes, profiles), the authorizer store,
    /// the record of used states, the exchanger, the `state` key and the round trip's URLs.
    pub fn new(
        api: ComponentApi,
        authorizers: Arc<dyn AuthorizerStore>,
        once: Arc<dyn OnceStore>,
        exchanger: Arc<Exchanger>,
        state: StateSigner,
        pages: AuthPages,
    ) -> Self {
        Self {
            api,
            authorizers,
            once,
            exchanger,
            state,
            pages,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same use case reading time from `clock` (states, links and redirects expire by it).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    fn callback(&self) -> Result<&Url, ServiceError> {
        self.pages
            .callback
            .as_ref()
            .ok_or(ServiceError::NotConfigured {
                variable: "AUTH_CALLBACK_URL",
                hint: "the authorize function needs the callback route's public URL",
            })
    }

    /// Creates a pre-auth code and a signed state; returns the authorization page URL.
    pub async fn start(&self, req: &AuthorizeRequest) -> Result<String, ServiceError> {
        let callback = self.callback()?;
        let choices = self.choices(req)?;
        if let Some(token) = &req.link {
            self.take_open(token).await?;
        }
        let req = &choices;
        let state = self
            .state
            .issue(
                req.ext.as_deref(),
                self.clock.now().plus(STATE_LIFETIME).secs(),
            )
            .map_err(|e| ServiceError::invalid("invalid_ext", e.to_string()))?;
        let pre = self.api.create_pre_auth_code().await?;
        if let Some(ext) = &req.ext {
            // For the `authorized` push, which names the pre-auth code but carries no state.
            let until = self
                .clock
                .now()
                .plus(STATE_LIFETIME.max(Duration::from_secs(pre.expires_in)));
            let pre_auth_hash = secret_hash(pre.pre_auth_code.expose());
            let pending = PendingExt {
                pre_auth_hash: &pre_auth_hash,
                ext,
                until,
            };
            self.authorizers.save_pending_ext(&pending).await?;
        }
        let mut redirect = callback.clone();
        redirect.query_pairs_mut().append_pair("state", &state);
        let path = if req.mobile {
            "safe/bindcomponent"
        } else {
            "cgi-bin/componentloginpage"
        };
        let mut page = self.pages.page_base.clone();
        page.set_path(&format!("{}/{path}", page.path().trim_end_matches('/')));
        {
            let mut q = page.query_pairs_mut();
            if req.mobile {
                q.append_pair("action", "bindcomponent")
                    .append_pair("no_scan", "1");
            }
            q.append_pair("component_appid", self.api.component().as_str())
                .append_pair("pre_auth_code", pre.pre_auth_code.expose())
                .append_pair("redirect_uri", redirect.as_str());
            // biz_appid pins one account and excludes auth_type.
            match &req.biz_appid {
                Some(biz) => q.append_pair("biz_appid", biz.as_str()),
                None => q.append_pair("auth_type", &req.auth_type.to_string()),
            };
        }
        if req.mobile {
            page.set_fragment(Some("wechat_redirect"));
        }
        Ok(page.into())
    }

    /// The callback: verifies `state` and records its single use (a second use is refused
    /// before anything is spent), exchanges the code, stores the authorizer and fetches its
    /// profile for the result page.
    pub async fn complete(
        &self,
        auth_code: Option<&str>,
        state: Option<&str>,
    ) -> Result<Completed, ServiceError> {
        let verified = self.state.verify(state, self.clock.now().secs())?;
        let code = auth_code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ServiceError::invalid("missing_auth_code", "the request carries no auth_code: WeChat adds it when the administrator confirms; start the authorization again"))?;
        let first = self
            .once
            .first_use(&Use {
                kind: OnceKind::State,
                key: &verified.nonce,
                until: Timestamp::from_secs(verified.expires_at),
                now: self.clock.now(),
            })
            .await?;
        if !first {
            return Err(StateError::Used.into());
        }
        let record = self
            .exchanger
            .exchange_or_find(&AuthorizationCode::new(code), verified.ext.as_deref())
            .await?;
        let info = match fetch_info(
            &self.api,
            self.authorizers.as_ref(),
            &record.authorizer_appid,
        )
        .await
        {
            Ok((info, _)) => Some(info),
            Err(e) => {
                tracing::warn!(authorizer = %record.authorizer_appid, error = %e, "authorized, but the account's profile could not be fetched for the result page");
                None
            }
        };
        let redirect = self.pages.success.as_ref().map(|base| {
            // The stored binding, signed: the platform trusts the signature, not the query.
            let appid = record.authorizer_appid.as_str();
            let ext = record.ext.as_deref();
            let expires_at = self.clock.now().plus(SUCCESS_LIFETIME).secs();
            let signature =
                crate::state::success_signature(&self.pages.success_key, appid, ext, expires_at);
            let mut url = base.clone();
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("authorizer_appid", appid);
                if let Some(ext) = ext {
                    q.append_pair("ext", ext);
                }
                q.append_pair("expires_at", &expires_at.to_string())
                    .append_pair("signature", &signature);
            }
            url.into()
        });
        Ok(Completed {
            record,
            info,
            redirect,
        })
    }
}
