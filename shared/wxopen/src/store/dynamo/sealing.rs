//! Tokens sealed at rest ([`crate::seal`]): the component's data keys are items of its
//! partition (`data_key#<13-digit ms>`, the wrapped key and the KMS key that wrapped it); the
//! newest seals, every one still opens. A container unwraps each key it meets once and keeps
//! it in memory; it looks for a newer key every [`RECHECK`] (one `Query`, no KMS call unless
//! there is one), so a rotation reaches running containers without a restart.

use super::expr::{names, s};
use super::{unavailable, Attrs, DynamoStore};
use crate::clock::Timestamp;
use crate::seal::{DataKey, KeyUnavailable, KeyVault, OpenError, Stored};
use crate::store::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The attributes that hold tokens: sealed on every write, opened on every read.
pub(super) const SEALED_ATTRIBUTES: [&str; 3] = ["refresh_token", "access_token", "ticket"];
const DATA_KEY_PREFIX: &str = "data_key#";
/// How often a container looks for a newer data key.
pub const RECHECK: Duration = Duration::from_secs(15 * 60);

/// The vault and the keys one container has unwrapped, for one component.
pub struct Keys {
    vault: Arc<dyn KeyVault>,
    by_id: RwLock<HashMap<String, DataKey>>,
    current: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self
            .cached()
            .into_iter()
            .map(|k| k.id().to_owned())
            .collect();
        f.debug_struct("Keys").field("unwrapped", &ids).finish()
    }
}

impl Keys {
    /// No key unwrapped yet.
    pub fn new(vault: Arc<dyn KeyVault>) -> Self {
        Self {
            vault,
            by_id: RwLock::new(HashMap::new()),
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// The same vault, no key unwrapped (for another component).
    pub fn fresh(&self) -> Self {
        Self::new(self.vault.clone())
    }

    fn cached(&self) -> Vec<DataKey> {
        let keys = self.by_id.read().unwrap_or_else(|e| e.into_inner());
        keys.values().cloned().collect()
    }

    fn get(&self, id: &str) -> Option<DataKey> {
        let keys = self.by_id.read().unwrap_or_else(|e| e.into_inner());
        keys.get(id).cloned()
    }

    fn insert(&self, key: DataKey) {
        let mut keys = self.by_id.write().unwrap_or_else(|e| e.into_inner());
        keys.insert(key.id().to_owned(), key);
    }
}

/// The associated data of an attribute: the item's key and the attribute's name.
pub(super) fn aad(key: &Attrs, attribute: &str) -> String {
    let part = |name: &str| match key.get(name) {
        Some(AttributeValue::S(v)) => v.as_str(),
        _ => "",
    };
    format!("{}\n{}\n{attribute}", part("pk"), part("sk"))
}

fn key_unavailable(e: KeyUnavailable) -> StoreError {
    crate::telemetry::key_unavailable();
    StoreError::KeyUnavailable(e)
}

/// Data keys: found, created and unwrapped once per container.
impl DynamoStore {
    /// The data key new writes are sealed with, created (one `GenerateDataKey`) when the
    /// component has none.
    async fn current_key(&self) -> Result<DataKey, StoreError> {
        self.newest_key(RECHECK).await
    }

    /// The newest data key, looked up again when the one held was checked `within` ago or
    /// earlier (`Duration::ZERO`: now).
    pub(super) async fn newest_key(&self, within: Duration) -> Result<DataKey, StoreError> {
        let mut current = self.keys.current.lock().await;
        if let Some((id, checked)) = current.as_ref() {
            if checked.elapsed() < within {
                if let Some(key) = self.keys.get(id) {
                    return Ok(key);
                }
            }
        }
        for _ in 0..2 {
            let key = match self.newest_wrapped_key().await? {
                Some((id, wrapped)) => self.unwrapped(&id, &wrapped).await?,
                None => match self.create_data_key().await? {
                    Some(key) => key,
                    None => continue, // another instance created the first key: read it
                },
            };
            *current = Some((key.id().to_owned(), Instant::now()));
            return Ok(key);
        }
        Err(StoreError::Contended {
            key: DATA_KEY_PREFIX.to_owned(),
        })
    }

    /// A new data key, stored as the newest; `None` if an item of that id already exists.
    pub(super) async fn create_data_key(&self) -> Result<Option<DataKey>, StoreError> {
        let context = self.component.as_str();
        let generated = self
            .keys
            .vault
            .generate(context)
            .await
            .map_err(key_unavailable)?;
        let id = format!("{:013}", Timestamp::now().millis());
        let key = DataKey::new(&id, &generated.plaintext).ok_or_else(|| {
            key_unavailable(KeyUnavailable {
                reason: "GenerateDataKey answered with a key that is not 256 bits".into(),
            })
        })?;
        let mut item = self.item_key(format!("{DATA_KEY_PREFIX}{id}"));
        item.insert(
            "wrapped".into(),
            AttributeValue::B(generated.wrapped.into()),
        );
        item.insert("created_at".into(), super::expr::n(Timestamp::now().secs()));
        let condition = "attribute_not_exists(#pk)";
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .send()
            .await;
        match put {
            Ok(_) => {
                self.keys.insert(key.clone());
                Ok(Some(key))
            }
            Err(e) if super::is_condition_failure(&e) => Ok(None),
            Err(e) => Err(unavailable("store a data key")(e)),
        }
    }

    /// The id and wrapped bytes of the newest data key, if any.
    async fn newest_wrapped_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let condition = "#pk = :pk AND begins_with(#sk, :prefix)";
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .expression_attribute_values(":pk", s(self.pk()))
            .expression_attribute_values(":prefix", s(DATA_KEY_PREFIX))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable("read the newest data key"))?;
        let Some(map) = out.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        wrapped_key(&map).map(Some)
    }

