//! Token slots and their leases, in memory.

use super::*;

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load_slot(&self, key: &TokenKey) -> Result<Option<TokenSlot>, StoreError> {
        Ok(self.with(|c| c.slot(key)))
    }

    async fn take_lease(
        &self,
        key: &TokenKey,
        wanted: &Lease,
        at: Timestamp,
    ) -> Result<Option<TokenSlot>, StoreError> {
        Ok(self.with(|c| {
            if let TokenKey::Authorizer(appid) = key {
                let authorized = c
                    .authorizers
                    .get(appid)
                    .is_some_and(|a| a.record.status == AuthorizerStatus::Authorized);
                if !authorized {
                    return None;
                }
            }
            let (_, held) = c.slot_mut(key)?;
            if !lease_is_free(held.as_ref(), &wanted.owner, at) {
                return None;
            }
            *held = Some(wanted.clone());
            c.slot(key)
        }))
    }

    async fn write_token(
        &self,
        key: &TokenKey,
        write: &TokenWrite<'_>,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|c| {
            if let (TokenKey::Authorizer(appid), Some(auth)) = (key, write.authorizer) {
                let Some(a) = c.authorizers.get_mut(appid) else {
                    return false;
                };
                if a.lease.as_ref().map(|l| l.owner.as_str()) != Some(write.owner)
                    || a.record.version != auth.expected_version
                {
                    return false;
                }
                a.access = Some(write.token.clone());
                a.lease = None;
                if let Some(rt) = auth.replaced_refresh_token {
                    a.refresh_token = Some(rt.clone());
                    a.record.version += 1;
                    a.record.updated_at = write.now.secs();
                    c.record_history(
                        appid,
                        HistoryKind::RefreshTokenReplaced,
                        auth.permission_ids,
                        None,
                        write.now,
                    );
                }
                return true;
            }
            let Some((token, lease)) = c.slot_mut(key) else {
                return false;
            };
            if lease.as_ref().map(|l| l.owner.as_str()) != Some(write.owner) {
                return false;
            }
            *token = Some(write.token.clone());
            *lease = None;
            true
        }))
    }

    async fn release_lease(&self, key: &TokenKey, owner: &str) -> Result<(), StoreError> {
        self.with(|c| {
            if let Some((_, lease)) = c.slot_mut(key) {
                if lease.as_ref().is_some_and(|l| l.owner == owner) {
                    *lease = None;
                }
            }
        });
        Ok(())
    }

    async fn drop_token(&self, key: &TokenKey, failed: &AccessToken) -> Result<bool, StoreError> {
        Ok(self.with(|c| match c.slot_mut(key) {
            Some((token, _)) if token.as_ref().is_some_and(|t| &t.token == failed) => {
                *token = None;
                true
            }
            _ => false,
        }))
    }

    async fn mark_needs_reauth(
        &self,
        refused: &Credentials,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let appid = &refused.record.authorizer_appid;
        let permission_ids = &refused.record.permission_ids;
        let failed = refused.refresh_token.as_ref();
        Ok(self.with(|c| {
            let Some(a) = c.authorizers.get_mut(appid) else {
                return false;
            };
            if failed.is_none()
                || a.refresh_token.as_ref() != failed
                || a.record.status != AuthorizerStatus::Authorized
            {
                return false;
            }
            a.record = needs_reauth(&a.record, now);
            a.access = None;
            a.lease = None;
            c.record_history(appid, HistoryKind::NeedsReauth, permission_ids, None, now);
            true
        }))
    }
}
