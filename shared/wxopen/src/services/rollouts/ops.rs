//! The operations other functions invoke: `create`, `status`, `release`, `cancel`,
//! `rollback`. Each checks everything before it stores or sends anything.

use super::Rollouts;
use crate::services::ServiceError;
use crate::store::{StoredRollout, StoredTarget};
use crate::tokens::AuthorizerError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use wxopen_models::records::AuthorizerStatus;
use wxopen_models::rollouts::{CreateRollout, RolloutState, TargetState, Targets};
use wxopen_models::{AuthorizerAppid, PermissionId};

/// Code management (小程序开发管理): the permission set every target must have granted.
const CODE_MANAGEMENT: PermissionId = PermissionId(18);

/// Most targets one rollout takes.
pub const MAX_TARGETS: usize = 10_000;

/// `create`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateAnswer {
    /// The rollout.
    pub rollout_id: String,
    /// How many targets it has.
    pub targets: usize,
}

/// One target in `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetView {
    /// The Mini Program.
    pub authorizer_appid: AuthorizerAppid,
    /// Its state.
    pub state: TargetState,
    /// Its audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auditid: Option<i64>,
    /// WeChat's reason, or what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// WeChat's errcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// When it last changed, epoch seconds.
    pub updated_at: i64,
}

/// `status`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusAnswer {
    /// The rollout.
    pub rollout_id: String,
    /// `running`, `finished` or `cancelled`.
    pub state: RolloutState,
    /// Targets by state.
    pub counts: BTreeMap<TargetState, u32>,
    /// A page of targets.
    pub targets: Vec<TargetView>,
    /// Where the next page starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<AuthorizerAppid>,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ServiceError::invalid(
            "invalid_rollout",
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

impl Rollouts {
    /// Checks and stores a rollout, then sends each target to the queue.
    pub async fn create(&self, req: &CreateRollout) -> Result<CreateAnswer, ServiceError> {
        let template_id = match &req.template_id {
            serde_json::Value::Number(n) if n.is_u64() => n.to_string(),
            serde_json::Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => s.clone(),
            _ => {
                return Err(ServiceError::invalid(
                    "invalid_template_id",
                    "template_id must be the number of a template in the platform's library (gettemplatelist)",
                ))
            }
        };
        let user_version = text("user_version", &req.user_version, 64)?;
        let user_desc = text("user_desc", &req.user_desc, 1024)?;
        req.release
            .check()
            .map_err(|e| ServiceError::invalid("invalid_release", e))?;
        let max_in_audit = req
            .max_in_audit
            .unwrap_or(self.settings.default_max_in_audit);
        if !(1..=MAX_TARGETS as u32).contains(&max_in_audit) {
            return Err(ServiceError::invalid(
                "invalid_max_in_audit",
                format!("max_in_audit must be 1 to {MAX_TARGETS}"),
            ));
        }
        let targets = self.resolve_targets(&req.targets).await?;
        self.require_template(&template_id).await?;
        let now = self.now();
        let id = format!("ro-{}", hex::encode(rand::random::<[u8; 10]>()));
        let stored: Vec<StoredTarget> = targets
            .into_iter()
            .map(|(appid, ext)| StoredTarget {
                rollout_id: id.clone(),
                appid,
                ext,
                state: TargetState::Pending,
                call: None,
                auditid: None,
                reason: None,
                errcode: None,
                gray_step: None,
                due_at: now,
                updated_at: now,
                version: 1,
                outbox: Vec::new(),
            })
            .collect();
        let rollout = StoredRollout {
            id: id.clone(),
            template_id,
            user_version,
            user_desc,
            ext_json: serde_json::to_string(&req.ext_json).expect("serializes"),
            audit: serde_json::to_string(&req.audit).expect("serializes"),
            release: req.release.clone(),
            max_in_audit,
            state: RolloutState::Running,
            in_audit: 0,
            targets: stored.len() as u32,
            created_at: now,
        };
        self.store.create_rollout(&rollout, &stored).await?;
        tracing::info!(rollout = %id, targets = stored.len(), "rollout created");
        if let Err(e) = self.enqueue(&id, &stored, Duration::ZERO).await {
            // Stored: the sweep resumes every target that has not moved.
            tracing::warn!(rollout = %id, error = %e, "the queue refused the rollout's work: the sweep starts it");
        }
        Ok(CreateAnswer {
            rollout_id: id,
            targets: stored.len(),
        })
    }

