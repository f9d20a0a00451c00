//! The services the functions call: one [`Platform`] per container, holding the ports.
//! Nothing here knows about HTTP or Lambda; adapters parse events into these calls and render
//! the typed results.

use crate::clock::{now_ms, now_secs};
use crate::config::Config;
use crate::msg_crypto::{CryptoError, MsgCrypto};
use crate::state::{StateError, StateSigner};
use crate::store::{
    AuthorizerPage, CachedToken, InfoSnapshot, NewAuthorization, RecoverOutcome, Store, StoreError,
    TicketSave,
};
use crate::tokens::{TokenError, TokenManager, TokenSettings};
use crate::wechat::{WeChatApi, WeChatError};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::api::{
    CreatePreAuthCodeRequest, GetAuthorizerInfoRequest, GetAuthorizerInfoResponse,
    GetAuthorizerListRequest, QueryAuthRequest,
};
use wxopen_models::authorizer_info::{AccountKind, AuthorizerInfo};
use wxopen_models::events::{ComponentEvent, EncryptedEnvelope, EventError};
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus};
use wxopen_models::{
    AccessToken, AuthorizationCode, AuthorizerAppid, ComponentAppid, PermissionId,
};

/// How long a `state` (and so an authorization session) stays valid.
pub const STATE_LIFETIME_SECS: i64 = 30 * 60;
/// The refresher renews the component token when less than this remains.
pub const REFRESHER_MARGIN: Duration = Duration::from_secs(20 * 60);
/// How long the record of an exchanged code is kept (codes live 10 minutes at most).
pub const EXCHANGED_CODE_TTL_SECS: i64 = 3600;
/// How long the callback waits for a concurrent exchange of the same code to be stored.
pub const CONCURRENT_EXCHANGE_WAIT: Duration = Duration::from_secs(3);

/// A failure of a service call, with enough structure for the error contract.
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
    /// The `state` of a callback was refused.
    #[error(transparent)]
    State(#[from] StateError),
    /// An event push was refused.
    #[error(transparent)]
    Push(#[from] PushError),
    /// No token could be handed out.
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl From<WeChatError> for ServiceError {
    fn from(e: WeChatError) -> Self {
        Self::Token(TokenError::WeChat(e))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        Self::Token(TokenError::Store(e))
    }
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

/// Why a push to the event URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// `timestamp`, `nonce` or `msg_signature` is missing.
    #[error(
        "the push is not signed: timestamp, nonce and msg_signature are required in the query"
    )]
    Unsigned,
    /// The signature does not match.
    #[error(transparent)]
    BadSignature(CryptoError),
    /// `encrypt_type` is not `aes`.
    #[error("encrypt_type {0:?} is not supported: set message encryption to safe mode (aes) in the WeChat console")]
    UnsupportedEncryption(String),
    /// The body is too large.
    #[error("the push body is {len} bytes; at most {max} are accepted")]
    TooLarge {
        /// Bytes received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The envelope or the decrypted event is not readable.
    #[error(transparent)]
    Malformed(#[from] EventError),
    /// The ciphertext could not be decrypted.
    #[error(transparent)]
    Undecryptable(CryptoError),
    /// The push was meant for another component.
    #[error("the push is for component {found}, not this platform's {expected}: check WECHAT_COMPONENT_APPID")]
    WrongComponent {
        /// This platform.
        expected: String,
        /// The push's AppID.
        found: String,
    },
}

/// Parameters of the authorize route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// 1 Official Accounts only, 2 Mini Programs only, 3 both (the default).
    pub auth_type: Option<u8>,
    /// Pins one account; excludes `auth_type`.
    pub biz_appid: Option<AuthorizerAppid>,
    /// The mobile authorization page instead of the PC one.
    pub mobile: bool,
    /// Caller data carried through `state` back to the callback.
    pub ext: Option<String>,
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

/// A permission set id with its English name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionView {
    /// The id.
    pub id: PermissionId,
    /// The name, for documented ids.
    pub name: Option<&'static str>,
}

/// The SHA-256 of a code, hex: codes are never stored themselves.
fn code_hash(code: &AuthorizationCode) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(code.expose().as_bytes()))
}

