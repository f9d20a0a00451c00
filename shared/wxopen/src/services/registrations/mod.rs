//! Registering Mini Programs for the platform's customers (WeChat's fast registration, its 2026
//! `new_version` flows). `component-api` starts one ([`Registrations::register`]): the
//! registration is stored with its `ext` before WeChat is called, so the push that completes it
//! ([`completion`]) binds the new account to the customer whichever of its pushes comes first.
//! WeChat is called once per registration: a second request for the same names while one
//! waits is answered with the stored one.

pub mod completion;
pub mod keys;

use super::ServiceError;
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::state::MAX_EXT_LEN;
use crate::store::{
    NewRegistration, RegistrationEnd, RegistrationStore, RegistrationUpdate, Started,
    StoredRegistration,
};
use crate::tokens::ComponentApi;
use crate::wechat::WeChatError;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use wxopen_models::calls::{ApiCall, Method};
use wxopen_models::envelope::{parse_response, ResponseError};
use wxopen_models::registration::{
    RegistrationAnswer, RegistrationDetails, RegistrationKind, RegistrationState,
};
use wxopen_models::AuthorizerAppid;

pub use completion::Completions;

/// How long the person has to open the URL and finish (WeChat's 24 hours).
pub const REGISTRATION_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// How long a registration can be asked about after it started.
pub const REGISTRATION_KEPT: Duration = Duration::from_secs(30 * 24 * 3600);

/// A registration as `component-api` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationView {
    /// Its id.
    pub registration_id: String,
    /// The flow.
    pub kind: RegistrationKind,
    /// The platform's customer.
    pub ext: String,
    /// `waiting`, `registered`, `failed` or `expired`.
    pub state: RegistrationState,
    /// The URL the person opens within the 24 hours, once WeChat gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_url: Option<String>,
    /// When the 24 hours run out, epoch seconds.
    pub expires_at: i64,
    /// The new Mini Program, once registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_appid: Option<AuthorizerAppid>,
    /// WeChat's status code, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// What the status means, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RegistrationView {
    /// The view of `stored` at `now`.
    pub fn of(stored: &StoredRegistration, now: Timestamp) -> Self {
        let (status, reason) = match &stored.end {
            Some(RegistrationEnd::Failed { status, reason }) => {
                (Some(*status), Some(reason.clone()))
            }
            _ => (None, None),
        };
        let authorizer_appid = match &stored.end {
            Some(RegistrationEnd::Registered(appid)) => Some(appid.clone()),
            _ => None,
        };
        Self {
            registration_id: stored.id.clone(),
            kind: stored.kind,
            ext: stored.ext.clone(),
            state: stored.state(now),
            verification_url: stored.verification_url.clone(),
            expires_at: stored.deadline.secs(),
            authorizer_appid,
            status,
            reason,
        }
    }
}

/// The registration part of `component-api`.
#[derive(Clone)]
pub struct Registrations {
    api: ComponentApi,
    store: Arc<dyn RegistrationStore>,
    clock: Arc<dyn Clock>,
}

/// WeChat's call for `details`: path, query and body, and where the component token goes.
fn creation_call(details: &RegistrationDetails) -> (ApiCall, &'static str) {
    let (path, mut body, token_param) = match details {
        RegistrationDetails::Beta { name, openid } => (
            "/wxa/component/fastregisterbetaweapp",
            json!({"name": name.trim(), "openid": openid.trim()}),
            // The beta call takes the component token as `access_token`.
            "access_token",
        ),
        RegistrationDetails::Enterprise { .. } => (
            "/wxa/component/fastregisterenterpriseweapp",
            serde_json::to_value(details).expect("serializes"),
            "component_access_token",
        ),
        RegistrationDetails::Personal { .. } => (
            "/wxa/component/fastregisterpersonalweapp",
            serde_json::to_value(details).expect("serializes"),
            "component_access_token",
        ),
    };
    let mut query = Map::new();
    if let Value::Object(fields) = &mut body {
        fields.remove("kind");
        if !matches!(details, RegistrationDetails::Beta { .. }) {
            // Since 2026-04-30 only the new-version flow registers (protocol notes, "Fast
            // registration"): WeChat answers with the URL the platform hands to the person.
            fields.insert("new_version".into(), Value::Bool(true));
            query.insert("action".into(), "create".into());
        }
    }
    let call = ApiCall {
        path: path.to_owned(),
        method: Method::Post,
        query,
        body: Some(body),
        // A registration spends the enterprise's or person's account quota: never replayed.
        retry: false,
    };
    (call, token_param)
}

/// Whether WeChat surely made nothing of the call: it refused it (an errcode), or it was never
/// delivered. Anything else (a timeout, a lost answer) may have registered.
fn surely_not_registered(e: &WeChatError) -> bool {
    e.errcode().is_some() || matches!(e, WeChatError::Connect { .. })
}

