//! Rollouts: one code template shipped to many authorized Mini Programs (commit, audit within
//! the platform's quota, release, roll back). The contract's request, target states and events,
//! and what each of WeChat's refusals asks the platform to do.

use crate::ids::{AuthorizerAppid, ComponentAppid};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Where one target of a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Not committed yet.
    Pending,
    /// The template is the Mini Program's development version; waiting to be submitted.
    Committed,
    /// Submitted: WeChat is auditing it.
    InAudit,
    /// Approved, waiting for a release (`manual`).
    Approved,
    /// Released to part of the users (`gray`).
    Gray,
    /// Released to everyone.
    Released,
    /// WeChat's audit rejected it (`reason`).
    Rejected,
    /// A call failed for a reason the platform must fix (`errcode`, `reason` says what to do).
    Failed,
    /// The rollout was cancelled before it was submitted.
    Cancelled,
    /// Its release was reverted.
    RolledBack,
}

impl TargetState {
    /// Every state, in the contract's order.
    pub const ALL: [TargetState; 10] = [
        Self::Pending,
        Self::Committed,
        Self::InAudit,
        Self::Approved,
        Self::Gray,
        Self::Released,
        Self::Rejected,
        Self::Failed,
        Self::Cancelled,
        Self::RolledBack,
    ];

    /// The stored and published name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Committed => "committed",
            Self::InAudit => "in_audit",
            Self::Approved => "approved",
            Self::Gray => "gray",
            Self::Released => "released",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::RolledBack => "rolled_back",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the rollout has nothing more to do for the target (a release waiting for the
    /// platform's `release` is not done).
    pub fn is_end(self) -> bool {
        matches!(
            self,
            Self::Released | Self::Rejected | Self::Failed | Self::Cancelled | Self::RolledBack
        )
    }
}

impl std::fmt::Display for TargetState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How approved targets are released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseMode {
    /// Each approved target waits for `{"op": "release"}`.
    Manual,
    /// Released as soon as approved.
    Auto,
    /// Released to these percentages of users in turn (the last one, 100, a full release);
    /// each `{"op": "release"}` moves the gray targets one step on.
    Gray(Vec<u8>),
}

impl ReleaseMode {
    /// The mode with its steps checked: ascending percentages from 1 to 100, ending at 100.
    pub fn check(&self) -> Result<(), String> {
        let Self::Gray(steps) = self else {
            return Ok(());
        };
        let ascending = steps.windows(2).all(|w| w[0] < w[1]);
        if steps.is_empty() || !ascending || steps[0] == 0 || steps.last() != Some(&100) {
            return Err("gray steps must be ascending percentages from 1 to 100, ending at 100 (e.g. [10, 50, 100])".into());
        }
        Ok(())
    }
}

/// Which Mini Programs a rollout ships to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Targets {
    /// These AppIDs.
    List(Vec<String>),
    /// `"all"`: every stored, authorized Mini Program that granted code management (18).
    Named(String),
}

/// `{"op": "create", ...}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreateRollout {
    /// The template in the platform's library (`gettemplatelist`).
    pub template_id: Value,
    /// The version shown to users.
    pub user_version: String,
    /// Its description.
    pub user_desc: String,
    /// The Mini Programs' `ext.json`: `{{authorizer_appid}}` and `{{ext}}` in its strings are
    /// replaced per target.
    #[serde(default)]
    pub ext_json: Map<String, Value>,
    /// The targets.
    pub targets: Targets,
    /// The body of `submit_audit`.
    #[serde(default)]
    pub audit: Map<String, Value>,
    /// How approved targets are released.
    pub release: ReleaseMode,
    /// At most this many targets in audit at once.
    #[serde(default)]
    pub max_in_audit: Option<u32>,
}

