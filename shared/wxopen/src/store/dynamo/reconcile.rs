//! The reconcile on DynamoDB: one item holding the pass's position and the run's lease, and an
//! eventually consistent `Query` of every authorizer with only the attributes the comparison
//! needs (a stale read costs nothing: every write it leads to is conditional on the version).

use super::expr::{n, names, s, Item};
use super::items::{parse_authorizer, AUTHORIZER_PREFIX};
use super::DynamoStore;
use crate::clock::Timestamp;
use crate::store::{Lease, ReconcileProgress, ReconcileStore, StoreError, StoredAuthorizer};
use async_trait::async_trait;
use std::collections::HashMap;

const SK_RECONCILE: &str = "reconcile";
/// What the comparison reads of an authorizer: no token, lease or info snapshot.
const COMPARED_ATTRIBUTES: &str = "#pk, #sk, #appid, #status, #permission_ids, #authorized_at, #updated_at, #revoked_at, #version, #has_refresh_token, #last_authorized_at, #refresh_token";

fn parse_progress(
    map: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<ReconcileProgress, StoreError> {
    let item = Item {
        key: SK_RECONCILE,
        map,
    };
    let count = |name: &str| item.opt_i64(name).map(|v| v.unwrap_or(0).max(0));
    Ok(ReconcileProgress {
        offset: count("offset")? as u32,
        total_count: count("total_count")? as u64,
        compared: count("compared")? as u64,
        added: count("added")? as u64,
        restored: count("restored")? as u64,
        runs: count("runs")? as u32,
        last_completed_at: item.opt_i64("last_completed_at")?,
    })
}

#[async_trait]
impl ReconcileStore for DynamoStore {
    async fn take_reconcile(
        &self,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<ReconcileProgress>, StoreError> {
        let out = self
            .update(
                self.item_key(SK_RECONCILE),
                "SET #lease_owner = :me, #lease_until = :until",
                Some("attribute_not_exists(#lease_until) OR #lease_until < :now OR #lease_owner = :me"),
                HashMap::from([
                    (":me".to_owned(), s(&lease.owner)),
                    (":now".to_owned(), n(now.millis())),
                    (":until".to_owned(), n(lease.until.millis())),
                ]),
                true,
                "take the reconcile lease",
            )
            .await?;
        out.map(|map| parse_progress(&map)).transpose()
    }

    async fn save_reconcile(
        &self,
        owner: &str,
        progress: &ReconcileProgress,
        release: bool,
    ) -> Result<bool, StoreError> {
        let mut update = "SET #offset = :offset, #total_count = :total, #compared = :compared, #added = :added, #restored = :restored, #runs = :runs".to_owned();
        let mut values = HashMap::from([
            (":me".to_owned(), s(owner)),
            (":offset".to_owned(), n(progress.offset)),
            (":total".to_owned(), n(progress.total_count)),
            (":compared".to_owned(), n(progress.compared)),
            (":added".to_owned(), n(progress.added)),
            (":restored".to_owned(), n(progress.restored)),
            (":runs".to_owned(), n(progress.runs)),
        ]);
        if let Some(at) = progress.last_completed_at {
            update.push_str(", #last_completed_at = :completed");
            values.insert(":completed".into(), n(at));
        }
        if release {
            update.push_str(" REMOVE #lease_owner, #lease_until");
        }
        let saved = self
            .update(
                self.item_key(SK_RECONCILE),
                &update,
                Some("#lease_owner = :me"),
                values,
                false,
                "save the reconcile's progress",
            )
            .await?;
        Ok(saved.is_some())
    }

    async fn scan_authorizers(&self) -> Result<Vec<StoredAuthorizer>, StoreError> {
        let key_condition = "#pk = :pk AND begins_with(#sk, :prefix)";
        let query = || {
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression(key_condition)
                .projection_expression(COMPARED_ATTRIBUTES)
                .set_expression_attribute_names(Some(names(&[key_condition, COMPARED_ATTRIBUTES])))
                .expression_attribute_values(":pk", s(self.pk()))
                .expression_attribute_values(":prefix", s(AUTHORIZER_PREFIX))
        };
        self.query_all(query, parse_authorizer, "read the authorizers to reconcile")
            .await
    }
}
