//! The service's metrics, recorded through the `metrics` facade. Every name, unit and label is
//! here, so that the template's alarms and dashboard, the README and the code agree on them.
//!
//! The edge installs the recorder (`wxopen_lambda::telemetry`: CloudWatch's embedded metric
//! format, one JSON line per label set on stdout after each invocation, dimensioned by
//! `Function`); without a recorder (tests of the core) recording costs nothing.

use crate::store::TokenKey;
use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};
use std::time::Duration;

/// Token renewals, labelled `Kind` (`component` or `authorizer`) and `Outcome` (`refreshed`
/// or `failed`).
pub const TOKEN_REFRESHES: &str = "TokenRefreshes";
/// Error answers from WeChat (a non-zero `errcode`, once per attempt), labelled `ErrCode`.
pub const WECHAT_ERRORS: &str = "WeChatErrors";
/// Seconds since the stored ticket's push was created (its `CreateTime`), when read to renew
/// the component token or by the refresher's check; with no ticket stored, seconds since the
/// platform first asked WeChat to push one.
pub const TICKET_AGE: &str = "TicketAge";
/// Times a ticket was needed and none was stored.
pub const TICKET_MISSING: &str = "TicketMissing";
/// Reconcile runs, labelled `Outcome` (`complete`, `paused`, `skipped` or `failed`).
pub const RECONCILE_RUNS: &str = "ReconcileRuns";
/// Authorizers WeChat listed to a reconcile run.
pub const RECONCILE_LISTED: &str = "ReconcileListed";
/// Missing authorizers a reconcile run added.
pub const RECONCILE_ADDED: &str = "ReconcileAdded";
/// Refresh tokens a reconcile run restored or replaced.
pub const RECONCILE_RESTORED: &str = "ReconcileRestored";
/// Authorizers that became `needs_reauth` (WeChat refused their refresh token).
pub const NEEDS_REAUTH: &str = "NeedsReauthTransitions";
/// Milliseconds a request waited for another instance's refresh lease, labelled `Kind`.
pub const LEASE_WAIT: &str = "RefreshLeaseWait";
/// Refused tokens not renewed because one renewal per key per minute had been made, labelled
/// `Kind`: the refusal went back to the caller as WeChat's answer.
pub const REFUSALS_NOT_RENEWED: &str = "RefusalsNotRenewed";
/// Times the KMS key sealing tokens could not be used (a 503 `key_unavailable`).
pub const KEY_UNAVAILABLE: &str = "KeyUnavailable";
/// Tokens read in plaintext, written before sealing: zero once the table is migrated.
pub const PLAINTEXT_TOKENS_READ: &str = "PlaintextTokensRead";
/// Calls moved to another WeChat access point because the one in use failed.
pub const WECHAT_FAILOVERS: &str = "WeChatFailovers";
/// Rollout targets entering a state, labelled `State`.
pub const ROLLOUT_TARGETS: &str = "RolloutTargets";
/// `submit_audit` calls sent (each spends the platform's audit quota).
pub const AUDIT_SUBMISSIONS: &str = "AuditSubmissions";
/// The platform's audit quota left (`queryquota`'s `rest`), when last asked.
pub const AUDIT_QUOTA_LEFT: &str = "AuditQuotaLeft";
/// Audits whose result was overdue and asked for by polling.
pub const AUDITS_OVERDUE: &str = "AuditsOverdue";

/// The `Kind` label of a token's metrics: `component` or `authorizer` (never the AppID).
fn kind(key: &TokenKey) -> &'static str {
    match key {
        TokenKey::Component => "component",
        TokenKey::Authorizer(_) => "authorizer",
    }
}

