//! Reading and writing the attributes of the table's items.

use super::expr::{n, names, s, Item};
use super::{unbuildable, Attrs, DynamoStore};
use crate::clock::Timestamp;
use crate::store::{CachedToken, InfoSnapshot, Lease, StoreError, StoredAuthorizer, TokenSlot};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use std::collections::HashMap;
use wxopen_models::records::{AuthorizerRecord, AuthorizerStatus, HistoryEntry, HistoryKind};
use wxopen_models::{AccessToken, AuthorizerAppid, PermissionId, RefreshToken};

pub(super) const SK_TICKET: &str = "ticket";
/// When `api_start_push_ticket` was last called, across instances.
pub(super) const SK_TICKET_REQUEST: &str = "ticket_request";
pub(super) const SK_COMPONENT_TOKEN: &str = "component_token";
pub(super) const AUTHORIZER_PREFIX: &str = "authorizer#";
/// The public attributes of an authorizer, for listings: no secret is read.
pub(super) const PUBLIC_ATTRIBUTES: &str = "#appid, #status, #permission_ids, #authorized_at, #updated_at, #revoked_at, #version, #has_refresh_token, #last_authorized_at, #ext";

pub(super) fn authorizer_sk(appid: &AuthorizerAppid) -> String {
    format!("{AUTHORIZER_PREFIX}{appid}")
}

pub(super) fn code_sk(code_hash: &str) -> String {
    format!("code#{code_hash}")
}

pub(super) fn pending_ext_sk(pre_auth_hash: &str) -> String {
    format!("preauth#{pre_auth_hash}")
}

pub(super) fn permission_list(ids: &[PermissionId]) -> AttributeValue {
    AttributeValue::L(ids.iter().map(|id| n(id.0)).collect())
}

fn parse_token(item: &Item<'_>) -> Result<Option<CachedToken>, StoreError> {
    match (
        item.opt_s("access_token")?,
        item.opt_i64("token_expires_at")?,
    ) {
        (Some(token), Some(expires_at)) => Ok(Some(CachedToken {
            token: AccessToken::new(token),
            expires_at: Timestamp::from_secs(expires_at),
        })),
        _ => Ok(None),
    }
}

fn parse_lease(item: &Item<'_>) -> Result<Option<Lease>, StoreError> {
    match (item.opt_s("lease_owner")?, item.opt_i64("lease_until")?) {
        (Some(owner), Some(until)) => Ok(Some(Lease {
            owner,
            until: Timestamp::from_millis(until),
        })),
        _ => Ok(None),
    }
}

pub(super) fn parse_slot(map: &Attrs) -> Result<TokenSlot, StoreError> {
    let item = Item {
        key: SK_COMPONENT_TOKEN,
        map,
    };
    Ok(TokenSlot {
        token: parse_token(&item)?,
        lease: parse_lease(&item)?,
        credentials: None,
    })
}

pub(super) fn parse_record(item: &Item<'_>) -> Result<AuthorizerRecord, StoreError> {
    let appid =
        AuthorizerAppid::parse(item.req_s("appid")?).map_err(|e| item.corrupt(e.to_string()))?;
    let status_text = item.req_s("status")?;
    let status = AuthorizerStatus::parse(&status_text)
        .ok_or_else(|| item.corrupt(format!("unknown status {status_text:?}")))?;
    Ok(AuthorizerRecord {
        authorizer_appid: appid,
        status,
        permission_ids: permission_ids(item)?,
        authorized_at: item.req_i64("authorized_at")?,
        updated_at: item.req_i64("updated_at")?,
        revoked_at: item.opt_i64("revoked_at")?,
        version: item.req_i64("version")?.max(0) as u64,
        has_refresh_token: matches!(
            item.map.get("has_refresh_token"),
            Some(AttributeValue::Bool(true))
        ),
        ext: item.opt_s("ext")?,
    })
}

fn permission_ids(item: &Item<'_>) -> Result<Vec<PermissionId>, StoreError> {
    Ok(item
        .u32_list("permission_ids")?
        .into_iter()
        .map(PermissionId)
        .collect())
}

