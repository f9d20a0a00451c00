//! Authorizers on DynamoDB: authorization, revocation, recovery, snapshots, listing, history.
//! Which change a write is comes from [`crate::store::rules`]; this file only writes it.

use super::expr::{n, names, s, Item};
use super::items::{
    authorizer_sk, code_sk, parse_authorizer, parse_history, parse_record, AuthorizerItem,
    AUTHORIZER_PREFIX, PUBLIC_ATTRIBUTES,
};
use super::{unavailable, DynamoStore, MAX_WRITE_ATTEMPTS};
use crate::clock::Timestamp;
use crate::store::rules::{self, plan_authorization, plan_revocation, recovered};
use crate::store::{
    AuthorizerListing, AuthorizerPage, AuthorizerStore, HistoryReader, InfoSnapshot, Known,
    NewAuthorization, PendingExt, RecoverOutcome, Recovery, StoreError, StoredAuthorizer,
    EXCHANGED_CODE_TTL,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::HashMap;
use wxopen_models::api::AuthorizerListItem;
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus, HistoryEntry, HistoryKind};
use wxopen_models::AuthorizerAppid;

impl DynamoStore {
    /// The write of a recovery: a put for an authorizer not stored, else an update
    /// conditional on the version the decision was made on.
    async fn recovery_write(
        &self,
        existing: Option<&StoredAuthorizer>,
        listed: &AuthorizerListItem,
        record: &AuthorizerRecord,
        last_authorized_at: Timestamp,
        now: Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        let appid = &listed.authorizer_appid;
        let key = self.item_key(authorizer_sk(appid));
        let refresh_token = listed.refresh_token.expose();
        Ok(match existing {
            None => {
                let mut item = self.authorizer_item(AuthorizerItem {
                    record,
                    last_authorized_at,
                    refresh_token: Some(&listed.refresh_token),
                    access: None,
                    info: None,
                });
                self.seal_item(&mut item).await?;
                self.put_item(item, None)?
            }
            Some(e) => self.update_item(
                key.clone(),
                "SET #refresh_token = :r, #status = :authorized, #has_refresh_token = :true, #updated_at = :now, \
                 #last_authorized_at = :la, #version = :next REMOVE #revoked_at, #access_token, #token_expires_at",
                "#version = :v",
                HashMap::from([
                    (":r".to_owned(), self.sealed(&key, "refresh_token", refresh_token).await?),
                    (":authorized".to_owned(), s(AuthorizerStatus::Authorized.as_str())),
                    (":true".to_owned(), AttributeValue::Bool(true)),
                    (":now".to_owned(), n(now.secs())),
                    (":la".to_owned(), n(last_authorized_at.secs())),
                    (":next".to_owned(), n(record.version)),
                    (":v".to_owned(), n(e.record.version)),
                ]),
            )?,
        })
    }
}

impl DynamoStore {
    /// Binds `ext` to a stored authorizer that has none, with an `authorized` history item
    /// carrying it, conditional on the version read.
    async fn bind_ext_once(
        &self,
        appid: &AuthorizerAppid,
        ext: &str,
        now: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let Some(existing) = self.load_authorizer(appid).await? else {
                return Ok(None);
            };
            if existing.record.ext.is_some() {
                return Ok(Some(existing.record));
            }
            let mut record = existing.record.clone();
            record.ext = Some(ext.to_owned());
            record.version += 1;
            record.updated_at = now.secs();
            let values = HashMap::from([
                (":ext".to_owned(), s(ext)),
                (":now".to_owned(), n(now.secs())),
                (":next".to_owned(), n(record.version)),
                (":v".to_owned(), n(existing.record.version)),
            ]);
            let writes = vec![
                self.update_item(
                    self.item_key(authorizer_sk(appid)),
                    "SET #ext = :ext, #updated_at = :now, #version = :next",
                    "#version = :v",
                    values,
                )?,
                self.history_put(
                    appid,
                    HistoryKind::Authorized,
                    &record.permission_ids,
                    Some(ext),
                    now,
                )?,
            ];
            if self
                .transact(writes, "bind an authorizer to its ext")
                .await?
            {
                return Ok(Some(record));
            }
        }
        Err(StoreError::Contended {
            key: authorizer_sk(appid),
        })
    }
}