/// Permission ids with their names.
pub fn permission_views(ids: &[PermissionId]) -> Vec<PermissionView> {
    ids.iter()
        .map(|id| PermissionView {
            id: *id,
            name: id.name(),
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
    pub authorization_info: wxopen_models::api::AuthorizationGrant,
    /// When the info was fetched, epoch milliseconds.
    pub info_fetched_at: i64,
    /// Live or snapshot.
    pub info_source: InfoSource,
}

/// `authorizer-token`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenGrant {
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// A valid token (the one field that carries a secret, by purpose).
    pub authorizer_access_token: String,
    /// Expiry, epoch seconds.
    pub expires_at: i64,
}

/// A push as received.
#[derive(Debug, Clone, Default)]
pub struct Push<'a> {
    /// `timestamp` query parameter.
    pub timestamp: Option<&'a str>,
    /// `nonce` query parameter.
    pub nonce: Option<&'a str>,
    /// `msg_signature` query parameter.
    pub msg_signature: Option<&'a str>,
    /// `encrypt_type` query parameter.
    pub encrypt_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// Longest push body accepted.
pub const MAX_PUSH_BYTES: usize = 64 * 1024;

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// A new ticket was stored.
    TicketStored,
    /// A ticket at least as new was already stored.
    TicketStale,
    /// An authorization or update was exchanged and stored.
    Authorized(AuthorizerRecord),
    /// The authorization code of the push was already used or expired (the redirect usually
    /// exchanged it first); nothing to do.
    CodeAlreadyUsed(AuthorizerAppid),
    /// The authorizer was revoked (or was not stored).
    Revoked(Option<AuthorizerRecord>),
    /// A valid push of a kind this service does not act on.
    Ignored(String),
}

/// What the scheduled refresher did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    /// Whether the component token was renewed.
    pub component_token_refreshed: bool,
    /// Its expiry, epoch seconds.
    pub component_token_expires_at: i64,
    /// Authorizers WeChat listed.
    pub authorizers_listed: u64,
    /// Missing authorizers added.
    pub authorizers_added: u64,
    /// Authorizers whose refresh token was restored.
    pub refresh_tokens_restored: u64,
}

/// The platform's services.
pub struct Platform {
    component: ComponentAppid,
    store: Arc<dyn Store>,
    wechat: Arc<dyn WeChatApi>,
    tokens: TokenManager,
    crypto: MsgCrypto,
    state: StateSigner,
    auth_page_base: String,
    callback_url: Option<String>,
    success_url: Option<String>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("component", &self.component)
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// Wires the services; call once per container.
    pub fn new(
        config: &Config,
        store: Arc<dyn Store>,
        wechat: Arc<dyn WeChatApi>,
        settings: TokenSettings,
    ) -> Self {
        let tokens = TokenManager::new(
            store.clone(),
            wechat.clone(),
            config.component_appid.clone(),
            config.component_appsecret.clone(),
            settings,
        );
        Self {
            component: config.component_appid.clone(),
            store,
            wechat,
            tokens,
            crypto: config.msg_crypto(),
            state: StateSigner::new(config.auth_state_secret.clone()),
            auth_page_base: config.auth_page_base.clone(),
            callback_url: config.auth_callback_url.clone(),
            success_url: config.auth_success_url.clone(),
        }
    }

    /// The component AppID.
    pub fn component(&self) -> &ComponentAppid {
        &self.component
    }

    /// The token manager.
    pub fn tokens(&self) -> &TokenManager {
        &self.tokens
    }