pub(super) fn parse_authorizer(map: &Attrs) -> Result<StoredAuthorizer, StoreError> {
    let sk = match map.get("sk") {
        Some(AttributeValue::S(sk)) => sk.as_str(),
        _ => "authorizer",
    };
    let item = Item { key: sk, map };
    let info = match (
        item.opt_s("info_snapshot")?,
        item.opt_i64("info_fetched_at")?,
    ) {
        (Some(json), Some(at)) => Some(InfoSnapshot {
            json,
            fetched_at: Timestamp::from_millis(at),
        }),
        _ => None,
    };
    Ok(StoredAuthorizer {
        record: parse_record(&item)?,
        refresh_token: item.opt_s("refresh_token")?.map(RefreshToken::new),
        access: parse_token(&item)?,
        lease: parse_lease(&item)?,
        info,
        last_authorized_at: Timestamp::from_secs(item.req_i64("last_authorized_at")?),
    })
}

pub(super) fn parse_history(map: &Attrs) -> Result<HistoryEntry, StoreError> {
    let item = Item {
        key: "history",
        map,
    };
    let kind_text = item.req_s("kind")?;
    Ok(HistoryEntry {
        kind: HistoryKind::parse(&kind_text)
            .ok_or_else(|| item.corrupt(format!("unknown kind {kind_text:?}")))?,
        at_ms: item.req_i64("at_ms")?,
        permission_ids: permission_ids(&item)?,
        ext: item.opt_s("ext")?,
    })
}

/// The attributes of a whole authorizer item.
pub(super) struct AuthorizerItem<'a> {
    pub record: &'a AuthorizerRecord,
    pub last_authorized_at: Timestamp,
    pub refresh_token: Option<&'a RefreshToken>,
    pub access: Option<&'a CachedToken>,
    pub info: Option<&'a InfoSnapshot>,
}

impl DynamoStore {
    pub(super) fn authorizer_item(&self, a: AuthorizerItem<'_>) -> Attrs {
        let record = a.record;
        let mut item = self.item_key(authorizer_sk(&record.authorizer_appid));
        item.insert("appid".into(), s(record.authorizer_appid.as_str()));
        item.insert("status".into(), s(record.status.as_str()));
        item.insert(
            "permission_ids".into(),
            permission_list(&record.permission_ids),
        );
        item.insert("authorized_at".into(), n(record.authorized_at));
        item.insert("last_authorized_at".into(), n(a.last_authorized_at.secs()));
        item.insert("updated_at".into(), n(record.updated_at));
        item.insert("version".into(), n(record.version));
        item.insert(
            "has_refresh_token".into(),
            AttributeValue::Bool(record.has_refresh_token),
        );
        if let Some(rt) = a.refresh_token {
            item.insert("refresh_token".into(), s(rt.expose()));
        }
        if let Some(ext) = &record.ext {
            item.insert("ext".into(), s(ext));
        }
        if let Some(access) = a.access {
            item.insert("access_token".into(), s(access.token.expose()));
            item.insert("token_expires_at".into(), n(access.expires_at.secs()));
        }
        if let Some(info) = a.info {
            item.insert("info_snapshot".into(), s(&info.json));
            item.insert("info_fetched_at".into(), n(info.fetched_at.millis()));
        }
        item
    }

    /// A put inside a transaction, conditional on the item not existing (`expected_version`
    /// `None`) or on its version.
    pub(super) fn put_item(
        &self,
        item: Attrs,
        expected_version: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let (condition, values) = match expected_version {
            None => ("attribute_not_exists(#pk)", None),
            Some(v) => (
                "#version = :v",
                Some(HashMap::from([(":v".to_owned(), n(v))])),
            ),
        };
        self.conditional_put(item, condition, values)
    }

    /// A put inside a transaction, under `condition` with `values`.
    pub(super) fn conditional_put(
        &self,
        item: Attrs,
        condition: &str,
        values: Option<Attrs>,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .set_expression_attribute_values(values)
            .build()
            .map_err(unbuildable("build a put"))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// An unconditional put inside a transaction.
    pub(super) fn plain_put(&self, item: Attrs) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(unbuildable("build a put"))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The history item of a change.
    pub(super) fn history_put(
        &self,
        appid: &AuthorizerAppid,
        kind: HistoryKind,
        permission_ids: &[PermissionId],
        ext: Option<&str>,
        at: Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        let sk = format!(
            "{:013}#{}#{:08x}",
            at.millis(),
            kind.as_str(),
            rand::random::<u32>()
        );
        let mut item = self.key(self.history_pk(appid), sk);
        item.insert("kind".into(), s(kind.as_str()));
        item.insert("at_ms".into(), n(at.millis()));
        item.insert("permission_ids".into(), permission_list(permission_ids));
        if let Some(ext) = ext {
            item.insert("ext".into(), s(ext));
        }
        self.plain_put(item)
    }
}
