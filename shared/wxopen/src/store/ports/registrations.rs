//! Registrations of Mini Programs for the platform's customers: stored before WeChat is called,
//! found again by the keys a push carries (task id, unique id, the hash of the names WeChat
//! echoes, the new account), ended once.

use super::StoreError;
use crate::clock::Timestamp;
use async_trait::async_trait;
use wxopen_models::registration::{RegistrationKind, RegistrationState};
use wxopen_models::AuthorizerAppid;

/// How a registration ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationEnd {
    /// The Mini Program exists and its authorization is stored.
    Registered(AuthorizerAppid),
    /// WeChat's status code and what it means.
    Failed {
        /// The push's `status`, or the errcode that refused the call.
        status: i64,
        /// In words.
        reason: String,
    },
}

/// A stored registration. No detail of the person or enterprise is kept: only the hashes of
/// what identifies it, as keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRegistration {
    /// Its id, as `component-api` answered it.
    pub id: String,
    /// The flow.
    pub kind: RegistrationKind,
    /// The platform's customer.
    pub ext: String,
    /// Its end, once it has one.
    pub end: Option<RegistrationEnd>,
    /// When it was stored.
    pub created_at: Timestamp,
    /// When WeChat's 24 hours run out.
    pub deadline: Timestamp,
    /// The URL the person opens, once WeChat answered with it.
    pub verification_url: Option<String>,
    /// The account a push named for it (a beta push names it before its authorization).
    pub appid: Option<AuthorizerAppid>,
}

impl StoredRegistration {
    /// Its state at `now`: an unfinished registration past its deadline has expired.
    pub fn state(&self, now: Timestamp) -> RegistrationState {
        match &self.end {
            Some(RegistrationEnd::Registered(_)) => RegistrationState::Registered,
            Some(RegistrationEnd::Failed { .. }) => RegistrationState::Failed,
            None if now >= self.deadline => RegistrationState::Expired,
            None => RegistrationState::Waiting,
        }
    }

    /// Whether it still holds its identity: no end, within its deadline.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.state(now) == RegistrationState::Waiting
    }
}

/// A registration to store before WeChat is called.
#[derive(Debug, Clone, Copy)]
pub struct NewRegistration<'a> {
    /// Its id (random).
    pub id: &'a str,
    /// The flow.
    pub kind: RegistrationKind,
    /// The platform's customer.
    pub ext: &'a str,
    /// The key of what it registers (a hash of the kind and the names WeChat echoes): at most
    /// one live registration holds it.
    pub identity: &'a str,
    /// Now.
    pub created_at: Timestamp,
    /// When WeChat's 24 hours run out.
    pub deadline: Timestamp,
    /// When the registration and its keys are deleted (the table's TTL).
    pub keep_until: Timestamp,
}

/// What [`RegistrationStore::start_registration`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// Stored: WeChat may be called.
    New,
    /// A live registration holds the same identity: it is the answer, and nothing is sent.
    Existing(StoredRegistration),
}

/// What became known of a registration after it was stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegistrationUpdate<'a> {
    /// More keys it is found by (a task id, a unique id, the new account).
    pub keys: &'a [String],
    /// The URL the person opens.
    pub verification_url: Option<&'a str>,
    /// The account a push named.
    pub appid: Option<&'a AuthorizerAppid>,
}

/// Registrations, bound to one component.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Stores `new` under its identity unless a live registration holds it (then that one is
    /// the answer); a registration that ended or expired gives its identity up.
    async fn start_registration(
        &self,
        new: &NewRegistration<'_>,
        now: Timestamp,
    ) -> Result<Started, StoreError>;

    /// Records what became known of registration `id`: its URL, its account, more keys (each
    /// kept as long as the registration).
    async fn update_registration(
        &self,
        id: &str,
        update: &RegistrationUpdate<'_>,
    ) -> Result<(), StoreError>;

    /// One registration (strongly consistent).
    async fn registration(&self, id: &str) -> Result<Option<StoredRegistration>, StoreError>;

    /// The registration the first of `keys` that names one leads to.
    async fn find_registration(
        &self,
        keys: &[String],
    ) -> Result<Option<StoredRegistration>, StoreError>;

    /// Ends registration `id` with `end` unless it already ended (its first end stays).
    /// Returns the registration as stored after; `None` when there is none.
    async fn end_registration(
        &self,
        id: &str,
        end: &RegistrationEnd,
        now: Timestamp,
    ) -> Result<Option<StoredRegistration>, StoreError>;
}
