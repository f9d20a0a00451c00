//! [`Store`] on one DynamoDB table with string keys `pk` and `sk`.
//!
//! | item                 | pk                                 | sk                     |
//! |----------------------|------------------------------------|------------------------|
//! | ticket               | `component#<component>`            | `ticket`               |
//! | component token      | `component#<component>`            | `component_token`      |
//! | authorizer           | `component#<component>`            | `authorizer#<appid>`   |
//! | authorizer history   | `component#<component>#history#<appid>` | `<ms>#<kind>#<rand>` |
//! | exchanged code       | `component#<component>`            | `code#<sha256 of code>` (TTL) |

use super::expr::{n, names, s, Item};
use super::{
    AuthorizerPage, CachedToken, InfoSnapshot, Lease, NewAuthorization, RecoverOutcome, Store,
    StoreError, StoredAuthorizer, StoredTicket, TicketSave, TokenSlot,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus, HistoryEntry, HistoryKind};
use wxopen_models::{
    AccessToken, AuthorizerAppid, ComponentAppid, PermissionId, RefreshToken, VerifyTicket,
};

const SK_TICKET: &str = "ticket";
const SK_COMPONENT_TOKEN: &str = "component_token";
const AUTHORIZER_PREFIX: &str = "authorizer#";
/// A ticket is valid for 12 hours; the item may lapse an hour after that.
const TICKET_TTL_SECS: i64 = 13 * 3600;
/// Attempts of a read-modify-write before giving up under contention.
const MAX_WRITE_ATTEMPTS: usize = 5;
/// The public attributes of an authorizer, for listings: no secret is read.
const PUBLIC_ATTRIBUTES: &str = "#appid, #status, #permission_ids, #authorized_at, #updated_at, #revoked_at, #version, #has_refresh_token, #last_authorized_at";

type Attrs = HashMap<String, AttributeValue>;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn pk(component: &ComponentAppid) -> String {
    format!("component#{component}")
}

fn authorizer_sk(appid: &AuthorizerAppid) -> String {
    format!("{AUTHORIZER_PREFIX}{appid}")
}

fn history_pk(component: &ComponentAppid, appid: &AuthorizerAppid) -> String {
    format!("component#{component}#history#{appid}")
}

fn unavailable(e: impl std::error::Error) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(e).to_string())
}

/// True for a failed condition, in a single write or a transaction.
fn is_condition_failure(e: &impl ProvideErrorMetadata) -> bool {
    matches!(
        e.code(),
        Some("ConditionalCheckFailedException" | "TransactionCanceledException")
    )
}

fn permission_list(ids: &[PermissionId]) -> AttributeValue {
    AttributeValue::L(ids.iter().map(|id| n(id.0)).collect())
}

