//! Registrations on DynamoDB: one item per registration (`registration#<id>`) and one per key
//! that finds it (`regkey#<key>`, naming the registration), all with the table's TTL. The
//! identity key is taken with a conditional write, so two instances starting the same
//! registration store one, and WeChat is called once.

use super::expr::{n, s, Item};
use super::{Attrs, DynamoStore, MAX_WRITE_ATTEMPTS};
use crate::clock::Timestamp;
use crate::store::{
    NewRegistration, RegistrationEnd, RegistrationStore, RegistrationUpdate, Started, StoreError,
    StoredRegistration,
};
use async_trait::async_trait;
use std::collections::HashMap;
use wxopen_models::registration::RegistrationKind;
use wxopen_models::AuthorizerAppid;

fn registration_sk(id: &str) -> String {
    format!("registration#{id}")
}

fn key_sk(key: &str) -> String {
    format!("regkey#{key}")
}

fn parse_registration(sk: &str, map: &Attrs) -> Result<StoredRegistration, StoreError> {
    let item = Item { key: sk, map };
    let kind_text = item.req_s("kind")?;
    let kind = RegistrationKind::parse(&kind_text)
        .ok_or_else(|| item.corrupt(format!("unknown kind {kind_text:?}")))?;
    let appid = item
        .opt_s("appid")?
        .map(|a| AuthorizerAppid::parse(a).map_err(|e| item.corrupt(e.to_string())))
        .transpose()?;
    let end = match item.req_s("state")?.as_str() {
        "waiting" => None,
        "registered" => {
            Some(RegistrationEnd::Registered(appid.clone().ok_or_else(
                || item.corrupt("a registered registration without appid"),
            )?))
        }
        "failed" => Some(RegistrationEnd::Failed {
            status: item.req_i64("status")?,
            reason: item.req_s("reason")?,
        }),
        other => return Err(item.corrupt(format!("unknown state {other:?}"))),
    };
    Ok(StoredRegistration {
        id: item.req_s("registration_id")?,
        kind,
        ext: item.req_s("ext")?,
        end,
        created_at: Timestamp::from_secs(item.req_i64("created_at")?),
        deadline: Timestamp::from_secs(item.req_i64("deadline")?),
        verification_url: item.opt_s("verification_url")?,
        appid,
    })
}

impl DynamoStore {
    /// The item of key `key` naming registration `id`, kept until `keep_until`.
    fn registration_key_item(&self, key: &str, id: &str, keep_until: Timestamp) -> Attrs {
        let mut item = self.item_key(key_sk(key));
        item.insert("registration_id".into(), s(id));
        item.insert("expires_at".into(), n(keep_until.secs()));
        item
    }

    /// The registration a key item names, if both are there.
    async fn registration_by_key(
        &self,
        key: &str,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let sk = key_sk(key);
        let Some(map) = self.get_raw(sk.clone(), "read a registration key").await? else {
            return Ok(None);
        };
        let id = Item {
            key: &sk,
            map: &map,
        }
        .req_s("registration_id")?;
        self.registration(&id).await
    }
}

