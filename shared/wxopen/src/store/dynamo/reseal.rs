//! The sealing jobs on DynamoDB ([`SealStore`]): every item of the component's partition is
//! read as stored (its keys and token attributes only), and each token in plaintext or sealed
//! under an older data key is sealed under the newest with a write conditional on the value
//! read, so a token rewritten meanwhile is left as its writer sealed it.

use super::expr::{names, s};
use super::sealing::{aad, SEALED_ATTRIBUTES};
use super::{Attrs, DynamoStore};
use crate::seal::{DataKey, Stored};
use crate::store::{SealStore, StoreError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::Duration;

#[async_trait]
impl SealStore for DynamoStore {
    async fn seal_stored_tokens(&self) -> Result<u64, StoreError> {
        let newest = self.newest_key(Duration::ZERO).await?;
        let condition = "#pk = :pk";
        let projection = "#pk, #sk, #refresh_token, #access_token, #ticket";
        let query = || {
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .projection_expression(projection)
                .set_expression_attribute_names(Some(names(&[condition, projection])))
                .expression_attribute_values(":pk", s(self.pk()))
        };
        let mut sealed = 0;
        for map in self.query_raw(query, "read the items to seal").await? {
            sealed += self.reseal_item(&map, &newest).await?;
        }
        tracing::info!(sealed, key = newest.id(), "stored tokens sealed");
        Ok(sealed)
    }

    async fn rotate_data_key(&self) -> Result<Option<String>, StoreError> {
        let key = self
            .create_data_key()
            .await?
            .ok_or_else(|| StoreError::Contended {
                key: "data_key#".into(),
            })?;
        self.adopt(&key).await;
        tracing::info!(key = key.id(), "new data key");
        Ok(Some(key.id().to_owned()))
    }
}

impl DynamoStore {
    /// Seals each token of one item not sealed under `newest`; how many were rewritten.
    async fn reseal_item(&self, map: &Attrs, newest: &DataKey) -> Result<u64, StoreError> {
        let key: Attrs = ["pk", "sk"]
            .iter()
            .filter_map(|k| Some(((*k).to_owned(), map.get(*k)?.clone())))
            .collect();
        let mut sealed = 0;
        for attribute in SEALED_ATTRIBUTES {
            let Some(AttributeValue::S(stored)) = map.get(attribute) else {
                continue;
            };
            let plain = match Stored::of(stored) {
                Stored::Sealed { key_id } if key_id == newest.id() => continue,
                Stored::Plain => stored.clone(),
                Stored::Sealed { key_id } => {
                    self.open_value(&key, attribute, key_id, stored).await?
                }
            };
            let values = HashMap::from([
                (
                    ":sealed".to_owned(),
                    s(newest.seal(&aad(&key, attribute), &plain)),
                ),
                (":stored".to_owned(), s(stored)),
            ]);
            let written = self
                .update(
                    key.clone(),
                    &format!("SET #{attribute} = :sealed"),
                    Some(&format!("#{attribute} = :stored")),
                    values,
                    false,
                    "seal a stored token",
                )
                .await?;
            sealed += u64::from(written.is_some());
        }
        Ok(sealed)
    }
}
