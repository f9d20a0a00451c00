//! Rollouts on DynamoDB: the rollout (`rollout#<id>`, with its audit-slot counter), one item per
//! target (`rtarget#<id>#<appid>`, written whole, conditional on its version), and the rollout
//! each account's audit belongs to (`rollout_audit#<appid>`).

use super::expr::{n, s, Item};
use super::{unavailable, Attrs, DynamoStore};
use crate::clock::Timestamp;
use crate::store::{Call, RolloutStore, StoreError, StoredRollout, StoredTarget};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;
use wxopen_models::rollouts::{ReleaseMode, RolloutState, TargetState};
use wxopen_models::AuthorizerAppid;

fn rollout_sk(id: &str) -> String {
    format!("rollout#{id}")
}

fn target_prefix(id: &str) -> String {
    format!("rtarget#{id}#")
}

fn target_sk(id: &str, appid: &AuthorizerAppid) -> String {
    format!("{}{appid}", target_prefix(id))
}

fn audit_sk(appid: &AuthorizerAppid) -> String {
    format!("rollout_audit#{appid}")
}

fn parse_rollout(map: &Attrs) -> Result<StoredRollout, StoreError> {
    let item = Item {
        key: "rollout",
        map,
    };
    let release: ReleaseMode = serde_json::from_str(&item.req_s("release")?)
        .map_err(|e| item.corrupt(format!("release: {e}")))?;
    let state_text = item.req_s("state")?;
    Ok(StoredRollout {
        id: item.req_s("rollout_id")?,
        template_id: item.req_s("template_id")?,
        user_version: item.req_s("user_version")?,
        user_desc: item.req_s("user_desc")?,
        ext_json: item.req_s("ext_json")?,
        audit: item.req_s("audit")?,
        release,
        max_in_audit: item.req_i64("max_in_audit")? as u32,
        state: RolloutState::parse(&state_text)
            .ok_or_else(|| item.corrupt(format!("unknown state {state_text:?}")))?,
        in_audit: item.opt_i64("in_audit")?.unwrap_or(0).max(0) as u32,
        targets: item.req_i64("targets")? as u32,
        created_at: Timestamp::from_secs(item.req_i64("created_at")?),
    })
}

