//! The behaviour every store adapter must have, written once and run against each: the
//! DynamoDB adapter (against a real DynamoDB server, in the integration tests) and the memory
//! adapter (in the core's unit tests). [`crate::store_behaviour_suite!`] makes one test per
//! behaviour for an adapter.

mod authorizers;
mod once;
mod registrations;
mod rollouts;
mod tokens;

pub use authorizers::*;
pub use once::*;
pub use registrations::*;
pub use rollouts::*;
pub use tokens::*;

use crate::clock::Timestamp;
use crate::store::*;
use wxopen_models::records::HistoryKind;
use wxopen_models::{AccessToken, AuthorizerAppid, ComponentAppid, PermissionId, RefreshToken};

/// Every capability, as the suite uses an adapter (test code only: production code names the
/// narrow ports it needs).
pub trait Store:
    TicketStore
    + TokenStore
    + AuthorizerStore
    + AuthorizerListing
    + HistoryReader
    + ReconcileStore
    + OnceStore
    + RegistrationStore
    + RolloutStore
{
}

impl Store for MemoryStore {}

impl Store for DynamoStore {}

/// An adapter under test: a fresh, empty store bound to [`component`], and the same data
/// bound to another component.
pub trait Fixture: Store + Sized {
    /// The same data, bound to `component`.
    fn scoped_to(&self, component: ComponentAppid) -> Self;
}

impl Fixture for MemoryStore {
    fn scoped_to(&self, component: ComponentAppid) -> Self {
        self.for_component(component)
    }
}

impl Fixture for DynamoStore {
    fn scoped_to(&self, component: ComponentAppid) -> Self {
        self.for_component(component)
    }
}

/// The component every behaviour's store is bound to.
pub fn component() -> ComponentAppid {
    ComponentAppid::parse("wx_component_a").unwrap()
}

fn appid(s: &str) -> AuthorizerAppid {
    AuthorizerAppid::parse(s).unwrap()
}

fn secs(s: i64) -> Timestamp {
    Timestamp::from_secs(s)
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn far() -> Timestamp {
    Timestamp::from_secs(4_000_000_000)
}

fn auth(app: &str, refresh: Option<&str>, perms: &[u32]) -> NewAuthorization {
    NewAuthorization {
        authorizer_appid: appid(app),
        refresh_token: refresh.map(RefreshToken::new),
        access: Some(CachedToken {
            token: AccessToken::new(format!("access-of-{app}")),
            expires_at: far(),
        }),
        permission_ids: perms.iter().copied().map(PermissionId).collect(),
        code_hash: None,
        ext: None,
    }
}

fn lease(owner: &str, until: Timestamp) -> Lease {
    Lease {
        owner: owner.into(),
        until,
    }
}

fn token(value: &str) -> CachedToken {
    CachedToken {
        token: AccessToken::new(value),
        expires_at: far(),
    }
}

fn write<'a>(owner: &'a str, token: &'a CachedToken) -> TokenWrite<'a> {
    TokenWrite {
        owner,
        token,
        authorizer: None,
        now: now(),
    }
}

fn authorizer_write<'a>(
    owner: &'a str,
    token: &'a CachedToken,
    version: u64,
    replaced: Option<&'a RefreshToken>,
) -> TokenWrite<'a> {
    TokenWrite {
        authorizer: Some(AuthorizerTokenWrite {
            expected_version: version,
            replaced_refresh_token: replaced,
            permission_ids: &[],
        }),
        ..write(owner, token)
    }
}

async fn kinds(s: &impl Store, app: &AuthorizerAppid) -> Vec<HistoryKind> {
    s.history(app)
        .await
        .unwrap()
        .iter()
        .map(|h| h.kind)
        .collect()
}

async fn component_token(s: &impl Store) -> Option<CachedToken> {
    s.load_slot(&TokenKey::Component)
        .await
        .unwrap()
        .unwrap()
        .token
}

/// One `#[tokio::test]` per behaviour for an adapter. `$make` is a future (an `async` block)
/// giving a fresh, empty store bound to [`component`].
#[macro_export]
macro_rules! store_behaviour_suite {
    ($make:expr) => {
        $crate::store_behaviour_suite!(@tests $make;
            a_newer_ticket_replaces_an_older_one_and_an_older_or_replayed_one_is_ignored,
            items_of_one_component_are_invisible_to_another,
            component_token_lease_admits_one_holder_and_only_the_holder_writes,
            a_lapsed_lease_can_be_taken_over_and_a_released_one_at_once,
            a_token_is_dropped_only_while_it_is_still_the_stored_one,
            authorization_update_and_revoke_keep_the_record_and_its_history,
            an_exchange_without_refresh_token_needs_reauthorization,
            the_exchanged_code_is_recorded_with_the_authorization,
            authorizers_list_in_pages_with_a_cursor,
            a_stale_token_writer_loses,
            the_lease_is_refused_for_revoked_or_unknown_authorizers,
            needs_reauth_is_marked_only_for_the_refresh_token_that_failed,
            refresh_tokens_are_recovered_only_where_they_differ,
            the_reconcile_lease_admits_one_run_and_the_scan_reads_every_authorizer,
            an_older_info_snapshot_never_replaces_a_newer_one,
            one_ticket_request_is_claimed_per_interval,
            the_binding_is_stored_with_the_record_and_its_history,
            a_use_is_first_once_until_its_record_expires,
            a_registration_holds_its_identity_only_while_it_waits,
            a_registration_is_found_by_its_keys_and_ends_once,
            an_authorizer_is_bound_to_its_ext_once,
            a_rollout_target_is_written_only_by_the_writer_of_its_next_version,
            a_rollout_holds_at_most_its_audit_slots_and_ends_once,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::store::behaviour::$name($make.await).await;
            }
        )*
    };
}
