//! First uses (`state` nonces, message ids): one conditional put per use, the item kept until
//! its `expires_at` (the table's TTL attribute). TTL deletion is lazy, so the condition also lets
//! a record that has expired be replaced.

use super::expr::n;
use super::{is_condition_failure, unavailable, DynamoStore};
use crate::store::{OnceKind, OnceStore, StoreError, Use};
use async_trait::async_trait;

fn once_sk(kind: OnceKind, key: &str) -> String {
    format!("once#{}#{key}", kind.as_str())
}

#[async_trait]
impl OnceStore for DynamoStore {
    async fn first_use(&self, use_: &Use<'_>) -> Result<bool, StoreError> {
        let operation = "record a first use";
        let mut item = self.item_key(once_sk(use_.kind, use_.key));
        item.insert("expires_at".into(), n(use_.until.secs()));
        item.insert("updated_at".into(), n(use_.now.secs()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#sk) OR #expires_at < :now")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_values(":now", n(use_.now.secs()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(operation)(e)),
        }
    }

    async fn forget_use(&self, kind: OnceKind, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.item_key(once_sk(kind, key))))
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable("forget a first use"))
    }
}