#[async_trait]
impl RegistrationStore for DynamoStore {
    async fn start_registration(
        &self,
        new: &NewRegistration<'_>,
        now: Timestamp,
    ) -> Result<Started, StoreError> {
        let mut item = self.item_key(registration_sk(new.id));
        item.insert("registration_id".into(), s(new.id));
        item.insert("kind".into(), s(new.kind.as_str()));
        item.insert("ext".into(), s(new.ext));
        item.insert("state".into(), s("waiting"));
        item.insert("created_at".into(), n(new.created_at.secs()));
        item.insert("updated_at".into(), n(new.created_at.secs()));
        item.insert("deadline".into(), n(new.deadline.secs()));
        item.insert("expires_at".into(), n(new.keep_until.secs()));
        let key = self.registration_key_item(new.identity, new.id, new.keep_until);
        // The identity's key is free, or held by a registration that ended or expired: that
        // one is replaced only if it still names the registration read.
        let mut holder: Option<String> = None;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let key_write = match &holder {
                None => self.conditional_put(key.clone(), "attribute_not_exists(#pk)", None)?,
                Some(old) => self.conditional_put(
                    key.clone(),
                    "#registration_id = :old",
                    Some(HashMap::from([(":old".to_owned(), s(old))])),
                )?,
            };
            let writes = vec![
                self.conditional_put(item.clone(), "attribute_not_exists(#pk)", None)?,
                key_write,
            ];
            if self.transact(writes, "store a registration").await? {
                return Ok(Started::New);
            }
            match self.registration_by_key(new.identity).await? {
                Some(existing) if existing.is_live(now) => return Ok(Started::Existing(existing)),
                Some(ended) => holder = Some(ended.id),
                // The key names a registration already deleted, or vanished meanwhile.
                None => {
                    let sk = key_sk(new.identity);
                    holder = match self.get_raw(sk.clone(), "read a registration key").await? {
                        Some(map) => Some(
                            Item {
                                key: &sk,
                                map: &map,
                            }
                            .req_s("registration_id")?,
                        ),
                        None => None,
                    };
                }
            }
        }
        Err(StoreError::Contended {
            key: key_sk(new.identity),
        })
    }

    async fn update_registration(
        &self,
        id: &str,
        update: &RegistrationUpdate<'_>,
    ) -> Result<(), StoreError> {
        let sk = registration_sk(id);
        let Some(map) = self.get_raw(sk.clone(), "read a registration").await? else {
            return Ok(());
        };
        let stored = parse_registration(&sk, &map)?;
        let keep_until = Timestamp::from_secs(
            Item {
                key: &sk,
                map: &map,
            }
            .req_i64("expires_at")?,
        );
        let mut sets = vec!["#updated_at = :now"];
        let mut values = HashMap::from([(":now".to_owned(), n(Timestamp::now().secs()))]);
        if let Some(url) = update.verification_url {
            sets.push("#verification_url = :url");
            values.insert(":url".into(), s(url));
        }
        if let Some(appid) = update.appid.filter(|_| stored.appid.is_none()) {
            sets.push("#appid = :appid");
            values.insert(":appid".into(), s(appid.as_str()));
        }
        let mut writes = vec![self.update_item(
            self.item_key(sk),
            &format!("SET {}", sets.join(", ")),
            "attribute_exists(#pk)",
            values,
        )?];
        for key in update.keys {
            writes.push(self.plain_put(self.registration_key_item(key, id, keep_until))?);
        }
        // A transaction holds at most 100 writes; a registration has a handful of keys.
        self.transact(writes, "update a registration").await?;
        Ok(())
    }

    async fn registration(&self, id: &str) -> Result<Option<StoredRegistration>, StoreError> {
        let sk = registration_sk(id);
        self.get_raw(sk.clone(), "read a registration")
            .await?
            .map(|map| parse_registration(&sk, &map))
            .transpose()
    }

    async fn find_registration(
        &self,
        keys: &[String],
    ) -> Result<Option<StoredRegistration>, StoreError> {
        for key in keys {
            if let Some(found) = self.registration_by_key(key).await? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    async fn end_registration(
        &self,
        id: &str,
        end: &RegistrationEnd,
        now: Timestamp,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let (update, mut values) = match end {
            RegistrationEnd::Registered(appid) => (
                "SET #state = :state, #appid = :appid, #updated_at = :now",
                HashMap::from([
                    (":state".to_owned(), s("registered")),
                    (":appid".to_owned(), s(appid.as_str())),
                ]),
            ),
            RegistrationEnd::Failed { status, reason } => (
                "SET #state = :state, #status = :status, #reason = :reason, #updated_at = :now",
                HashMap::from([
                    (":state".to_owned(), s("failed")),
                    (":status".to_owned(), n(*status)),
                    (":reason".to_owned(), s(reason)),
                ]),
            ),
        };
        values.insert(":now".into(), n(now.secs()));
        values.insert(":waiting".into(), s("waiting"));
        // Only a waiting registration ends: the first end stays whatever arrives later. The
        // write answers the ended item; only when it had ended already is it read.
        let ended = self
            .update(
                self.item_key(registration_sk(id)),
                update,
                Some("#state = :waiting"),
                values,
                true,
                "end a registration",
            )
            .await?;
        match ended {
            Some(map) => parse_registration(&registration_sk(id), &map).map(Some),
            None => self.registration(id).await,
        }
    }
}