fn parse_target(map: &Attrs) -> Result<StoredTarget, StoreError> {
    let item = Item {
        key: "rollout target",
        map,
    };
    let state_text = item.req_s("state")?;
    let call = match (item.opt_s("call")?, item.opt_i64("call_at")?) {
        (Some(name), Some(at)) => Some((
            Call::parse(&name).ok_or_else(|| item.corrupt(format!("unknown call {name:?}")))?,
            Timestamp::from_millis(at),
        )),
        _ => None,
    };
    let outbox = match map.get("outbox") {
        Some(AttributeValue::L(items)) => items
            .iter()
            .map(|v| {
                v.as_s()
                    .cloned()
                    .map_err(|_| item.corrupt("outbox holds a non-string"))
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    Ok(StoredTarget {
        rollout_id: item.req_s("rollout_id")?,
        appid: AuthorizerAppid::parse(item.req_s("appid")?)
            .map_err(|e| item.corrupt(e.to_string()))?,
        ext: item.opt_s("ext")?.unwrap_or_default(),
        state: TargetState::parse(&state_text)
            .ok_or_else(|| item.corrupt(format!("unknown state {state_text:?}")))?,
        call,
        auditid: item.opt_i64("auditid")?,
        reason: item.opt_s("reason")?,
        errcode: item.opt_i64("errcode")?,
        gray_step: item.opt_i64("gray_step")?.map(|g| g as u8),
        due_at: Timestamp::from_millis(item.req_i64("due_at")?),
        updated_at: Timestamp::from_millis(item.req_i64("updated_at")?),
        version: item.req_i64("version")? as u64,
        outbox,
    })
}

impl DynamoStore {
    fn target_item(&self, t: &StoredTarget) -> Attrs {
        let mut item = self.item_key(target_sk(&t.rollout_id, &t.appid));
        item.insert("rollout_id".into(), s(&t.rollout_id));
        item.insert("appid".into(), s(t.appid.as_str()));
        item.insert("ext".into(), s(&t.ext));
        item.insert("state".into(), s(t.state.as_str()));
        if let Some((call, at)) = t.call {
            item.insert("call".into(), s(call.as_str()));
            item.insert("call_at".into(), n(at.millis()));
        }
        let optional = [
            ("auditid", t.auditid),
            ("errcode", t.errcode),
            ("gray_step", t.gray_step.map(i64::from)),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                item.insert(name.into(), n(v));
            }
        }
        if let Some(reason) = &t.reason {
            item.insert("reason".into(), s(reason));
        }
        item.insert("due_at".into(), n(t.due_at.millis()));
        item.insert("updated_at".into(), n(t.updated_at.millis()));
        item.insert("version".into(), n(t.version));
        if !t.outbox.is_empty() {
            item.insert(
                "outbox".into(),
                AttributeValue::L(t.outbox.iter().map(s).collect()),
            );
        }
        item
    }

    /// Puts `items` 25 at a time, again for what DynamoDB left unprocessed.
    async fn put_all(&self, items: Vec<Attrs>) -> Result<(), StoreError> {
        for chunk in items.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    let put = PutRequest::builder().set_item(Some(item.clone())).build();
                    put.map(|p| WriteRequest::builder().put_request(p).build())
                        .map_err(super::unbuildable("build a batch put"))
                })
                .collect::<Result<_, _>>()?;
            for attempt in 0..8u32 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(unavailable("store a rollout's targets"))?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
            }
            if !requests.is_empty() {
                return Err(StoreError::Unavailable {
                    operation: "store a rollout's targets",
                    code: Some("ProvisionedThroughputExceededException".into()),
                });
            }
        }
        Ok(())
    }

    /// One page of a query on the component's partition from `start` (exclusive) within `prefix`.
    async fn query_prefix(
        &self,
        prefix: &str,
        start: Option<String>,
        limit: Option<i32>,
    ) -> Result<(Vec<Attrs>, bool), StoreError> {
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_values(":pk", s(self.pk()))
            .expression_attribute_values(":prefix", s(prefix))
            .set_limit(limit)
            .consistent_read(true);
        if let Some(sk) = start {
            req = req.set_exclusive_start_key(Some(self.item_key(sk)));
        }
        let out = req.send().await.map_err(unavailable("read rollouts"))?;
        Ok((
            out.items.unwrap_or_default(),
            out.last_evaluated_key.is_some(),
        ))
    }
}

#[async_trait]
impl RolloutStore for DynamoStore {
    async fn create_rollout(
        &self,
        rollout: &StoredRollout,
        targets: &[StoredTarget],
    ) -> Result<(), StoreError> {
        let items = targets
            .iter()
            .map(|t| {
                self.target_item(&StoredTarget {
                    version: 1,
                    ..t.clone()
                })
            })
            .collect();
        self.put_all(items).await?;
        // The rollout last: once it can be read, every target can.
        let mut item = self.item_key(rollout_sk(&rollout.id));
        let release = serde_json::to_string(&rollout.release).expect("serializes");
        for (name, value) in [
            ("rollout_id", &rollout.id),
            ("template_id", &rollout.template_id),
            ("user_version", &rollout.user_version),
            ("user_desc", &rollout.user_desc),
            ("ext_json", &rollout.ext_json),
            ("audit", &rollout.audit),
            ("release", &release),
        ] {
            item.insert(name.into(), s(value));
        }
        item.insert("state".into(), s(rollout.state.as_str()));
        item.insert("max_in_audit".into(), n(rollout.max_in_audit));
        item.insert("in_audit".into(), n(rollout.in_audit));
        item.insert("targets".into(), n(rollout.targets));
        item.insert("created_at".into(), n(rollout.created_at.secs()));
        self.put(item, "store a rollout").await
    }