    /// Creates a pre-auth code and a signed state; returns the authorization page URL.
    pub async fn start_authorization(
        &self,
        req: &AuthorizeRequest,
    ) -> Result<String, ServiceError> {
        let callback = self.callback_url.as_deref().ok_or_else(|| {
            ServiceError::invalid("not_configured", "AUTH_CALLBACK_URL is not set: the authorize function needs the callback route's public URL")
        })?;
        let auth_type = req.auth_type.unwrap_or(3);
        if !(1..=3).contains(&auth_type) {
            return Err(ServiceError::invalid(
                "invalid_auth_type",
                format!("auth_type {auth_type} is not allowed: use 1 (Official Accounts), 2 (Mini Programs) or 3 (both)"),
            ));
        }
        let state = self
            .state
            .issue(req.ext.as_deref(), now_secs() + STATE_LIFETIME_SECS)
            .map_err(|e| ServiceError::invalid("invalid_ext", e.to_string()))?;
        let request = CreatePreAuthCodeRequest {
            component_appid: self.component.clone(),
        };
        let pre = self
            .tokens
            .with_component_token(|token| {
                let request = &request;
                async move { self.wechat.create_pre_auth_code(&token, request).await }
            })
            .await?;
        let mut redirect = url::Url::parse(callback).map_err(|e| {
            ServiceError::invalid("not_configured", format!("AUTH_CALLBACK_URL: {e}"))
        })?;
        redirect.query_pairs_mut().append_pair("state", &state);
        let path = if req.mobile {
            "/safe/bindcomponent"
        } else {
            "/cgi-bin/componentloginpage"
        };
        let mut page = url::Url::parse(&format!("{}{path}", self.auth_page_base)).map_err(|e| {
            ServiceError::invalid("not_configured", format!("WECHAT_AUTH_PAGE_BASE: {e}"))
        })?;
        {
            let mut q = page.query_pairs_mut();
            if req.mobile {
                q.append_pair("action", "bindcomponent")
                    .append_pair("no_scan", "1");
            }
            q.append_pair("component_appid", self.component.as_str())
                .append_pair("pre_auth_code", pre.pre_auth_code.expose())
                .append_pair("redirect_uri", redirect.as_str());
            // biz_appid pins one account and excludes auth_type.
            match &req.biz_appid {
                Some(biz) => q.append_pair("biz_appid", biz.as_str()),
                None => q.append_pair("auth_type", &auth_type.to_string()),
            };
        }
        if req.mobile {
            page.set_fragment(Some("wechat_redirect"));
        }
        Ok(page.into())
    }