    /// Starts looking up (or creating) the newest data key in the background, at cold start,
    /// so the first request finds it unwrapped instead of waiting for the lookup and KMS in
    /// turn. A failure is only logged: the request that needs the key tries again and answers
    /// its error.
    pub fn warm_up(&self) {
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.current_key().await {
                tracing::warn!(error = %e, "the data key could not be loaded at start-up");
            }
        });
    }

    /// Makes `key`, just created, the one new writes are sealed with here.
    pub(super) async fn adopt(&self, key: &DataKey) {
        *self.keys.current.lock().await = Some((key.id().to_owned(), Instant::now()));
    }

    /// The data key `id`, unwrapped once per container.
    pub(super) async fn data_key(&self, id: &str) -> Result<Option<DataKey>, StoreError> {
        if let Some(key) = self.keys.get(id) {
            return Ok(Some(key));
        }
        // Usually the value was sealed by the newest key, which the start-up's lookup (perhaps
        // still in flight) unwraps: wait for it rather than unwrap the same key twice.
        if self.current_key().await?.id() == id {
            return Ok(self.keys.get(id));
        }
        let Some(map) = self
            .get_raw(format!("{DATA_KEY_PREFIX}{id}"), "read a data key")
            .await?
        else {
            return Ok(None);
        };
        let (id, wrapped) = wrapped_key(&map)?;
        self.unwrapped(&id, &wrapped).await.map(Some)
    }

    async fn unwrapped(&self, id: &str, wrapped: &[u8]) -> Result<DataKey, StoreError> {
        if let Some(key) = self.keys.get(id) {
            return Ok(key);
        }
        let context = self.component.as_str();
        let plain = self
            .keys
            .vault
            .unwrap(wrapped, context)
            .await
            .map_err(key_unavailable)?;
        let key = DataKey::new(id, &plain).ok_or_else(|| StoreError::Corrupt {
            key: format!("{DATA_KEY_PREFIX}{id}"),
            reason: "the data key is not 256 bits".into(),
        })?;
        self.keys.insert(key.clone());
        Ok(key)
    }
}