/// `ext_json` for one target: every string's `{{authorizer_appid}}` and `{{ext}}` replaced.
pub fn render_ext_json(template: &Map<String, Value>, appid: &str, ext: &str) -> Value {
    fn render(value: &Value, appid: &str, ext: &str) -> Value {
        match value {
            Value::String(s) => Value::String(
                s.replace("{{authorizer_appid}}", appid)
                    .replace("{{ext}}", ext),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| render(v, appid, ext)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), render(v, appid, ext)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    render(&Value::Object(template.clone()), appid, ext)
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    /// Targets are still on their way.
    Running,
    /// Every target reached an end.
    Finished,
    /// Cancelled: nothing more is submitted.
    Cancelled,
}

impl RolloutState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Cancelled => "cancelled",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Running, Self::Finished, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// What the platform must do when WeChat refuses a code-management call with `errcode`, or
/// `None` when the refusal is not one that ends the target.
pub fn failure_hint(errcode: i64) -> Option<&'static str> {
    Some(match errcode {
        86002 => "the Mini Program has no name, avatar or description yet: set them, then start a new rollout for it",
        61040 => "the code uses privacy interfaces the Mini Program has not declared: declare them (setprivacysetting) and roll out again",
        85077 => "the Mini Program's categories do not fit the audit's item_list: fix the categories or the item_list",
        85013 => "ext_json is not valid for the template: fix it",
        85014 => "no such template in the platform's library: pick one from gettemplatelist",
        85009 => "another version of the Mini Program is in audit: wait for it or withdraw it (undocodeaudit), then roll out again",
        86000 => "the code was not committed by this platform",
        85086 => "nothing was committed to submit",
        61007 => "the Mini Program has not granted code management (permission set 18) to the platform",
        85019 | 85020 => "nothing approved and releasable: check the audit's state",
        87011 => "a gray release is under way: finish or revert it first",
        _ => return None,
    })
}

/// `detail-type` of one target's state change.
pub const ROLLOUT_TARGET_UPDATED: &str = "Rollout Target Updated";
/// `detail-type` of a rollout whose every target reached an end.
pub const ROLLOUT_FINISHED: &str = "Rollout Finished";

/// `detail` of `Rollout Target Updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetUpdatedDetail {
    /// Stable across redelivery: the rollout, the target and the change's sequence.
    pub id: String,
    /// The platform.
    pub component_appid: ComponentAppid,
    /// The rollout.
    pub rollout_id: String,
    /// The Mini Program.
    pub authorizer_appid: AuthorizerAppid,
    /// Its state now.
    pub state: TargetState,
    /// Its state before.
    pub previous: TargetState,
    /// The audit, once submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auditid: Option<i64>,
    /// WeChat's reason for a rejection, or what to do after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// WeChat's errcode, for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
}

/// `detail` of `Rollout Finished`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutFinishedDetail {
    /// Stable: the rollout's id and its end.
    pub id: String,
    /// The platform.
    pub component_appid: ComponentAppid,
    /// The rollout.
    pub rollout_id: String,
    /// Targets by state.
    pub counts: BTreeMap<TargetState, u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ext_json_is_rendered_per_target_at_any_depth() {
        let template = json!({"extAppid": "{{authorizer_appid}}", "ext": {"shop": "{{ext}}", "n": 1,
                              "list": ["a-{{ext}}"]}});
        let rendered = render_ext_json(template.as_object().unwrap(), "wxa1", "customer-7");
        assert_eq!(
            rendered,
            json!({"extAppid": "wxa1", "ext": {"shop": "customer-7", "n": 1, "list": ["a-customer-7"]}})
        );
    }

    #[test]
    fn a_create_reads_targets_release_modes_and_checks_gray_steps() {
        let create: CreateRollout =
            serde_json::from_value(json!({"template_id": 12, "user_version": "1.0.0",
            "user_desc": "d", "targets": "all", "release": {"gray": [10, 100]}}))
            .unwrap();
        assert_eq!(create.targets, Targets::Named("all".into()));
        assert_eq!(create.release, ReleaseMode::Gray(vec![10, 100]));
        assert!(create.release.check().is_ok());
        assert!(ReleaseMode::Gray(vec![50, 10, 100]).check().is_err());
        assert!(ReleaseMode::Gray(vec![10, 50]).check().is_err());
        let listed: CreateRollout =
            serde_json::from_value(json!({"template_id": "12", "user_version": "1",
            "user_desc": "d", "targets": ["wxa1"], "release": "manual"}))
            .unwrap();
        assert_eq!(listed.targets, Targets::List(vec!["wxa1".into()]));
        assert_eq!(listed.release, ReleaseMode::Manual);
    }

    #[test]
    fn states_round_trip_and_ends_are_named() {
        for state in TargetState::ALL {
            assert_eq!(TargetState::parse(state.as_str()), Some(state));
        }
        assert!(TargetState::Released.is_end() && !TargetState::Approved.is_end());
        assert!(failure_hint(86002).unwrap().contains("name, avatar"));
        assert_eq!(failure_hint(61039), None, "61039 waits, it does not fail");
    }
}