/// Gives every metric its unit (once per container, before the first is recorded).
pub fn describe() {
    describe_counter!(TOKEN_REFRESHES, Unit::Count, "token renewals");
    describe_counter!(
        WECHAT_ERRORS,
        Unit::Count,
        "WeChat error answers by errcode"
    );
    describe_histogram!(
        TICKET_AGE,
        Unit::Seconds,
        "age of the verify ticket when read"
    );
    describe_counter!(TICKET_MISSING, Unit::Count, "ticket needed and none stored");
    describe_counter!(RECONCILE_RUNS, Unit::Count, "reconcile runs by outcome");
    describe_counter!(RECONCILE_LISTED, Unit::Count, "authorizers listed");
    describe_counter!(RECONCILE_ADDED, Unit::Count, "authorizers added");
    describe_counter!(RECONCILE_RESTORED, Unit::Count, "refresh tokens restored");
    describe_counter!(
        NEEDS_REAUTH,
        Unit::Count,
        "authorizers that need reauthorization"
    );
    describe_histogram!(LEASE_WAIT, Unit::Milliseconds, "wait for a refresh lease");
    describe_counter!(
        REFUSALS_NOT_RENEWED,
        Unit::Count,
        "refused tokens answered without a renewal"
    );
    describe_counter!(KEY_UNAVAILABLE, Unit::Count, "KMS key unusable");
    describe_counter!(PLAINTEXT_TOKENS_READ, Unit::Count, "tokens read unsealed");
    describe_counter!(
        ROLLOUT_TARGETS,
        Unit::Count,
        "rollout targets by state entered"
    );
    describe_counter!(AUDIT_SUBMISSIONS, Unit::Count, "submit_audit calls sent");
    describe_histogram!(AUDIT_QUOTA_LEFT, Unit::Count, "audit quota left");
    describe_counter!(AUDITS_OVERDUE, Unit::Count, "overdue audits polled");
}

/// A token renewal ended.
pub fn token_refresh(key: &TokenKey, refreshed: bool) {
    let outcome = if refreshed { "refreshed" } else { "failed" };
    counter!(TOKEN_REFRESHES, "Kind" => kind(key), "Outcome" => outcome).increment(1);
}

/// WeChat answered `errcode`.
pub fn wechat_error(errcode: i64) {
    counter!(WECHAT_ERRORS, "ErrCode" => errcode.to_string()).increment(1);
}

/// The ticket read was `age` old (or, with none stored, the wait for one has lasted `age`).
pub fn ticket_age(age: Duration) {
    histogram!(TICKET_AGE).record(age.as_secs_f64().floor());
}

/// A ticket was needed and none was stored.
pub fn ticket_missing() {
    counter!(TICKET_MISSING).increment(1);
}

/// A reconcile run ended with `outcome` (`complete`, `paused`, `skipped` or `failed`), having
/// listed, added and restored so many.
pub fn reconcile_run(outcome: &'static str, listed: u64, added: u64, restored: u64) {
    counter!(RECONCILE_RUNS, "Outcome" => outcome).increment(1);
    counter!(RECONCILE_LISTED).increment(listed);
    counter!(RECONCILE_ADDED).increment(added);
    counter!(RECONCILE_RESTORED).increment(restored);
}

/// An authorizer became `needs_reauth`.
pub fn needs_reauth() {
    counter!(NEEDS_REAUTH).increment(1);
}

/// A request waited `waited` for another instance's refresh of `key`.
pub fn lease_wait(key: &TokenKey, waited: Duration) {
    histogram!(LEASE_WAIT, "Kind" => kind(key)).record(waited.as_secs_f64() * 1000.0);
}

/// WeChat refused `key`'s token past the bound on renewals.
pub fn refusal_not_renewed(key: &TokenKey) {
    counter!(REFUSALS_NOT_RENEWED, "Kind" => kind(key)).increment(1);
}

/// The KMS key sealing tokens could not be used.
pub fn key_unavailable() {
    counter!(KEY_UNAVAILABLE).increment(1);
}

/// A token written before sealing was read.
pub fn plaintext_token_read() {
    counter!(PLAINTEXT_TOKENS_READ).increment(1);
}

/// A rollout target entered `state`.
pub fn rollout_target(state: &'static str) {
    counter!(ROLLOUT_TARGETS, "State" => state).increment(1);
}

/// A `submit_audit` was sent.
pub fn audit_submitted() {
    counter!(AUDIT_SUBMISSIONS).increment(1);
}

/// `queryquota` left `rest` submissions.
pub fn audit_quota_left(rest: i64) {
    histogram!(AUDIT_QUOTA_LEFT).record(rest.max(0) as f64);
}

/// An overdue audit was polled.
pub fn audit_overdue() {
    counter!(AUDITS_OVERDUE).increment(1);
}

/// A call moved to another WeChat access point.
pub fn wechat_failover() {
    counter!(WECHAT_FAILOVERS).increment(1);
}