    /// The targets named (each a stored, authorized Mini Program that granted code
    /// management), or all such; with each one's `ext`.
    async fn resolve_targets(
        &self,
        targets: &Targets,
    ) -> Result<Vec<(AuthorizerAppid, String)>, ServiceError> {
        let mut found = Vec::new();
        match targets {
            Targets::Named(all) if all == "all" => {
                let mut cursor = None;
                loop {
                    let page = self
                        .authorizers
                        .1
                        .list_authorizers(cursor.as_ref(), 1000)
                        .await?;
                    let Some(page) = page else { break };
                    for r in page.items {
                        if r.status == AuthorizerStatus::Authorized
                            && r.permission_ids.contains(&CODE_MANAGEMENT)
                        {
                            found.push((r.authorizer_appid, r.ext.unwrap_or_default()));
                        }
                    }
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
            Targets::Named(other) => {
                return Err(ServiceError::invalid(
                    "invalid_targets",
                    format!(
                        "targets must be a list of AppIDs or \"all\", not {:?}",
                        other.chars().take(40).collect::<String>()
                    ),
                ))
            }
            Targets::List(appids) => {
                let mut seen = std::collections::BTreeSet::new();
                for raw in appids {
                    let appid = AuthorizerAppid::parse(raw.trim()).map_err(|e| {
                        ServiceError::invalid(
                            "invalid_target",
                            format!("target {:?}: {e}", raw.chars().take(40).collect::<String>()),
                        )
                    })?;
                    if seen.insert(appid.clone()) {
                        found.push((appid.clone(), self.code_managed(&appid).await?));
                    }
                }
            }
        }
        if found.is_empty() || found.len() > MAX_TARGETS {
            return Err(ServiceError::invalid(
                "invalid_targets",
                format!("a rollout needs 1 to {MAX_TARGETS} targets: authorized Mini Programs that granted code management (permission set 18)"),
            ));
        }
        Ok(found)
    }

    /// `appid`'s `ext`, once it is known to be a stored, authorized Mini Program that granted
    /// code management; the error contract's refusal otherwise.
    async fn code_managed(&self, appid: &AuthorizerAppid) -> Result<String, ServiceError> {
        let stored = self.authorizers.0.load_authorizer(appid).await?;
        let record = stored
            .ok_or_else(|| AuthorizerError::Unknown(appid.clone()))?
            .record;
        match record.status {
            AuthorizerStatus::Revoked => return Err(AuthorizerError::Revoked(appid.clone()).into()),
            AuthorizerStatus::NeedsReauth => {
                return Err(AuthorizerError::NeedsReauth(appid.clone()).into())
            }
            _ => {}
        }
        if !record.permission_ids.contains(&CODE_MANAGEMENT) {
            return Err(ServiceError::invalid(
                "not_code_managed",
                format!("{appid} has not granted code management (permission set 18): it is an Official Account, or a Mini Program that must authorize the platform again with that set"),
            ));
        }
        Ok(record.ext.unwrap_or_default())
    }
}

/// What a rollout's template must be.
impl Rollouts {
    /// The template must be in the platform's library: a rollout of one that is not would fail
    /// every target at its commit (85014).
    async fn require_template(&self, template_id: &str) -> Result<(), ServiceError> {
        let list = match self.code.templates().await {
            super::Answer::Done(list) => list,
            super::Answer::Refused { errcode, errmsg } => {
                return Err(crate::wechat::WeChatError::Api {
                    endpoint: "gettemplatelist",
                    errcode,
                    errmsg,
                }
                .into())
            }
            super::Answer::NotSent { reason, .. } | super::Answer::Unknown(reason) => {
                return Err(crate::wechat::WeChatError::UnexpectedShape {
                    endpoint: "gettemplatelist",
                    reason,
                }
                .into())
            }
        };
        let templates = list["template_list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let known = templates.iter().any(|t| {
            t["template_id"]
                .as_u64()
                .map(|id| id.to_string())
                .as_deref()
                == Some(template_id)
        });
        if !known {
            return Err(ServiceError::invalid(
                "unknown_template",
                format!("template {template_id} is not in the platform's library: add a draft with component-api's addtotemplate, then pick one from gettemplatelist"),
            ));
        }
        Ok(())
    }
}