#[async_trait]
impl AuthorizerStore for DynamoStore {
    async fn load_authorizer(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredAuthorizer>, StoreError> {
        self.get(authorizer_sk(appid), "read an authorizer")
            .await?
            .map(|map| parse_authorizer(&map))
            .transpose()
    }

    async fn save_authorization(
        &self,
        auth: &NewAuthorization,
        authorized_at: Timestamp,
        now: Timestamp,
    ) -> Result<AuthorizerRecord, StoreError> {
        let appid = &auth.authorizer_appid;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let existing = self.load_authorizer(appid).await?;
            let plan = plan_authorization(existing.as_ref(), auth, authorized_at, now);
            let mut item = self.authorizer_item(AuthorizerItem {
                record: &plan.record,
                last_authorized_at: plan.last_authorized_at,
                refresh_token: plan.refresh_token.as_ref(),
                access: auth.access.as_ref(),
                info: existing.as_ref().and_then(|e| e.info.as_ref()),
            });
            self.seal_item(&mut item).await?;
            let mut writes = vec![
                self.put_item(item, plan.expected_version)?,
                self.history_put(
                    appid,
                    plan.kind,
                    &plan.record.permission_ids,
                    plan.record.ext.as_deref(),
                    now,
                )?,
            ];
            if let Some(hash) = &auth.code_hash {
                let mut code = self.item_key(code_sk(hash));
                code.insert("appid".into(), s(appid.as_str()));
                code.insert("expires_at".into(), n(now.plus(EXCHANGED_CODE_TTL).secs()));
                writes.push(self.plain_put(code)?);
            }
            if self.transact(writes, "store an authorization").await? {
                return Ok(plan.record);
            }
        }
        Err(StoreError::Contended {
            key: authorizer_sk(appid),
        })
    }

    async fn revoke_authorizer(
        &self,
        appid: &AuthorizerAppid,
        event_time: Timestamp,
        now: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let Some(existing) = self.load_authorizer(appid).await? else {
                return Ok(None);
            };
            let Some(revoked) = plan_revocation(&existing, event_time, now) else {
                return Ok(Some(existing.record));
            };
            let update = "SET #status = :revoked, #revoked_at = :now, #updated_at = :now, #version = :next, #has_refresh_token = :false \
                          REMOVE #refresh_token, #access_token, #token_expires_at, #lease_owner, #lease_until";
            let values = HashMap::from([
                (":revoked".to_owned(), s(AuthorizerStatus::Revoked.as_str())),
                (":now".to_owned(), n(now.secs())),
                (":next".to_owned(), n(revoked.version)),
                (":false".to_owned(), AttributeValue::Bool(false)),
                (":v".to_owned(), n(existing.record.version)),
            ]);
            let writes = vec![
                self.update_item(
                    self.item_key(authorizer_sk(appid)),
                    update,
                    "#version = :v",
                    values,
                )?,
                self.history_put(
                    appid,
                    HistoryKind::Revoked,
                    &revoked.permission_ids,
                    revoked.ext.as_deref(),
                    now,
                )?,
            ];
            if self.transact(writes, "revoke an authorizer").await? {
                return Ok(Some(revoked));
            }
        }
        Err(StoreError::Contended {
            key: authorizer_sk(appid),
        })
    }

    async fn bind_ext(
        &self,
        appid: &AuthorizerAppid,
        ext: &str,
        now: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError> {
        self.bind_ext_once(appid, ext, now).await
    }

    async fn recover_refresh_token(
        &self,
        recovery: &Recovery<'_>,
        now: Timestamp,
    ) -> Result<RecoverOutcome, StoreError> {
        let listed = recovery.listed;
        let appid = &listed.authorizer_appid;
        let mut known = recovery.known;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let loaded;
            let existing = match known {
                Known::Stored(e) => Some(e),
                Known::Missing => None,
                Known::Unknown => {
                    loaded = self.load_authorizer(appid).await?;
                    loaded.as_ref()
                }
            };
            let outcome = rules::recovery(existing, listed);
            if outcome == RecoverOutcome::Unchanged {
                return Ok(outcome);
            }
            let (record, last_authorized_at) =
                recovered(existing, listed, recovery.permission_ids, now);
            let write = self
                .recovery_write(existing, listed, &record, last_authorized_at, now)
                .await?;
            let history = self.history_put(
                appid,
                HistoryKind::RefreshTokenRecovered,
                &record.permission_ids,
                None,
                now,
            )?;
            if self
                .transact(vec![write, history], "recover a refresh token")
                .await?
            {
                return Ok(outcome);
            }
            // What was believed stored changed meanwhile: read it and decide again.
            known = Known::Unknown;
        }
        Err(StoreError::Contended {
            key: authorizer_sk(appid),
        })
    }

    async fn save_info_snapshot(
        &self,
        appid: &AuthorizerAppid,
        snapshot: &InfoSnapshot,
    ) -> Result<(), StoreError> {
        // An older snapshot never replaces a newer one; a missing authorizer is not created.
        self.update(
            self.item_key(authorizer_sk(appid)),
            "SET #info_snapshot = :j, #info_fetched_at = :at",
            Some("attribute_exists(#pk) AND (attribute_not_exists(#info_fetched_at) OR #info_fetched_at < :at)"),
            HashMap::from([
                (":j".to_owned(), s(&snapshot.json)),
                (":at".to_owned(), n(snapshot.fetched_at.millis())),
            ]),
            false,
            "save an info snapshot",
        )
        .await
        .map(|_| ())
    }

    async fn exchanged_code(&self, code_hash: &str) -> Result<Option<AuthorizerAppid>, StoreError> {
        self.read_exchanged_code(code_hash).await
    }

    async fn save_pending_ext(&self, pending: &PendingExt<'_>) -> Result<(), StoreError> {
        self.write_pending_ext(pending).await
    }

    async fn pending_ext(&self, pre_auth_hash: &str) -> Result<Option<String>, StoreError> {
        self.read_pending_ext(pre_auth_hash).await
    }
}

