//! The store on one DynamoDB table with string keys `pk` and `sk`.
//!
//! | item                 | pk                                 | sk                     |
//! |----------------------|------------------------------------|------------------------|
//! | ticket               | `component#<component>`            | `ticket`               |
//! | component token      | `component#<component>`            | `component_token`      |
//! | authorizer           | `component#<component>`            | `authorizer#<appid>`   |
//! | authorizer history   | `component#<component>#history#<appid>` | `<ms>#<kind>#<rand>` |
//! | exchanged code       | `component#<component>`            | `code#<sha256 of code>` (TTL) |
//! | ext of a started authorization | `component#<component>`  | `preauth#<sha256 of pre-auth code>` (TTL) |
//! | ticket request       | `component#<component>`            | `ticket_request` (TTL) |
//! | data key             | `component#<component>`            | `data_key#<13-digit ms>` |
//! | registration         | `component#<component>`            | `registration#<id>` (TTL) |
//! | rollout              | `component#<component>`            | `rollout#<id>` |
//! | rollout target       | `component#<component>`            | `rtarget#<id>#<appid>` |
//! | rollout of an audit  | `component#<component>`            | `rollout_audit#<appid>` |
//! | registration key     | `component#<component>`            | `regkey#<hash or id>` (TTL), naming its registration |
//!
//! `refresh_token`, `access_token` and `ticket` are sealed ([`sealing`]) on every write and
//! opened on every read, here in the adapter: the ports and the services see plaintext.

mod authorizers;
mod codes;
mod expr;
mod items;
mod once;
mod reconcile;
mod registrations;
mod reseal;
mod rollouts;
pub mod sealing;
pub mod stream;
mod tokens;

use crate::seal::KeyVault;
use crate::store::StoreError;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use expr::{names, s};
use std::collections::HashMap;
use std::sync::Arc;
use wxopen_models::{AuthorizerAppid, ComponentAppid};

type Attrs = HashMap<String, AttributeValue>;

/// Attempts of a read-modify-write before giving up under contention.
const MAX_WRITE_ATTEMPTS: usize = 5;

/// The DynamoDB adapter, bound to one component, sealing its tokens with data keys `vault`
/// wraps.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    component: ComponentAppid,
    keys: Arc<sealing::Keys>,
}

/// The failure of a DynamoDB call: the details (the SDK's whole error context) go to the log
/// here, the caller gets one sentence naming the operation and DynamoDB's error code.
fn unavailable<E>(operation: &'static str) -> impl FnOnce(E) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error,
{
    move |e| {
        let code = e.code().map(str::to_owned);
        tracing::warn!(operation, code = ?code, details = %DisplayErrorContext(&e), "DynamoDB request failed");
        StoreError::Unavailable { operation, code }
    }
}

/// A request that could not even be built (a bug, not an outage).
fn unbuildable(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_dynamodb::error::BuildError) -> StoreError {
    move |e| {
        tracing::error!(operation, error = %e, "DynamoDB request could not be built");
        StoreError::Unavailable {
            operation,
            code: None,
        }
    }
}

/// True for a failed condition, in a single write or a transaction.
fn is_condition_failure(e: &impl ProvideErrorMetadata) -> bool {
    matches!(
        e.code(),
        Some("ConditionalCheckFailedException" | "TransactionCanceledException")
    )
}

impl DynamoStore {
    /// A store on `table` for `component`, using a client built once per container, sealing
    /// tokens under data keys `vault` wraps (KMS in production).
    pub fn new(
        client: Client,
        table: impl Into<String>,
        component: ComponentAppid,
        vault: Arc<dyn KeyVault>,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            component,
            keys: Arc::new(sealing::Keys::new(vault)),
        }
    }

    /// The same table and vault, bound to another component (with its own data keys).
    pub fn for_component(&self, component: ComponentAppid) -> Self {
        Self {
            component,
            keys: Arc::new(self.keys.fresh()),
            ..self.clone()
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn pk(&self) -> String {
        format!("component#{}", self.component)
    }

    fn history_pk(&self, appid: &AuthorizerAppid) -> String {
        format!("component#{}#history#{appid}", self.component)
    }

    fn key(&self, pk: String, sk: String) -> Attrs {
        HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
    }

    fn item_key(&self, sk: impl Into<String>) -> Attrs {
        self.key(self.pk(), sk.into())
    }

    async fn put(&self, item: Attrs, operation: &'static str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable(operation))
    }

    /// An item, its tokens opened.
    async fn get(&self, sk: String, operation: &'static str) -> Result<Option<Attrs>, StoreError> {
        let Some(mut map) = self.get_raw(sk, operation).await? else {
            return Ok(None);
        };
        self.open_item(&mut map).await?;
        Ok(Some(map))
    }

    /// An item as stored.
    async fn get_raw(
        &self,
        sk: String,
        operation: &'static str,
    ) -> Result<Option<Attrs>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.item_key(sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable(operation))?;
        Ok(out.item)
    }

    /// One conditional update (its new item's tokens opened). `Ok(None)` when the condition
    /// failed.
    async fn update(
        &self,
        key: Attrs,
        update: &str,
        condition: Option<&str>,
        values: Attrs,
        return_new: bool,
        operation: &'static str,
    ) -> Result<Option<Attrs>, StoreError> {
        let mut exprs = vec![update];
        exprs.extend(condition);
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_names(Some(names(&exprs)))
            .set_expression_attribute_values((!values.is_empty()).then_some(values));
        if return_new {
            req = req.return_values(ReturnValue::AllNew);
        }
        match req.send().await {
            Ok(out) => {
                let mut map = out.attributes.unwrap_or_default();
                self.open_item(&mut map).await?;
                Ok(Some(map))
            }
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(unavailable(operation)(e)),
        }
    }

    /// A transaction of writes. `Ok(false)` when a condition failed.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        operation: &'static str,
    ) -> Result<bool, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(operation)(e)),
        }
    }

    /// Every item a query finds, page after page, its tokens opened and parsed; `query` is the
    /// request without its start key.
    async fn query_all<T>(
        &self,
        query: impl Fn() -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        parse: impl Fn(&Attrs) -> Result<T, StoreError>,
        operation: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let mut all = Vec::new();
        for mut map in self.query_raw(query, operation).await? {
            self.open_item(&mut map).await?;
            all.push(parse(&map)?);
        }
        Ok(all)
    }

    /// Every item a query finds, page after page, as stored.
    async fn query_raw(
        &self,
        query: impl Fn() -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        operation: &'static str,
    ) -> Result<Vec<Attrs>, StoreError> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let out = query()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable(operation))?;
            all.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(all);
            }
        }
    }

    /// A conditional update inside a transaction.
    fn update_item(
        &self,
        key: Attrs,
        update: &str,
        condition: &str,
        values: Attrs,
    ) -> Result<TransactWriteItem, StoreError> {
        let upd = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[update, condition])))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(unbuildable("build an update"))?;
        Ok(TransactWriteItem::builder().update(upd).build())
    }
}