/// Token values: sealed under the newest key on the way in, opened with their own key on the way
/// out.
impl DynamoStore {
    /// `plaintext` sealed for `attribute` of the item `key`.
    pub(super) async fn sealed(
        &self,
        key: &Attrs,
        attribute: &str,
        plaintext: &str,
    ) -> Result<AttributeValue, StoreError> {
        let data_key = self.current_key().await?;
        Ok(s(data_key.seal(&aad(key, attribute), plaintext)))
    }

    /// Every token attribute of a whole item to be put, sealed in place.
    pub(super) async fn seal_item(&self, item: &mut Attrs) -> Result<(), StoreError> {
        for attribute in SEALED_ATTRIBUTES {
            if let Some(AttributeValue::S(plain)) = item.get(attribute) {
                let sealed = self.sealed(item, attribute, &plain.clone()).await?;
                item.insert(attribute.to_owned(), sealed);
            }
        }
        Ok(())
    }

    /// A condition that `attribute` of the item `key` still holds `plaintext`, in any form it
    /// may be stored in: sealed under each key this container holds (sealing is deterministic,
    /// and the stored value was opened here with its key), or plaintext from before sealing.
    /// Its values are named `:<name>0`, `:<name>1`, ...
    pub(super) async fn still_holds(
        &self,
        key: &Attrs,
        attribute: &str,
        plaintext: &str,
        name: &str,
    ) -> Result<(String, Attrs), StoreError> {
        self.current_key().await?;
        let aad = aad(key, attribute);
        let mut forms: Vec<AttributeValue> = self
            .keys
            .cached()
            .iter()
            .map(|k| s(k.seal(&aad, plaintext)))
            .collect();
        forms.push(s(plaintext));
        let values: Attrs = forms
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!(":{name}{i}"), v))
            .collect();
        let mut placeholders: Vec<&String> = values.keys().collect();
        placeholders.sort();
        let list: Vec<&str> = placeholders.iter().map(|p| p.as_str()).collect();
        Ok((format!("#{attribute} IN ({})", list.join(", ")), values))
    }

    /// Every token attribute of a read item, opened in place. A plaintext token (written
    /// before sealing) is kept as it is and counted.
    pub(super) async fn open_item(&self, item: &mut Attrs) -> Result<(), StoreError> {
        for attribute in SEALED_ATTRIBUTES {
            let Some(AttributeValue::S(value)) = item.get(attribute) else {
                continue;
            };
            let Stored::Sealed { key_id } = Stored::of(value) else {
                crate::telemetry::plaintext_token_read();
                continue;
            };
            let plain = self.open_value(item, attribute, key_id, value).await?;
            item.insert(attribute.to_owned(), s(plain));
        }
        Ok(())
    }

    /// The plaintext of `value`, sealed under the data key `key_id` for `attribute` of the item
    /// `key`.
    pub(super) async fn open_value(
        &self,
        key: &Attrs,
        attribute: &str,
        key_id: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        let unsealable = |reason: String| StoreError::Unsealable {
            key: sk_of(key),
            attribute: attribute.to_owned(),
            reason,
        };
        let Some(data_key) = self.data_key(key_id).await? else {
            return Err(unsealable(format!("its data key {key_id} is not stored")));
        };
        data_key
            .open(&aad(key, attribute), value)
            .map_err(|e: OpenError| unsealable(e.to_string()))
    }
}

fn sk_of(map: &Attrs) -> String {
    match map.get("sk") {
        Some(AttributeValue::S(sk)) => sk.clone(),
        _ => String::new(),
    }
}

fn wrapped_key(map: &Attrs) -> Result<(String, Vec<u8>), StoreError> {
    let sk = match map.get("sk") {
        Some(AttributeValue::S(sk)) => sk.as_str(),
        _ => DATA_KEY_PREFIX,
    };
    let id = sk
        .strip_prefix(DATA_KEY_PREFIX)
        .unwrap_or_default()
        .to_owned();
    match map.get("wrapped") {
        Some(AttributeValue::B(blob)) if !id.is_empty() => Ok((id, blob.clone().into_inner())),
        _ => Err(StoreError::Corrupt {
            key: sk.to_owned(),
            reason: "a data key item without its wrapped key".into(),
        }),
    }
}
