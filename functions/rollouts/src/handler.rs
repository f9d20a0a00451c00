//! One invocation, by its shape:
//! - `{"op": "create" | "status" | "release" | "cancel" | "rollback", ...}` (direct invocation,
//!   the contract's operations);
//! - `{"Records": [...]}` from the rollout queue (SQS): each message advances one target; the
//!   answer names the messages to deliver again (`batchItemFailures`);
//! - `{"source": "wxopen", "detail-type": "Authorizer Message", "detail": {"event":
//!   "weapp_audit_success" | "weapp_audit_fail" | "weapp_audit_delay", ...}}` from the bus: an
//!   audit result;
//! - `{"job": "sweep"}` from the schedule: overdue audits polled, stopped targets resumed,
//!   rollouts finished.

use serde::Deserialize;
use serde_json::{json, Value};
use wxopen::queue::Work;
use wxopen::services::{AuditResult, Rollouts};
use wxopen_lambda::ApiError;
use wxopen_models::rollouts::CreateRollout;
use wxopen_models::AuthorizerAppid;

#[derive(Deserialize)]
struct Params {
    rollout_id: Option<String>,
    cursor: Option<String>,
    appids: Option<Vec<String>>,
}

fn rollout_id(p: &Params) -> Result<String, ApiError> {
    p.rollout_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing_rollout_id",
                "this operation needs \"rollout_id\": the id create answered",
            )
        })
}

fn appids(p: &Params) -> Result<Option<Vec<AuthorizerAppid>>, ApiError> {
    p.appids
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|a| {
                    AuthorizerAppid::parse(a.trim())
                        .map_err(|e| ApiError::bad_request("invalid_appid", format!("appids: {e}")))
                })
                .collect()
        })
        .transpose()
}

async fn op(rollouts: &Rollouts, name: &str, payload: Value) -> Result<Value, ApiError> {
    let p: Params = serde_json::from_value(payload.clone()).map_err(|e| {
        ApiError::bad_request("invalid_payload", format!("the payload does not read: {e}"))
    })?;
    Ok(match name {
        "create" => {
            let req: CreateRollout = serde_json::from_value(payload).map_err(|e| {
                ApiError::bad_request("invalid_rollout", format!("create: {e} (template_id, user_version, user_desc, targets and release are required)"))
            })?;
            json!(rollouts.create(&req).await?)
        }
        "status" => {
            let cursor = p
                .cursor
                .as_deref()
                .map(AuthorizerAppid::parse)
                .transpose()
                .map_err(|e| ApiError::bad_request("invalid_cursor", e.to_string()))?;
            json!(rollouts.status(&rollout_id(&p)?, cursor.as_ref()).await?)
        }
        "release" => {
            let id = rollout_id(&p)?;
            let moved = rollouts.release(&id, appids(&p)?.as_deref()).await?;
            json!({"rollout_id": id, "targets": moved})
        }
        "rollback" => {
            let id = rollout_id(&p)?;
            let moved = rollouts.rollback(&id, appids(&p)?.as_deref()).await?;
            json!({"rollout_id": id, "targets": moved})
        }
        "cancel" => {
            let id = rollout_id(&p)?;
            let cancelled = rollouts.cancel(&id).await?;
            json!({"rollout_id": id, "state": "cancelled", "cancelled": cancelled})
        }
        other => {
            return Err(ApiError::bad_request(
                "invalid_op",
                format!(
                    "op {:?} is not one of create, status, release, cancel, rollback",
                    other.chars().take(40).collect::<String>()
                ),
            ))
        }
    })
}

/// A batch from the rollout queue: each message advanced; those that failed named for SQS to
/// deliver again (a message that does not read is named too, so it reaches the dead-letter
/// queue instead of vanishing).
async fn work(rollouts: &Rollouts, records: &[Value]) -> Value {
    let mut failures = Vec::new();
    for record in records {
        let id = record["messageId"].as_str().unwrap_or_default().to_owned();
        let body = record["body"].as_str().unwrap_or_default();
        let result = match serde_json::from_str::<Work>(body) {
            Ok(work) => rollouts.advance(&work).await.map_err(|e| e.to_string()),
            Err(e) => Err(format!("a message that is not rollout work: {e}")),
        };
        if let Err(e) = result {
            tracing::warn!(message = %id, error = %e, "rollout work failed: delivered again");
            failures.push(json!({"itemIdentifier": id}));
        }
    }
    json!({"batchItemFailures": failures})
}

/// An `Authorizer Message` from the bus: an audit result when it is one.
async fn audit_event(rollouts: &Rollouts, detail: &Value) -> Result<Value, ApiError> {
    let event = detail["event"].as_str().unwrap_or_default();
    let reason = detail["message"]["Reason"].as_str();
    let Some(result) = AuditResult::of_event(event, reason) else {
        return Ok(json!({"ignored": event}));
    };
    let appid = AuthorizerAppid::parse(detail["authorizer_appid"].as_str().unwrap_or_default())
        .map_err(|e| ApiError::bad_request("invalid_event", e.to_string()))?;
    rollouts.audit_result(&appid, result).await?;
    Ok(json!({"applied": event}))
}

/// Handles one invocation.
pub async fn handle(rollouts: &Rollouts, payload: Value) -> Result<Value, ApiError> {
    if let Some(name) = payload["op"].as_str().map(str::to_owned) {
        return op(rollouts, &name, payload).await;
    }
    if let Some(records) = payload["Records"].as_array() {
        return Ok(work(rollouts, records).await);
    }
    if payload["source"] == "wxopen" && payload["detail-type"] == "Authorizer Message" {
        return audit_event(rollouts, &payload["detail"]).await;
    }
    if payload["job"] == "sweep" {
        return Ok(json!(rollouts.sweep().await?));
    }
    Err(ApiError::bad_request(
        "invalid_invocation",
        "rollouts takes {\"op\": ...}, a batch of its queue, an Authorizer Message from the bus, or {\"job\": \"sweep\"}",
    ))
}

#[cfg(test)]
mod tests;
