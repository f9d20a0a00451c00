//! Authorizer records, their history and the listing, in memory.

use super::*;

#[async_trait]
impl AuthorizerStore for MemoryStore {
    async fn load_authorizer(
        &self,
        appid: &AuthorizerAppid,
    ) -> Result<Option<StoredAuthorizer>, StoreError> {
        Ok(self.with(|c| c.authorizers.get(appid).cloned()))
    }

    async fn save_authorization(
        &self,
        new: &NewAuthorization,
        granted_at: Timestamp,
        at: Timestamp,
    ) -> Result<AuthorizerRecord, StoreError> {
        Ok(self.with(|c| {
            let appid = &new.authorizer_appid;
            let existing = c.authorizers.get(appid);
            let plan = plan_authorization(existing, new, granted_at, at);
            let stored = StoredAuthorizer {
                record: plan.record.clone(),
                refresh_token: plan.refresh_token,
                access: new.access.clone(),
                lease: None,
                info: existing.and_then(|e| e.info.clone()),
                last_authorized_at: plan.last_authorized_at,
            };
            c.authorizers.insert(appid.clone(), stored);
            c.record_history(
                appid,
                plan.kind,
                &plan.record.permission_ids,
                plan.record.ext.as_deref(),
                at,
            );
            if let Some(hash) = &new.code_hash {
                c.codes
                    .insert(hash.clone(), (appid.clone(), at.plus(EXCHANGED_CODE_TTL)));
            }
            plan.record
        }))
    }

    async fn revoke_authorizer(
        &self,
        appid: &AuthorizerAppid,
        sent_at: Timestamp,
        at: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError> {
        Ok(self.with(|c| {
            let existing = c.authorizers.get_mut(appid)?;
            let Some(revoked) = plan_revocation(existing, sent_at, at) else {
                return Some(existing.record.clone());
            };
            existing.record = revoked.clone();
            existing.refresh_token = None;
            existing.access = None;
            existing.lease = None;
            c.record_history(
                appid,
                HistoryKind::Revoked,
                &revoked.permission_ids,
                revoked.ext.as_deref(),
                at,
            );
            Some(revoked)
        }))
    }

    async fn bind_ext(
        &self,
        appid: &AuthorizerAppid,
        ext: &str,
        at: Timestamp,
    ) -> Result<Option<AuthorizerRecord>, StoreError> {
        Ok(self.with(|c| {
            let existing = c.authorizers.get_mut(appid)?;
            if existing.record.ext.is_some() {
                return Some(existing.record.clone());
            }
            existing.record.ext = Some(ext.to_owned());
            existing.record.version += 1;
            existing.record.updated_at = at.secs();
            let record = existing.record.clone();
            c.record_history(
                appid,
                HistoryKind::Authorized,
                &record.permission_ids,
                Some(ext),
                at,
            );
            Some(record)
        }))
    }

    async fn recover_refresh_token(
        &self,
        wanted: &Recovery<'_>,
        at: Timestamp,
    ) -> Result<RecoverOutcome, StoreError> {
        // Each call is atomic here: what is stored now decides, whatever the caller believed.
        let (listed, appid) = (wanted.listed, &wanted.listed.authorizer_appid);
        Ok(self.with(|c| {
            let existing = c.authorizers.get(appid);
            let outcome = rules::recovery(existing, listed);
            if outcome == RecoverOutcome::Unchanged {
                return outcome;
            }
            let (record, last_authorized_at) =
                recovered(existing, listed, wanted.permission_ids, at);
            let info = existing.and_then(|e| e.info.clone());
            let ids = record.permission_ids.clone();
            c.record_history(appid, HistoryKind::RefreshTokenRecovered, &ids, None, at);
            c.authorizers.insert(
                appid.clone(),
                StoredAuthorizer {
                    record,
                    refresh_token: Some(listed.refresh_token.clone()),
                    access: None,
                    lease: None,
                    info,
                    last_authorized_at,
                },
            );
            outcome
        }))
    }

    async fn save_info_snapshot(
        &self,
        appid: &AuthorizerAppid,
        snapshot: &InfoSnapshot,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            if let Some(a) = c.authorizers.get_mut(appid) {
                if a.info
                    .as_ref()
                    .is_none_or(|i| i.fetched_at < snapshot.fetched_at)
                {
                    a.info = Some(snapshot.clone());
                }
            }
        });
        Ok(())
    }

    async fn exchanged_code(&self, code_hash: &str) -> Result<Option<AuthorizerAppid>, StoreError> {
        let now = Timestamp::now();
        Ok(self.with(|c| {
            c.codes
                .get(code_hash)
                .filter(|(_, exp)| *exp >= now)
                .map(|(a, _)| a.clone())
        }))
    }

    async fn save_pending_ext(&self, p: &PendingExt<'_>) -> Result<(), StoreError> {
        let (hash, ext) = (p.pre_auth_hash.to_owned(), p.ext.to_owned());
        self.with(|c| c.pending_ext.insert(hash, (ext, p.until)));
        Ok(())
    }

    async fn pending_ext(&self, pre_auth_hash: &str) -> Result<Option<String>, StoreError> {
        let now = Timestamp::now();
        Ok(self.with(|c| {
            c.pending_ext
                .get(pre_auth_hash)
                .filter(|(_, until)| *until >= now)
                .map(|(ext, _)| ext.clone())
        }))
    }
}

#[async_trait]
impl AuthorizerListing for MemoryStore {
    async fn list_authorizers(
        &self,
        cursor: Option<&AuthorizerAppid>,
        limit: u32,
    ) -> Result<Option<AuthorizerPage>, StoreError> {
        let limit = limit.clamp(1, 1000) as usize;
        Ok(self.with(|c| {
            if cursor.is_some_and(|k| !c.authorizers.contains_key(k)) {
                return None;
            }
            let after = c
                .authorizers
                .iter()
                .filter(|(k, _)| cursor.is_none_or(|cur| *k > cur));
            let mut items: Vec<AuthorizerRecord> = after
                .map(|(_, a)| a.record.clone())
                .take(limit + 1)
                .collect();
            let more = items.len() > limit;
            items.truncate(limit);
            let next_cursor = more
                .then(|| items.last().map(|r| r.authorizer_appid.clone()))
                .flatten();
            Some(AuthorizerPage { items, next_cursor })
        }))
    }
}

#[async_trait]
impl HistoryReader for MemoryStore {
    async fn history(&self, appid: &AuthorizerAppid) -> Result<Vec<HistoryEntry>, StoreError> {
        Ok(self.with(|c| c.history.get(appid).cloned().unwrap_or_default()))
    }
}