impl DynamoStore {
    /// A store on `table`, using a client built once per container.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(&self, pk: String, sk: String) -> Attrs {
        HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
    }

    async fn get(&self, pk: String, sk: String) -> Result<Option<Attrs>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// One conditional update. `Ok(None)` when the condition failed.
    async fn update(
        &self,
        key: Attrs,
        update: &str,
        condition: Option<&str>,
        values: Attrs,
        return_new: bool,
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
            Ok(out) => Ok(Some(out.attributes.unwrap_or_default())),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// A transaction of writes. `Ok(false)` when a condition failed.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Takes a refresh lease when it is free, lapsed or already `owner`'s (and `precondition`
    /// holds). The item as it is now, or `None` when the lease is held.
    async fn take_lease(
        &self,
        key: Attrs,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        precondition: Option<(&str, (&str, AttributeValue))>,
    ) -> Result<Option<Attrs>, StoreError> {
        let free =
            "(attribute_not_exists(#lease_until) OR #lease_until < :now OR #lease_owner = :me)";
        let mut values = HashMap::from([
            (":me".to_owned(), s(owner)),
            (":now".to_owned(), n(now_ms)),
            (":until".to_owned(), n(until_ms)),
        ]);
        let condition = match precondition {
            Some((extra, (name, value))) => {
                values.insert(name.to_owned(), value);
                format!("{extra} AND {free}")
            }
            None => free.to_owned(),
        };
        self.update(
            key,
            "SET #lease_owner = :me, #lease_until = :until",
            Some(&condition),
            values,
            true,
        )
        .await
    }

    /// Clears a lease if `owner` holds it.
    async fn release_lease(&self, key: Attrs, owner: &str) -> Result<(), StoreError> {
        self.update(
            key,
            "REMOVE #lease_owner, #lease_until",
            Some("#lease_owner = :me"),
            HashMap::from([(":me".to_owned(), s(owner))]),
            false,
        )
        .await
        .map(|_| ())
    }

    /// Removes a cached access token only if it is still `failed`. `true` when removed.
    async fn drop_token(&self, key: Attrs, failed: &AccessToken) -> Result<bool, StoreError> {
        Ok(self
            .update(
                key,
                "REMOVE #access_token, #token_expires_at",
                Some("#access_token = :failed"),
                HashMap::from([(":failed".to_owned(), s(failed.expose()))]),
                false,
            )
            .await?
            .is_some())
    }

    fn history_put(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        kind: HistoryKind,
        permission_ids: &[PermissionId],
        at_ms: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let sk = format!(
            "{at_ms:013}#{}#{:08x}",
            kind.as_str(),
            rand::random::<u32>()
        );
        let mut item = self.key(history_pk(component, appid), sk);
        item.insert("kind".into(), s(kind.as_str()));
        item.insert("at_ms".into(), n(at_ms));
        item.insert("permission_ids".into(), permission_list(permission_ids));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

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
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(upd).build())
    }
}

fn parse_token(item: &Item<'_>) -> Result<Option<CachedToken>, StoreError> {
    match (
        item.opt_s("access_token")?,
        item.opt_i64("token_expires_at")?,
    ) {
        (Some(token), Some(expires_at)) => Ok(Some(CachedToken {
            token: AccessToken::new(token),
            expires_at,
        })),
        _ => Ok(None),
    }
}

fn parse_lease(item: &Item<'_>) -> Result<Option<Lease>, StoreError> {
    match (item.opt_s("lease_owner")?, item.opt_i64("lease_until")?) {
        (Some(owner), Some(until_ms)) => Ok(Some(Lease { owner, until_ms })),
        _ => Ok(None),
    }
}

fn parse_slot(map: &Attrs) -> Result<TokenSlot, StoreError> {
    let item = Item {
        key: SK_COMPONENT_TOKEN,
        map,
    };
    Ok(TokenSlot {
        token: parse_token(&item)?,
        lease: parse_lease(&item)?,
    })
}

fn parse_record(item: &Item<'_>) -> Result<AuthorizerRecord, StoreError> {
    let appid =
        AuthorizerAppid::parse(item.req_s("appid")?).map_err(|e| item.corrupt(e.to_string()))?;
    let status_text = item.req_s("status")?;
    let status = AuthorizerStatus::parse(&status_text)
        .ok_or_else(|| item.corrupt(format!("unknown status {status_text:?}")))?;
    Ok(AuthorizerRecord {
        authorizer_appid: appid,
        status,
        permission_ids: item
            .u32_list("permission_ids")?
            .into_iter()
            .map(PermissionId)
            .collect(),
        authorized_at: item.req_i64("authorized_at")?,
        updated_at: item.req_i64("updated_at")?,
        revoked_at: item.opt_i64("revoked_at")?,
        version: item.req_i64("version")?.max(0) as u64,
        has_refresh_token: matches!(
            item.map.get("has_refresh_token"),
            Some(AttributeValue::Bool(true))
        ),
    })
}