    /// The callback: verifies `state`, exchanges the code, stores the authorizer and fetches
    /// its profile for the result page.
    pub async fn complete_authorization(
        &self,
        auth_code: Option<&str>,
        state: Option<&str>,
    ) -> Result<Completed, ServiceError> {
        let verified = self.state.verify(state, now_secs())?;
        let code = auth_code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ServiceError::invalid("missing_auth_code", "the request carries no auth_code: WeChat adds it when the administrator confirms; start the authorization again"))?;
        let code = AuthorizationCode::new(code);
        let record = match self.exchange(&code, now_secs()).await {
            Ok(record) => record,
            // WeChat pushes `authorized` with the same code; if the push exchanged it first,
            // the authorization is stored and this browser should see it.
            Err(ServiceError::Token(TokenError::WeChat(WeChatError::AuthCodeInvalid))) => {
                match self.wait_for_exchanged(&code).await? {
                    Some(record) => record,
                    None => return Err(WeChatError::AuthCodeInvalid.into()),
                }
            }
            Err(e) => return Err(e),
        };
        let info = match self.fetch_info(&record.authorizer_appid).await {
            Ok((info, _)) => Some(info),
            Err(e) => {
                tracing::warn!(authorizer = %record.authorizer_appid, error = %e, "authorized, but the account's profile could not be fetched for the result page");
                None
            }
        };
        let redirect = self.success_url.as_deref().map(|base| {
            let mut url = url::Url::parse(base).expect("AUTH_SUCCESS_URL was validated at start");
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

    /// The record a code was already exchanged for, waiting briefly for a concurrent exchange
    /// (the push) to finish storing it.
    async fn wait_for_exchanged(
        &self,
        code: &AuthorizationCode,
    ) -> Result<Option<AuthorizerRecord>, ServiceError> {
        let hash = code_hash(code);
        let started = std::time::Instant::now();
        loop {
            if let Some(appid) = self.store.exchanged_code(&self.component, &hash).await? {
                tracing::info!(authorizer = %appid, "the code was already exchanged by the authorized push");
                return Ok(self
                    .store
                    .load_authorizer(&self.component, &appid)
                    .await?
                    .map(|stored| stored.record));
            }
            if started.elapsed() >= CONCURRENT_EXCHANGE_WAIT {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Exchanges an authorization code and stores the result. Returns the stored record.
    pub async fn exchange(
        &self,
        code: &AuthorizationCode,
        authorized_at: i64,
    ) -> Result<AuthorizerRecord, ServiceError> {
        let request = QueryAuthRequest {
            component_appid: self.component.clone(),
            authorization_code: code.clone(),
        };
        let issued_at = now_secs();
        let resp = self
            .tokens
            .with_component_token(|token| {
                let request = &request;
                async move { self.wechat.query_auth(&token, request).await }
            })
            .await?;
        let info = resp.authorization_info;
        let auth = NewAuthorization {
            authorizer_appid: info.authorizer_appid.clone(),
            refresh_token: info.refresh_token().cloned(),
            access: info.access_token().map(|token| CachedToken {
                token: token.clone(),
                expires_at: issued_at + info.expires_in.unwrap_or(0) as i64,
            }),
            permission_ids: info.permission_ids(),
        };
        let record = self
            .store
            .save_authorization(&self.component, &auth, authorized_at, now_ms())
            .await?;
        tracing::info!(authorizer = %record.authorizer_appid, status = %record.status, permissions = ?record.permission_ids, "authorization stored");
        if let Err(e) = self
            .store
            .remember_exchanged_code(
                &self.component,
                &code_hash(code),
                &record.authorizer_appid,
                now_secs() + EXCHANGED_CODE_TTL_SECS,
            )
            .await
        {
            tracing::warn!(error = %e, "could not record the exchanged code; a concurrent callback may show an error");
        }
        Ok(record)
    }

    async fn fetch_info(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<(GetAuthorizerInfoResponse, i64), ServiceError> {
        let request = GetAuthorizerInfoRequest {
            component_appid: self.component.clone(),
            authorizer_appid: appid.clone(),
        };
        let fetched_at = now_ms();
        let info = self
            .tokens
            .with_component_token(|token| {
                let request = &request;
                async move { self.wechat.get_authorizer_info(&token, request).await }
            })
            .await?;
        let json = serde_json::to_string(&info).expect("info serializes");
        self.store
            .save_info_snapshot(
                &self.component,
                appid,
                &InfoSnapshot {
                    json,
                    fetched_at_ms: fetched_at,
                },
            )
            .await?;
        Ok((info, fetched_at))
    }

    /// Live `api_get_authorizer_info` merged with the stored record; the snapshot is served
    /// instead when it is younger than `max_age`.
    pub async fn authorizer_info(
        &self,
        appid: &AuthorizerAppid,
        max_age: Duration,
    ) -> Result<AuthorizerView, ServiceError> {
        let stored = self
            .store
            .load_authorizer(&self.component, appid)
            .await?
            .ok_or_else(|| TokenError::UnknownAuthorizer(appid.clone()))?;
        if stored.record.status == AuthorizerStatus::Revoked {
            return Err(TokenError::Revoked(appid.clone()).into());
        }
        let snapshot = stored.info.as_ref().filter(|s| {
            !max_age.is_zero() && now_ms() - s.fetched_at_ms < max_age.as_millis() as i64
        });
        let from_snapshot = snapshot.and_then(|s| {
            serde_json::from_str::<GetAuthorizerInfoResponse>(&s.json)
                .ok()
                .map(|info| (info, s.fetched_at_ms))
        });
        let (info, fetched_at, source) = match from_snapshot {
            Some((info, at)) => (info, at, InfoSource::Snapshot),
            None => {
                let (info, at) = self.fetch_info(appid).await?;
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

    /// A page of stored authorizers.
    pub async fn list_authorizers(
        &self,
        cursor: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<AuthorizerPage, ServiceError> {
        Ok(self
            .store
            .list_authorizers(&self.component, cursor.map(AuthorizerAppid::as_str), limit)
            .await?)
    }

    /// A valid access token for `appid`. `invalid` is a token the caller saw rejected
    /// (40001/42001): it is dropped first, if it is still the stored one.
    pub async fn authorizer_token(
        &self,
        appid: &AuthorizerAppid,
        invalid: Option<&AccessToken>,
    ) -> Result<TokenGrant, ServiceError> {
        if let Some(failed) = invalid {
            self.tokens
                .invalidate_authorizer_token(appid, failed)
                .await?;
        }
        let token = self.tokens.authorizer_token(appid).await?;
        Ok(TokenGrant {
            authorizer_appid: appid.clone(),
            authorizer_access_token: token.token.expose().to_owned(),
            expires_at: token.expires_at,
        })
    }

    /// Verifies, decrypts and handles a push to the event URL. The signature is checked before
    /// anything but the envelope is parsed.
    pub async fn handle_push(&self, push: &Push<'_>) -> Result<PushOutcome, ServiceError> {
        if push.body.len() > MAX_PUSH_BYTES {
            return Err(PushError::TooLarge {
                len: push.body.len(),
                max: MAX_PUSH_BYTES,
            }
            .into());
        }
        let (Some(timestamp), Some(nonce), Some(signature)) =
            (push.timestamp, push.nonce, push.msg_signature)
        else {
            return Err(PushError::Unsigned.into());
        };
        if let Some(kind) = push.encrypt_type.filter(|k| !k.eq_ignore_ascii_case("aes")) {
            return Err(PushError::UnsupportedEncryption(kind.chars().take(32).collect()).into());
        }
        let body = std::str::from_utf8(push.body)
            .map_err(|_| PushError::Malformed(EventError::Xml("the body is not UTF-8".into())))?;
        let envelope = EncryptedEnvelope::parse_xml(body).map_err(PushError::Malformed)?;
        self.crypto
            .verify_signature(timestamp, nonce, &envelope.encrypt, signature)
            .map_err(PushError::BadSignature)?;
        let xml = self
            .crypto
            .decrypt(&envelope.encrypt)
            .map_err(|e| match e {
                CryptoError::AppidMismatch { expected, found } => {
                    PushError::WrongComponent { expected, found }
                }
                other => PushError::Undecryptable(other),
            })?;
        let event = ComponentEvent::parse_xml(&xml).map_err(PushError::Malformed)?;
        if event.component_appid() != &self.component {
            return Err(PushError::WrongComponent {
                expected: self.component.to_string(),
                found: event.component_appid().to_string(),
            }
            .into());
        }
        tracing::info!(info_type = event.info_type(), "push verified");
        match event {
            ComponentEvent::VerifyTicket(e) => Ok(
                match self
                    .store
                    .save_ticket(&self.component, &e.ticket, e.create_time)
                    .await?
                {
                    TicketSave::Saved => PushOutcome::TicketStored,
                    TicketSave::Stale { .. } => PushOutcome::TicketStale,
                },
            ),
            ComponentEvent::Authorized(e) | ComponentEvent::UpdateAuthorized(e) => {
                match self.exchange(&e.authorization_code, e.create_time).await {
                    Ok(record) => Ok(PushOutcome::Authorized(record)),
                    Err(ServiceError::Token(TokenError::WeChat(
                        WeChatError::AuthCodeInvalid | WeChatError::AuthCodeExpired,
                    ))) => {
                        tracing::info!(authorizer = %e.authorizer_appid, "the pushed authorization code was already used or expired");
                        Ok(PushOutcome::CodeAlreadyUsed(e.authorizer_appid))
                    }
                    Err(other) => Err(other),
                }
            }
            ComponentEvent::Unauthorized(e) => {
                let revoked = self
                    .store
                    .revoke_authorizer(
                        &self.component,
                        &e.authorizer_appid,
                        e.create_time,
                        now_ms(),
                    )
                    .await?;
                self.tokens.forget_authorizer(&e.authorizer_appid);
                Ok(PushOutcome::Revoked(revoked))
            }
            ComponentEvent::Other { info_type, .. } => Ok(PushOutcome::Ignored(info_type)),
        }
    }

    /// The scheduled job: renew the component token when under 20 minutes remain, then
    /// reconcile stored authorizers with `api_get_authorizer_list`.
    pub async fn refresh(&self) -> Result<RefreshReport, ServiceError> {
        let before = self
            .store
            .load_component_token(&self.component)
            .await?
            .token;
        let token = self
            .tokens
            .component_token_within(REFRESHER_MARGIN.as_secs() as i64)
            .await?;
        let mut report = RefreshReport {
            component_token_refreshed: before.map(|b| b.token) != Some(token.token.clone()),
            component_token_expires_at: token.expires_at,
            authorizers_listed: 0,
            authorizers_added: 0,
            refresh_tokens_restored: 0,
        };
        let mut offset = 0u32;
        loop {
            let request = GetAuthorizerListRequest {
                component_appid: self.component.clone(),
                offset,
                count: GetAuthorizerListRequest::MAX_COUNT,
            };
            let page = self
                .tokens
                .with_component_token(|token| {
                    let request = &request;
                    async move { self.wechat.get_authorizer_list(&token, request).await }
                })
                .await?;
            for item in &page.list {
                match self
                    .store
                    .recover_refresh_token(
                        &self.component,
                        &item.authorizer_appid,
                        &item.refresh_token,
                        item.auth_time,
                        now_ms(),
                    )
                    .await?
                {
                    RecoverOutcome::Added => report.authorizers_added += 1,
                    RecoverOutcome::Restored => report.refresh_tokens_restored += 1,
                    RecoverOutcome::Unchanged => {}
                }
            }
            report.authorizers_listed += page.list.len() as u64;
            offset += page.list.len() as u32;
            if page.list.is_empty() || u64::from(offset) >= page.total_count {
                break;
            }
        }
        tracing::info!(?report, "refresher finished");
        Ok(report)
    }
}