    async fn rollout(&self, id: &str) -> Result<Option<StoredRollout>, StoreError> {
        let map = self.get_raw(rollout_sk(id), "read a rollout").await?;
        map.as_ref().map(parse_rollout).transpose()
    }

    async fn running_rollouts(&self) -> Result<Vec<StoredRollout>, StoreError> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let (items, more) = self.query_prefix("rollout#", start.take(), None).await?;
            for map in &items {
                let rollout = parse_rollout(map)?;
                if rollout.state == RolloutState::Running {
                    all.push(rollout);
                }
            }
            let last = items
                .last()
                .and_then(|m| m.get("sk"))
                .and_then(|v| v.as_s().ok());
            match (more, last) {
                (true, Some(sk)) => start = Some(sk.clone()),
                _ => return Ok(all),
            }
        }
    }

    async fn set_rollout_state(
        &self,
        id: &str,
        from: RolloutState,
        to: RolloutState,
    ) -> Result<bool, StoreError> {
        let values = HashMap::from([
            (":from".to_owned(), s(from.as_str())),
            (":to".to_owned(), s(to.as_str())),
        ]);
        let done = self
            .update(
                self.item_key(rollout_sk(id)),
                "SET #state = :to",
                Some("#state = :from"),
                values,
                false,
                "change a rollout's state",
            )
            .await?;
        Ok(done.is_some())
    }

    async fn claim_audit_slot(&self, id: &str) -> Result<bool, StoreError> {
        let values = HashMap::from([(":one".to_owned(), n(1))]);
        let done = self
            .update(
                self.item_key(rollout_sk(id)),
                "ADD #in_audit :one",
                Some("#in_audit < #max_in_audit"),
                values,
                false,
                "claim an audit slot",
            )
            .await?;
        Ok(done.is_some())
    }

    async fn free_audit_slot(&self, id: &str) -> Result<(), StoreError> {
        let values = HashMap::from([(":minus".to_owned(), n(-1)), (":zero".to_owned(), n(0))]);
        self.update(
            self.item_key(rollout_sk(id)),
            "ADD #in_audit :minus",
            Some("#in_audit > :zero"),
            values,
            false,
            "free an audit slot",
        )
        .await?;
        Ok(())
    }

    async fn target(
        &self,
        id: &str,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredTarget>, StoreError> {
        let map = self
            .get_raw(target_sk(id, appid), "read a rollout target")
            .await?;
        map.as_ref().map(parse_target).transpose()
    }

    async fn targets(
        &self,
        id: &str,
        after: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<(Vec<StoredTarget>, Option<AuthorizerAppid>), StoreError> {
        let start = after.map(|a| target_sk(id, a));
        let limit = limit.clamp(1, 1000) as i32;
        let (items, more) = self
            .query_prefix(&target_prefix(id), start, Some(limit))
            .await?;
        let page = items
            .iter()
            .map(parse_target)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match more {
            true => page.last().map(|t| t.appid.clone()),
            false => None,
        };
        Ok((page, next))
    }

    async fn write_target(&self, target: &StoredTarget) -> Result<bool, StoreError> {
        let condition = "#version = :previous";
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.target_item(target)))
            .condition_expression(condition)
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":previous", n(target.version.saturating_sub(1)));
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if super::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable("write a rollout target")(e)),
        }
    }

    async fn index_audit(&self, appid: &AuthorizerAppid, id: &str) -> Result<(), StoreError> {
        let mut item = self.item_key(audit_sk(appid));
        item.insert("rollout_id".into(), s(id));
        self.put(item, "index an audit").await
    }

    async fn audit_rollout(&self, appid: &AuthorizerAppid) -> Result<Option<String>, StoreError> {
        let sk = audit_sk(appid);
        let Some(map) = self.get_raw(sk.clone(), "read an audit's rollout").await? else {
            return Ok(None);
        };
        Item {
            key: &sk,
            map: &map,
        }
        .opt_s("rollout_id")
    }
}