impl Registrations {
    /// Registrations made through `api`, stored in `store`.
    pub fn new(api: ComponentApi, store: Arc<dyn RegistrationStore>) -> Self {
        Self {
            api,
            store,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same, reading time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Registers a Mini Program for the customer `ext`: checked, stored, then sent to WeChat
    /// once. A registration for the same names that still waits is the answer instead.
    pub async fn register(
        &self,
        ext: &str,
        details: &RegistrationDetails,
    ) -> Result<RegistrationView, ServiceError> {
        let ext = ext.trim();
        if ext.is_empty() || ext.len() > MAX_EXT_LEN {
            return Err(ServiceError::invalid(
                "invalid_ext",
                format!("ext must be 1 to {MAX_EXT_LEN} bytes: the platform's own id of the customer the Mini Program is registered for"),
            ));
        }
        details
            .check()
            .map_err(|e| ServiceError::invalid("invalid_registration", e.to_string()))?;
        let now = self.clock.now();
        let id = format!("reg-{}", hex::encode(rand::random::<[u8; 12]>()));
        let identity = keys::identity(details);
        let new = NewRegistration {
            id: &id,
            kind: details.kind(),
            ext,
            identity: &identity,
            created_at: now,
            deadline: now.plus(REGISTRATION_WINDOW),
            keep_until: now.plus(REGISTRATION_KEPT),
        };
        if let Started::Existing(live) = self.store.start_registration(&new, now).await? {
            return self.answer_existing(&live, now);
        }
        tracing::info!(registration = %id, kind = %details.kind(), "registration stored; calling WeChat");
        let answer = match self.create(details).await {
            Ok(answer) => answer,
            Err(ServiceError::WeChat(e)) if surely_not_registered(&e) => {
                let end = RegistrationEnd::Failed {
                    status: e.errcode().unwrap_or(-1),
                    reason: format!("WeChat did not register it: {e}"),
                };
                self.store.end_registration(&id, &end, now).await?;
                tracing::warn!(registration = %id, error = %e, "registration refused");
                return Err(e.into());
            }
            Err(e) => {
                tracing::warn!(registration = %id, error = %e, "registration's answer lost: it stays waiting for WeChat's push");
                return Err(e);
            }
        };
        let mut found_by = keys::echoed(details);
        found_by.extend(answer.taskid.as_deref().map(keys::task));
        found_by.extend(answer.unique_id.as_deref().map(keys::unique));
        let update = RegistrationUpdate {
            keys: &found_by,
            verification_url: answer.url(),
            appid: None,
        };
        self.store.update_registration(&id, &update).await?;
        let stored = self.store.registration(&id).await?.ok_or_else(|| {
            ServiceError::Store(crate::store::StoreError::Corrupt {
                key: id.clone(),
                reason: "the registration vanished after it was stored".into(),
            })
        })?;
        Ok(RegistrationView::of(&stored, now))
    }

    /// A live registration for the same names: its answer, unless WeChat's answer to it was
    /// lost (then nothing can be said but that it waits).
    fn answer_existing(
        &self,
        live: &StoredRegistration,
        now: Timestamp,
    ) -> Result<RegistrationView, ServiceError> {
        if live.verification_url.is_none() {
            return Err(ServiceError::Conflict {
                code: "registration_unconfirmed",
                message: format!(
                    "registration {} for these details was sent and WeChat's answer was lost: it completes by WeChat's push if WeChat took it; ask for it with {{\"op\": \"registration\"}}, or register again after it expires at {}",
                    live.id,
                    live.deadline.secs()
                ),
            });
        }
        tracing::info!(registration = %live.id, "a registration for the same details waits: answered with it, nothing sent");
        Ok(RegistrationView::of(live, now))
    }

    async fn create(
        &self,
        details: &RegistrationDetails,
    ) -> Result<RegistrationAnswer, ServiceError> {
        let (call, token_param) = creation_call(details);
        let checked = call
            .check()
            .expect("the registration calls are well formed");
        let endpoint = match details.kind() {
            RegistrationKind::Enterprise => "fastregisterenterpriseweapp",
            RegistrationKind::Personal => "fastregisterpersonalweapp",
            RegistrationKind::Beta => "fastregisterbetaweapp",
        };
        let resp = self
            .api
            .call_with_component_token(&checked, token_param)
            .await?;
        let answer = parse_response::<RegistrationAnswer>(&resp.body).map_err(|e| {
            ServiceError::WeChat(match e {
                ResponseError::WeChat(body) => WeChatError::from_body(endpoint, body, 1),
                ResponseError::NotJson { snippet } => WeChatError::NotJson { endpoint, snippet },
                ResponseError::UnexpectedShape { reason } => {
                    WeChatError::UnexpectedShape { endpoint, reason }
                }
            })
        })?;
        if answer.url().is_none() || (answer.taskid.is_none() && answer.unique_id.is_none()) {
            return Err(WeChatError::UnexpectedShape {
                endpoint,
                reason: "no task id or unique id with a URL for the person".into(),
            }
            .into());
        }
        Ok(answer)
    }

    /// Where registration `id` stands.
    pub async fn registration(&self, id: &str) -> Result<RegistrationView, ServiceError> {
        let stored = self.store.registration(id.trim()).await?.ok_or_else(|| {
            ServiceError::NotFound {
                code: "unknown_registration",
                message: format!(
                    "no registration {:?}: pass the registration_id register_mini_program answered (registrations are kept 30 days)",
                    id.chars().take(64).collect::<String>()
                ),
            }
        })?;
        Ok(RegistrationView::of(&stored, self.clock.now()))
    }
}
