//! Registrations, held and found by key as the DynamoDB adapter holds them.

use super::MemoryStore;
use crate::clock::Timestamp;
use crate::store::{
    NewRegistration, RegistrationEnd, RegistrationStore, RegistrationUpdate, Started, StoreError,
    StoredRegistration,
};
use async_trait::async_trait;

#[async_trait]
impl RegistrationStore for MemoryStore {
    async fn start_registration(
        &self,
        new: &NewRegistration<'_>,
        now: Timestamp,
    ) -> Result<Started, StoreError> {
        Ok(self.with(|c| {
            let (by_id, keys) = &mut c.registrations;
            let holder = keys.get(new.identity).and_then(|id| by_id.get(id));
            if let Some(live) = holder.filter(|r| r.is_live(now)) {
                return Started::Existing(live.clone());
            }
            by_id.insert(
                new.id.to_owned(),
                StoredRegistration {
                    id: new.id.to_owned(),
                    kind: new.kind,
                    ext: new.ext.to_owned(),
                    end: None,
                    created_at: new.created_at,
                    deadline: new.deadline,
                    verification_url: None,
                    appid: None,
                },
            );
            keys.insert(new.identity.to_owned(), new.id.to_owned());
            Started::New
        }))
    }

    async fn update_registration(
        &self,
        id: &str,
        update: &RegistrationUpdate<'_>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let (by_id, keys) = &mut c.registrations;
            let Some(stored) = by_id.get_mut(id) else {
                return;
            };
            if let Some(url) = update.verification_url {
                stored.verification_url = Some(url.to_owned());
            }
            if let Some(appid) = update.appid {
                stored.appid = Some(appid.clone());
            }
            for key in update.keys {
                keys.insert(key.clone(), id.to_owned());
            }
        });
        Ok(())
    }

    async fn registration(&self, id: &str) -> Result<Option<StoredRegistration>, StoreError> {
        Ok(self.with(|c| c.registrations.0.get(id).cloned()))
    }

    async fn find_registration(
        &self,
        keys: &[String],
    ) -> Result<Option<StoredRegistration>, StoreError> {
        Ok(self.with(|c| {
            let (by_id, by_key) = &c.registrations;
            keys.iter()
                .find_map(|k| by_key.get(k).and_then(|id| by_id.get(id)))
                .cloned()
        }))
    }

    async fn end_registration(
        &self,
        id: &str,
        end: &RegistrationEnd,
        _now: Timestamp,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        Ok(self.with(|c| {
            let stored = c.registrations.0.get_mut(id)?;
            if stored.end.is_none() {
                stored.end = Some(end.clone());
                if let RegistrationEnd::Registered(appid) = end {
                    stored.appid = Some(appid.clone());
                }
            }
            Some(stored.clone())
        }))
    }
}
