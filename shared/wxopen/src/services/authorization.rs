//! The authorization round trip: the authorize link (a pre-auth code and a signed `state`) and
//! the callback (state checked, code exchanged, result shown or redirected).

use super::authorizers::fetch_info;
use super::{Exchanger, ServiceError};
use crate::clock::Timestamp;
use crate::state::StateSigner;
use std::sync::Arc;
use std::time::Duration;
use url::Url;
use wxopen_models::api::GetAuthorizerInfoResponse;
use wxopen_models::records::AuthorizerRecord;
use wxopen_models::{AuthType, AuthorizationCode, AuthorizerAppid};

/// How long a `state` (and so an authorization session) stays valid.
pub const STATE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Parameters of the authorize route, parsed at the edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// Which accounts the page offers.
    pub auth_type: AuthType,
    /// Pins one account; excludes `auth_type`.
    pub biz_appid: Option<AuthorizerAppid>,
    /// The mobile authorization page instead of the PC one.
    pub mobile: bool,
    /// Caller data carried through `state` back to the callback.
    pub ext: Option<String>,
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
    exchanger: Arc<Exchanger>,
    state: StateSigner,
    pages: AuthPages,
}

impl Authorization {
    /// The use case with its exchanger, `state` key and URLs.
    pub fn new(exchanger: Arc<Exchanger>, state: StateSigner, pages: AuthPages) -> Self {
        Self {
            exchanger,
            state,
            pages,
        }
    }

    /// Creates a pre-auth code and a signed state; returns the authorization page URL.
    pub async fn start(&self, req: &AuthorizeRequest) -> Result<String, ServiceError> {
        let callback = self
            .pages
            .callback
            .as_ref()
            .ok_or(ServiceError::NotConfigured {
                variable: "AUTH_CALLBACK_URL",
                hint: "the authorize function needs the callback route's public URL",
            })?;
        let state = self
            .state
            .issue(
                req.ext.as_deref(),
                Timestamp::now().plus(STATE_LIFETIME).secs(),
            )
            .map_err(|e| ServiceError::invalid("invalid_ext", e.to_string()))?;
        let pre = self.exchanger.api().create_pre_auth_code().await?;
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
            q.append_pair(
                "component_appid",
                self.exchanger.api().tokens().component().as_str(),
            )
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

    /// The callback: verifies `state`, exchanges the code, stores the authorizer and fetches
    /// its profile for the result page.
    pub async fn complete(
        &self,
        auth_code: Option<&str>,
        state: Option<&str>,
    ) -> Result<Completed, ServiceError> {
        let verified = self.state.verify(state, Timestamp::now().secs())?;
        let code = auth_code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ServiceError::invalid("missing_auth_code", "the request carries no auth_code: WeChat adds it when the administrator confirms; start the authorization again"))?;
        let record = self
            .exchanger
            .exchange_or_find(&AuthorizationCode::new(code))
            .await?;
        let api = self.exchanger.api();
        let store = self.exchanger.store().as_ref();
        let info = match fetch_info(api, store, &record.authorizer_appid).await {
            Ok((info, _)) => Some(info),
            Err(e) => {
                tracing::warn!(authorizer = %record.authorizer_appid, error = %e, "authorized, but the account's profile could not be fetched for the result page");
                None
            }
        };
        let redirect = self.pages.success.as_ref().map(|base| {
            let mut url = base.clone();
            url.query_pairs_mut()
                .append_pair("authorizer_appid", record.authorizer_appid.as_str());
            if let Some(ext) = &verified.ext {
                url.query_pairs_mut().append_pair("ext", ext);
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