fn parse_authorizer(map: &Attrs) -> Result<StoredAuthorizer, StoreError> {
    let sk = match map.get("sk") {
        Some(AttributeValue::S(sk)) => sk.as_str(),
        _ => "authorizer",
    };
    let item = Item { key: sk, map };
    let info = match (
        item.opt_s("info_snapshot")?,
        item.opt_i64("info_fetched_at")?,
    ) {
        (Some(json), Some(fetched_at_ms)) => Some(InfoSnapshot {
            json,
            fetched_at_ms,
        }),
        _ => None,
    };
    Ok(StoredAuthorizer {
        record: parse_record(&item)?,
        refresh_token: item.opt_s("refresh_token")?.map(RefreshToken::new),
        access: parse_token(&item)?,
        lease: parse_lease(&item)?,
        info,
        last_authorized_at: item.req_i64("last_authorized_at")?,
    })
}

/// Chooses the history kind of an authorization given what was stored before.
fn authorization_kind(existing: Option<&StoredAuthorizer>, auth: &NewAuthorization) -> HistoryKind {
    match existing {
        None => HistoryKind::Authorized,
        Some(e) if e.record.status != AuthorizerStatus::Authorized => HistoryKind::Reauthorized,
        Some(e) if e.record.permission_ids != auth.permission_ids => {
            HistoryKind::PermissionsChanged
        }
        Some(e) if auth.refresh_token.is_some() && e.refresh_token != auth.refresh_token => {
            HistoryKind::RefreshTokenReplaced
        }
        Some(_) => HistoryKind::Reauthorized,
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn save_ticket(
        &self,
        component: &ComponentAppid,
        ticket: &VerifyTicket,
        create_time: i64,
    ) -> Result<TicketSave, StoreError> {
        let values = HashMap::from([
            (":t".to_owned(), s(ticket.expose())),
            (":ct".to_owned(), n(create_time)),
            (":now".to_owned(), n(crate::clock::now_ms())),
            (":exp".to_owned(), n(create_time + TICKET_TTL_SECS)),
        ]);
        let saved = self
            .update(
                self.key(pk(component), SK_TICKET.into()),
                "SET #ticket = :t, #create_time = :ct, #updated_at = :now, #expires_at = :exp",
                Some("attribute_not_exists(#pk) OR #create_time < :ct"),
                values,
                false,
            )
            .await?;
        if saved.is_some() {
            return Ok(TicketSave::Saved);
        }
        let stored = self.load_ticket(component).await?;
        Ok(TicketSave::Stale {
            stored_create_time: stored.map(|t| t.create_time).unwrap_or(create_time),
        })
    }

    async fn load_ticket(
        &self,
        component: &ComponentAppid,
    ) -> Result<Option<StoredTicket>, StoreError> {
        let Some(map) = self.get(pk(component), SK_TICKET.into()).await? else {
            return Ok(None);
        };
        let item = Item {
            key: SK_TICKET,
            map: &map,
        };
        Ok(Some(StoredTicket {
            ticket: VerifyTicket::new(item.req_s("ticket")?),
            create_time: item.req_i64("create_time")?,
        }))
    }

    async fn load_component_token(
        &self,
        component: &ComponentAppid,
    ) -> Result<TokenSlot, StoreError> {
        match self.get(pk(component), SK_COMPONENT_TOKEN.into()).await? {
            Some(map) => parse_slot(&map),
            None => Ok(TokenSlot::default()),
        }
    }

    async fn lease_component_token(
        &self,
        component: &ComponentAppid,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<TokenSlot>, StoreError> {
        let key = self.key(pk(component), SK_COMPONENT_TOKEN.into());
        let out = self.take_lease(key, owner, now_ms, until_ms, None).await?;
        out.map(|map| parse_slot(&map)).transpose()
    }

    async fn store_component_token(
        &self,
        component: &ComponentAppid,
        owner: &str,
        token: &CachedToken,
    ) -> Result<bool, StoreError> {
        let values = HashMap::from([
            (":me".to_owned(), s(owner)),
            (":t".to_owned(), s(token.token.expose())),
            (":e".to_owned(), n(token.expires_at)),
            (":now".to_owned(), n(crate::clock::now_ms())),
        ]);
        Ok(self
            .update(
                self.key(pk(component), SK_COMPONENT_TOKEN.into()),
                "SET #access_token = :t, #token_expires_at = :e, #updated_at = :now REMOVE #lease_owner, #lease_until",
                Some("#lease_owner = :me"),
                values,
                false,
            )
            .await?
            .is_some())
    }

    async fn release_component_lease(
        &self,
        component: &ComponentAppid,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.release_lease(self.key(pk(component), SK_COMPONENT_TOKEN.into()), owner)
            .await
    }

    async fn drop_component_token(
        &self,
        component: &ComponentAppid,
        failed: &AccessToken,
    ) -> Result<bool, StoreError> {
        self.drop_token(self.key(pk(component), SK_COMPONENT_TOKEN.into()), failed)
            .await
    }

    async fn save_authorization(
        &self,
        component: &ComponentAppid,
        auth: &NewAuthorization,
        authorized_at: i64,
        now_ms: i64,
    ) -> Result<AuthorizerRecord, StoreError> {
        let now = now_ms / 1000;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let existing = self
                .load_authorizer(component, &auth.authorizer_appid)
                .await?;
            let kind = authorization_kind(existing.as_ref(), auth);
            let version = existing.as_ref().map_or(0, |e| e.record.version);
            let refresh_token = auth
                .refresh_token
                .clone()
                .or_else(|| existing.as_ref().and_then(|e| e.refresh_token.clone()));
            // Without a fresh refresh token the account must authorize again.
            let status = if auth.refresh_token.is_some() {
                AuthorizerStatus::Authorized
            } else {
                AuthorizerStatus::NeedsReauth
            };
            let record = AuthorizerRecord {
                authorizer_appid: auth.authorizer_appid.clone(),
                status,
                permission_ids: auth.permission_ids.clone(),
                authorized_at: existing
                    .as_ref()
                    .map_or(authorized_at, |e| e.record.authorized_at),
                updated_at: now,
                revoked_at: None,
                version: version + 1,
                has_refresh_token: refresh_token.is_some(),
            };
            let last_authorized_at = existing
                .as_ref()
                .map_or(authorized_at, |e| e.last_authorized_at.max(authorized_at));

            let mut item = self.key(pk(component), authorizer_sk(&auth.authorizer_appid));
            item.insert("appid".into(), s(record.authorizer_appid.as_str()));
            item.insert("status".into(), s(record.status.as_str()));
            item.insert(
                "permission_ids".into(),
                permission_list(&record.permission_ids),
            );
            item.insert("authorized_at".into(), n(record.authorized_at));
            item.insert("last_authorized_at".into(), n(last_authorized_at));
            item.insert("updated_at".into(), n(now));
            item.insert("version".into(), n(record.version));
            item.insert(
                "has_refresh_token".into(),
                AttributeValue::Bool(record.has_refresh_token),
            );
            if let Some(rt) = &refresh_token {
                item.insert("refresh_token".into(), s(rt.expose()));
            }
            if let Some(access) = &auth.access {
                item.insert("access_token".into(), s(access.token.expose()));
                item.insert("token_expires_at".into(), n(access.expires_at));
            }
            if let Some(info) = existing.as_ref().and_then(|e| e.info.as_ref()) {
                item.insert("info_snapshot".into(), s(&info.json));
                item.insert("info_fetched_at".into(), n(info.fetched_at_ms));
            }
            let (condition, values) = match &existing {
                None => ("attribute_not_exists(#pk)", None),
                Some(_) => (
                    "#version = :v",
                    Some(HashMap::from([(":v".to_owned(), n(version))])),
                ),
            };
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names(&[condition])))
                .set_expression_attribute_values(values)
                .build()
                .map_err(unavailable)?;
            let written = self
                .transact(vec![
                    TransactWriteItem::builder().put(put).build(),
                    self.history_put(
                        component,
                        &auth.authorizer_appid,
                        kind,
                        &record.permission_ids,
                        now_ms,
                    )?,
                ])
                .await?;
            if written {
                return Ok(record);
            }
        }
        Err(StoreError::Contended {
            key: authorizer_sk(&auth.authorizer_appid),
        })
    }

    async fn load_authorizer(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredAuthorizer>, StoreError> {
        self.get(pk(component), authorizer_sk(appid))
            .await?
            .map(|map| parse_authorizer(&map))
            .transpose()
    }

    async fn list_authorizers(
        &self,
        component: &ComponentAppid,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AuthorizerPage, StoreError> {
        let key_condition = "#pk = :pk AND begins_with(#sk, :prefix)";
        let start = match cursor {
            Some(appid) => {
                let appid = AuthorizerAppid::parse(appid).map_err(|e| StoreError::Corrupt {
                    key: "cursor".into(),
                    reason: e.to_string(),
                })?;
                Some(self.key(pk(component), authorizer_sk(&appid)))
            }
            None => None,
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .projection_expression(PUBLIC_ATTRIBUTES)
            .set_expression_attribute_names(Some(names(&[key_condition, PUBLIC_ATTRIBUTES])))
            .expression_attribute_values(":pk", s(pk(component)))
            .expression_attribute_values(":prefix", s(AUTHORIZER_PREFIX))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let items = out
            .items
            .unwrap_or_default()
            .iter()
            .map(|map| {
                parse_record(&Item {
                    key: "authorizer",
                    map,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = match out.last_evaluated_key {
            Some(_) => items.last().map(|r| r.authorizer_appid.to_string()),
            None => None,
        };
        Ok(AuthorizerPage { items, next_cursor })
    }

    async fn revoke_authorizer(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        event_time: i64,
        now_ms: i64,
    ) -> Result<Option<AuthorizerRecord>, StoreError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let Some(existing) = self.load_authorizer(component, appid).await? else {
                return Ok(None);
            };
            // Already revoked, or authorized again after this push was sent: nothing to do.
            if existing.record.status == AuthorizerStatus::Revoked
                || existing.last_authorized_at > event_time
            {
                return Ok(Some(existing.record));
            }
            let now = now_ms / 1000;
            let update = "SET #status = :revoked, #revoked_at = :now, #updated_at = :now, #version = #version + :one, #has_refresh_token = :false \
                          REMOVE #refresh_token, #access_token, #token_expires_at, #lease_owner, #lease_until";
            let values = HashMap::from([
                (":revoked".to_owned(), s(AuthorizerStatus::Revoked.as_str())),
                (":now".to_owned(), n(now)),
                (":one".to_owned(), n(1)),
                (":false".to_owned(), AttributeValue::Bool(false)),
                (":v".to_owned(), n(existing.record.version)),
            ]);
            let written = self
                .transact(vec![
                    self.update_item(
                        self.key(pk(component), authorizer_sk(appid)),
                        update,
                        "#version = :v",
                        values,
                    )?,
                    self.history_put(
                        component,
                        appid,
                        HistoryKind::Revoked,
                        &existing.record.permission_ids,
                        now_ms,
                    )?,
                ])
                .await?;
            if written {
                return Ok(Some(AuthorizerRecord {
                    status: AuthorizerStatus::Revoked,
                    revoked_at: Some(now),
                    updated_at: now,
                    version: existing.record.version + 1,
                    has_refresh_token: false,
                    ..existing.record
                }));
            }
        }
        Err(StoreError::Contended {
            key: authorizer_sk(appid),
        })
    }

    async fn history(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut entries = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_values(":pk", s(history_pk(component, appid)))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(unavailable)?;
            for map in out.items.unwrap_or_default() {
                let item = Item {
                    key: "history",
                    map: &map,
                };
                let kind_text = item.req_s("kind")?;
                entries.push(HistoryEntry {
                    kind: HistoryKind::parse(&kind_text)
                        .ok_or_else(|| item.corrupt(format!("unknown kind {kind_text:?}")))?,
                    at_ms: item.req_i64("at_ms")?,
                    permission_ids: item
                        .u32_list("permission_ids")?
                        .into_iter()
                        .map(PermissionId)
                        .collect(),
                });
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(entries);
            }
        }
    }

    async fn lease_authorizer_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<StoredAuthorizer>, StoreError> {
        // Only an authorizer that exists and is authorized may be refreshed.
        let precondition = (
            "attribute_exists(#pk) AND #status = :authorized",
            (":authorized", s(AuthorizerStatus::Authorized.as_str())),
        );
        let key = self.key(pk(component), authorizer_sk(appid));
        let out = self
            .take_lease(key, owner, now_ms, until_ms, Some(precondition))
            .await?;
        out.map(|map| parse_authorizer(&map)).transpose()
    }

    async fn store_authorizer_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        owner: &str,
        expected_version: u64,
        token: &CachedToken,
        refresh_token: Option<&RefreshToken>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let key = self.key(pk(component), authorizer_sk(appid));
        let condition = "#lease_owner = :me AND #version = :v";
        let mut values = HashMap::from([
            (":me".to_owned(), s(owner)),
            (":v".to_owned(), n(expected_version)),
            (":t".to_owned(), s(token.token.expose())),
            (":e".to_owned(), n(token.expires_at)),
        ]);
        let Some(refresh_token) = refresh_token else {
            return Ok(self
                .update(
                    key,
                    "SET #access_token = :t, #token_expires_at = :e REMOVE #lease_owner, #lease_until",
                    Some(condition),
                    values,
                    false,
                )
                .await?
                .is_some());
        };
        // A new refresh token: persisted in the same write as the access token, with history.
        values.insert(":r".into(), s(refresh_token.expose()));
        values.insert(":one".into(), n(1));
        values.insert(":now".into(), n(now_ms / 1000));
        let permissions = self
            .load_authorizer(component, appid)
            .await?
            .map(|a| a.record.permission_ids)
            .unwrap_or_default();
        self.transact(vec![
            self.update_item(
                key,
                "SET #access_token = :t, #token_expires_at = :e, #refresh_token = :r, #version = #version + :one, #updated_at = :now REMOVE #lease_owner, #lease_until",
                condition,
                values,
            )?,
            self.history_put(component, appid, HistoryKind::RefreshTokenReplaced, &permissions, now_ms)?,
        ])
        .await
    }

    async fn release_authorizer_lease(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.release_lease(self.key(pk(component), authorizer_sk(appid)), owner)
            .await
    }

    async fn drop_authorizer_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        failed: &AccessToken,
    ) -> Result<bool, StoreError> {
        self.drop_token(self.key(pk(component), authorizer_sk(appid)), failed)
            .await
    }

    async fn mark_needs_reauth(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        failed: &RefreshToken,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let Some(existing) = self.load_authorizer(component, appid).await? else {
            return Ok(false);
        };
        let values = HashMap::from([
            (
                ":needs".to_owned(),
                s(AuthorizerStatus::NeedsReauth.as_str()),
            ),
            (
                ":authorized".to_owned(),
                s(AuthorizerStatus::Authorized.as_str()),
            ),
            (":failed".to_owned(), s(failed.expose())),
            (":now".to_owned(), n(now_ms / 1000)),
            (":one".to_owned(), n(1)),
        ]);
        self.transact(vec![
            self.update_item(
                self.key(pk(component), authorizer_sk(appid)),
                "SET #status = :needs, #updated_at = :now, #version = #version + :one REMOVE #access_token, #token_expires_at, #lease_owner, #lease_until",
                "#refresh_token = :failed AND #status = :authorized",
                values,
            )?,
            self.history_put(component, appid, HistoryKind::NeedsReauth, &existing.record.permission_ids, now_ms)?,
        ])
        .await
    }

    async fn recover_refresh_token(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        refresh_token: &RefreshToken,
        auth_time: i64,
        now_ms: i64,
    ) -> Result<RecoverOutcome, StoreError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let existing = self.load_authorizer(component, appid).await?;
            let now = now_ms / 1000;
            let outcome = match &existing {
                None => RecoverOutcome::Added,
                Some(e) => {
                    let usable = e.record.status == AuthorizerStatus::Authorized
                        && e.refresh_token.is_some();
                    let revoked_later = e.record.status == AuthorizerStatus::Revoked
                        && e.record.revoked_at.is_some_and(|r| r >= auth_time);
                    if usable || revoked_later {
                        return Ok(RecoverOutcome::Unchanged);
                    }
                    RecoverOutcome::Restored
                }
            };
            let permissions = existing
                .as_ref()
                .map(|e| e.record.permission_ids.clone())
                .unwrap_or_default();
            let write = match &existing {
                None => {
                    let mut item = self.key(pk(component), authorizer_sk(appid));
                    item.insert("appid".into(), s(appid.as_str()));
                    item.insert("status".into(), s(AuthorizerStatus::Authorized.as_str()));
                    item.insert("permission_ids".into(), permission_list(&[]));
                    item.insert("authorized_at".into(), n(auth_time));
                    item.insert("last_authorized_at".into(), n(auth_time));
                    item.insert("updated_at".into(), n(now));
                    item.insert("version".into(), n(1));
                    item.insert("has_refresh_token".into(), AttributeValue::Bool(true));
                    item.insert("refresh_token".into(), s(refresh_token.expose()));
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", "pk")
                        .build()
                        .map_err(unavailable)?;
                    TransactWriteItem::builder().put(put).build()
                }
                Some(e) => self.update_item(
                    self.key(pk(component), authorizer_sk(appid)),
                    "SET #refresh_token = :r, #status = :authorized, #has_refresh_token = :true, #updated_at = :now, \
                     #last_authorized_at = :la, #version = #version + :one REMOVE #revoked_at, #access_token, #token_expires_at",
                    "#version = :v",
                    HashMap::from([
                        (":r".to_owned(), s(refresh_token.expose())),
                        (":authorized".to_owned(), s(AuthorizerStatus::Authorized.as_str())),
                        (":true".to_owned(), AttributeValue::Bool(true)),
                        (":now".to_owned(), n(now)),
                        (":la".to_owned(), n(e.last_authorized_at.max(auth_time))),
                        (":one".to_owned(), n(1)),
                        (":v".to_owned(), n(e.record.version)),
                    ]),
                )?,
            };
            let written = self
                .transact(vec![
                    write,
                    self.history_put(
                        component,
                        appid,
                        HistoryKind::RefreshTokenRecovered,
                        &permissions,
                        now_ms,
                    )?,
                ])
                .await?;
            if written {
                return Ok(outcome);
            }
        }
        Err(StoreError::Contended {
            key: authorizer_sk(appid),
        })
    }

    async fn remember_exchanged_code(
        &self,
        component: &ComponentAppid,
        code_hash: &str,
        appid: &AuthorizerAppid,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut item = self.key(pk(component), format!("code#{code_hash}"));
        item.insert("appid".into(), s(appid.as_str()));
        item.insert("expires_at".into(), n(expires_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn exchanged_code(
        &self,
        component: &ComponentAppid,
        code_hash: &str,
    ) -> Result<Option<AuthorizerAppid>, StoreError> {
        let sk = format!("code#{code_hash}");
        let Some(map) = self.get(pk(component), sk.clone()).await? else {
            return Ok(None);
        };
        let item = Item {
            key: &sk,
            map: &map,
        };
        // TTL deletion is lazy: an expired item may still be read.
        if item
            .opt_i64("expires_at")?
            .is_some_and(|e| e < crate::clock::now_secs())
        {
            return Ok(None);
        }
        AuthorizerAppid::parse(item.req_s("appid")?)
            .map(Some)
            .map_err(|e| item.corrupt(e.to_string()))
    }

    async fn save_info_snapshot(
        &self,
        component: &ComponentAppid,
        appid: &AuthorizerAppid,
        snapshot: &InfoSnapshot,
    ) -> Result<(), StoreError> {
        // An older snapshot never replaces a newer one; a missing authorizer is not created.
        self.update(
            self.key(pk(component), authorizer_sk(appid)),
            "SET #info_snapshot = :j, #info_fetched_at = :at",
            Some("attribute_exists(#pk) AND (attribute_not_exists(#info_fetched_at) OR #info_fetched_at < :at)"),
            HashMap::from([
                (":j".to_owned(), s(&snapshot.json)),
                (":at".to_owned(), n(snapshot.fetched_at_ms)),
            ]),
            false,
        )
        .await
        .map(|_| ())
    }
}
