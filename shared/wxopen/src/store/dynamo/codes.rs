//! The short-lived items around an authorization, each with a TTL: the codes already exchanged
//! (so a redelivered code finds its account) and the `ext` waiting for its authorization.

use super::expr::{n, s, Item};
use super::items::{code_sk, pending_ext_sk};
use super::DynamoStore;
use crate::clock::Timestamp;
use crate::store::{PendingExt, StoreError};
use wxopen_models::AuthorizerAppid;

impl DynamoStore {
    /// An item with a TTL, `None` once it has expired: TTL deletion is lazy, so an expired
    /// item may still be read.
    async fn get_unexpired(
        &self,
        sk: &str,
        operation: &'static str,
    ) -> Result<Option<super::Attrs>, StoreError> {
        let Some(map) = self.get(sk.to_owned(), operation).await? else {
            return Ok(None);
        };
        let expired = Item { key: sk, map: &map }
            .opt_i64("expires_at")?
            .is_some_and(|e| e < Timestamp::now().secs());
        Ok((!expired).then_some(map))
    }

    /// The account an authorization code was exchanged for, while the record lives.
    pub(super) async fn read_exchanged_code(
        &self,
        code_hash: &str,
    ) -> Result<Option<AuthorizerAppid>, StoreError> {
        let sk = code_sk(code_hash);
        let Some(map) = self.get_unexpired(&sk, "read an exchanged code").await? else {
            return Ok(None);
        };
        let item = Item {
            key: &sk,
            map: &map,
        };
        AuthorizerAppid::parse(item.req_s("appid")?)
            .map(Some)
            .map_err(|e| item.corrupt(e.to_string()))
    }

    /// Remembers the `ext` of the authorization a pre-auth code starts, until `until`.
    pub(super) async fn write_pending_ext(&self, p: &PendingExt<'_>) -> Result<(), StoreError> {
        let mut item = self.item_key(pending_ext_sk(p.pre_auth_hash));
        item.insert("ext".into(), s(p.ext));
        item.insert("expires_at".into(), n(p.until.secs()));
        self.put(item, "remember the ext of an authorization").await
    }

    /// The `ext` remembered for a pre-auth code, while it lives.
    pub(super) async fn read_pending_ext(
        &self,
        pre_auth_hash: &str,
    ) -> Result<Option<String>, StoreError> {
        let sk = pending_ext_sk(pre_auth_hash);
        match self
            .get_unexpired(&sk, "read the ext of an authorization")
            .await?
        {
            Some(map) => Item {
                key: &sk,
                map: &map,
            }
            .opt_s("ext"),
            None => Ok(None),
        }
    }
}