#[async_trait]
impl AuthorizerListing for DynamoStore {
    async fn list_authorizers(
        &self,
        cursor: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<Option<AuthorizerPage>, StoreError> {
        let limit = limit.clamp(1, 1000);
        // With a cursor the range starts at the cursor's own item (BETWEEN is inclusive), so
        // one query both proves the cursor names a stored authorizer and reads the page after
        // it. '$' follows '#', so the range ends after every `authorizer#` key.
        let (key_condition, start, extra) = match cursor {
            Some(c) => (
                "#pk = :pk AND #sk BETWEEN :start AND :end",
                authorizer_sk(c),
                1,
            ),
            None => (
                "#pk = :pk AND begins_with(#sk, :start)",
                AUTHORIZER_PREFIX.to_owned(),
                0,
            ),
        };
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_condition)
            .projection_expression(PUBLIC_ATTRIBUTES)
            .set_expression_attribute_names(Some(names(&[key_condition, PUBLIC_ATTRIBUTES])))
            .expression_attribute_values(":pk", s(self.pk()))
            .expression_attribute_values(":start", s(start))
            .limit((limit + extra) as i32)
            .consistent_read(true);
        if cursor.is_some() {
            req = req.expression_attribute_values(":end", s("authorizer$"));
        }
        let out = req.send().await.map_err(unavailable("list authorizers"))?;
        let mut items = out
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
        if let Some(c) = cursor {
            if items.first().map(|r| &r.authorizer_appid) != Some(c) {
                return Ok(None);
            }
            items.remove(0);
        }
        let next_cursor = match out.last_evaluated_key {
            Some(_) => items.last().map(|r| r.authorizer_appid.clone()),
            None => None,
        };
        Ok(Some(AuthorizerPage { items, next_cursor }))
    }
}

#[async_trait]
impl HistoryReader for DynamoStore {
    async fn history(&self, appid: &AuthorizerAppid) -> Result<Vec<HistoryEntry>, StoreError> {
        let query = || {
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_values(":pk", s(self.history_pk(appid)))
                .consistent_read(true)
        };
        self.query_all(query, parse_history, "read an authorizer's history")
            .await
    }
}
