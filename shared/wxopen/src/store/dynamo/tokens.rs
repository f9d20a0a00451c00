//! Tickets and tokens on DynamoDB: one lease protocol for the component token item and the
//! authorizer items.

use super::expr::{n, s, Item};
use super::items::{
    authorizer_sk, parse_authorizer, parse_slot, SK_COMPONENT_TOKEN, SK_TICKET, SK_TICKET_REQUEST,
};
use super::{Attrs, DynamoStore};
use crate::clock::Timestamp;
use crate::store::{
    Credentials, Lease, StoreError, StoredTicket, TicketRequest, TicketSave, TicketStore, TokenKey,
    TokenSlot, TokenStore, TokenWrite, TICKET_WAIT_GAP,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::time::Duration;
use wxopen_models::records::{AuthorizerStatus, HistoryKind};
use wxopen_models::{AccessToken, VerifyTicket};

/// A ticket is valid for 12 hours; the item may lapse an hour after that.
const TICKET_TTL: Duration = Duration::from_secs(13 * 3600);

impl DynamoStore {
    fn token_key(&self, key: &TokenKey) -> Attrs {
        match key {
            TokenKey::Component => self.item_key(SK_COMPONENT_TOKEN),
            TokenKey::Authorizer(appid) => self.item_key(authorizer_sk(appid)),
        }
    }

    fn parse_token_item(key: &TokenKey, map: &Attrs) -> Result<TokenSlot, StoreError> {
        match key {
            TokenKey::Component => parse_slot(map),
            TokenKey::Authorizer(_) => parse_authorizer(map).map(TokenSlot::from),
        }
    }
}

#[async_trait]
impl TicketStore for DynamoStore {
    async fn save_ticket(
        &self,
        ticket: &VerifyTicket,
        create_time: Timestamp,
    ) -> Result<TicketSave, StoreError> {
        let sealed = self
            .sealed(&self.item_key(SK_TICKET), "ticket", ticket.expose())
            .await?;
        let values = HashMap::from([
            (":t".to_owned(), sealed),
            (":ct".to_owned(), n(create_time.secs())),
            (":now".to_owned(), n(Timestamp::now().secs())),
            (":exp".to_owned(), n(create_time.plus(TICKET_TTL).secs())),
        ]);
        let saved = self
            .update(
                self.item_key(SK_TICKET),
                "SET #ticket = :t, #create_time = :ct, #updated_at = :now, #expires_at = :exp",
                Some("attribute_not_exists(#pk) OR #create_time < :ct"),
                values,
                false,
                "save the ticket",
            )
            .await?;
        if saved.is_some() {
            return Ok(TicketSave::Saved);
        }
        let stored = self.load_ticket().await?;
        Ok(TicketSave::Stale {
            stored_create_time: stored.map_or(create_time, |t| t.create_time),
        })
    }

    async fn load_ticket(&self) -> Result<Option<StoredTicket>, StoreError> {
        let Some(map) = self.get(SK_TICKET.into(), "read the ticket").await? else {
            return Ok(None);
        };
        let item = Item {
            key: SK_TICKET,
            map: &map,
        };
        Ok(Some(StoredTicket {
            ticket: VerifyTicket::new(item.req_s("ticket")?),
            create_time: Timestamp::from_secs(item.req_i64("create_time")?),
        }))
    }

    async fn claim_ticket_request(
        &self,
        now: Timestamp,
        every: Duration,
    ) -> Result<TicketRequest, StoreError> {
        let gap = every * TICKET_WAIT_GAP;
        let values = |before: Duration| {
            HashMap::from([
                (":now".to_owned(), n(now.millis())),
                (
                    ":before".to_owned(),
                    n(now.millis() - before.as_millis() as i64),
                ),
                (":exp".to_owned(), n(now.plus(gap).secs() + 60)),
            ])
        };
        // Nobody asked within the gap: a new wait starts now.
        if self
            .update(
                self.item_key(SK_TICKET_REQUEST),
                "SET #requested_at = :now, #waiting_since = :now, #expires_at = :exp",
                Some("attribute_not_exists(#requested_at) OR #requested_at <= :before"),
                values(gap),
                false,
                "claim the ticket request",
            )
            .await?
            .is_some()
        {
            return Ok(TicketRequest {
                claimed: true,
                waiting_since: now,
            });
        }
        // Somebody asked within the gap but not within the interval: the wait goes on.
        if let Some(item) = self
            .update(
                self.item_key(SK_TICKET_REQUEST),
                "SET #requested_at = :now, #expires_at = :exp",
                Some("#requested_at <= :before"),
                values(every),
                true,
                "claim the ticket request",
            )
            .await?
        {
            return Ok(TicketRequest {
                claimed: true,
                waiting_since: waiting_since(&item, now)?,
            });
        }
        let item = self
            .get(SK_TICKET_REQUEST.into(), "read the ticket request")
            .await?
            .unwrap_or_default();
        Ok(TicketRequest {
            claimed: false,
            waiting_since: waiting_since(&item, now)?,
        })
    }
}

/// When the ticket request item's wait began (`now` if the item is gone).
fn waiting_since(map: &Attrs, now: Timestamp) -> Result<Timestamp, StoreError> {
    if map.is_empty() {
        return Ok(now);
    }
    let item = Item {
        key: SK_TICKET_REQUEST,
        map,
    };
    let at = match item.opt_i64("waiting_since")? {
        Some(at) => at,
        None => item.req_i64("requested_at")?,
    };
    Ok(Timestamp::from_millis(at))
}

#[async_trait]
impl TokenStore for DynamoStore {
    async fn load_slot(&self, key: &TokenKey) -> Result<Option<TokenSlot>, StoreError> {
        let sk = match key {
            TokenKey::Component => SK_COMPONENT_TOKEN.to_owned(),
            TokenKey::Authorizer(appid) => authorizer_sk(appid),
        };
        match (self.get(sk, "read a token").await?, key) {
            (Some(map), _) => Self::parse_token_item(key, &map).map(Some),
            (None, TokenKey::Component) => Ok(Some(TokenSlot::default())),
            (None, TokenKey::Authorizer(_)) => Ok(None),
        }
    }

    async fn take_lease(
        &self,
        key: &TokenKey,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Option<TokenSlot>, StoreError> {
        let free =
            "(attribute_not_exists(#lease_until) OR #lease_until < :now OR #lease_owner = :me)";
        let mut values = HashMap::from([
            (":me".to_owned(), s(&lease.owner)),
            (":now".to_owned(), n(now.millis())),
            (":until".to_owned(), n(lease.until.millis())),
        ]);
        let condition = match key {
            TokenKey::Component => free.to_owned(),
            // Only an authorizer that exists and is authorized may be refreshed.
            TokenKey::Authorizer(_) => {
                values.insert(
                    ":authorized".into(),
                    s(AuthorizerStatus::Authorized.as_str()),
                );
                format!("attribute_exists(#pk) AND #status = :authorized AND {free}")
            }
        };
        let out = self
            .update(
                self.token_key(key),
                "SET #lease_owner = :me, #lease_until = :until",
                Some(&condition),
                values,
                true,
                "take a refresh lease",
            )
            .await?;
        out.map(|map| Self::parse_token_item(key, &map)).transpose()
    }

    async fn write_token(
        &self,
        key: &TokenKey,
        write: &TokenWrite<'_>,
    ) -> Result<bool, StoreError> {
        let item_key = self.token_key(key);
        let token = write.token.token.expose();
        let mut values = HashMap::from([
            (":me".to_owned(), s(write.owner)),
            (
                ":t".to_owned(),
                self.sealed(&item_key, "access_token", token).await?,
            ),
            (":e".to_owned(), n(write.token.expires_at.secs())),
        ]);
        let (TokenKey::Authorizer(appid), Some(auth)) = (key, write.authorizer) else {
            values.insert(":now".into(), n(write.now.secs()));
            let written = self
                .update(
                    self.token_key(key),
                    "SET #access_token = :t, #token_expires_at = :e, #updated_at = :now REMOVE #lease_owner, #lease_until",
                    Some("#lease_owner = :me"),
                    values,
                    false,
                    "store the component token",
                )
                .await?;
            return Ok(written.is_some());
        };
        let condition = "#lease_owner = :me AND #version = :v";
        values.insert(":v".into(), n(auth.expected_version));
        let Some(refresh_token) = auth.replaced_refresh_token else {
            let written = self
                .update(
                    self.token_key(key),
                    "SET #access_token = :t, #token_expires_at = :e REMOVE #lease_owner, #lease_until",
                    Some(condition),
                    values,
                    false,
                    "store an authorizer token",
                )
                .await?;
            return Ok(written.is_some());
        };
        // A new refresh token: persisted in the same write as the access token, with history.
        let sealed = self
            .sealed(&item_key, "refresh_token", refresh_token.expose())
            .await?;
        values.insert(":r".into(), sealed);
        values.insert(":one".into(), n(1));
        values.insert(":now".into(), n(write.now.secs()));
        self.transact(
            vec![
                self.update_item(
                    self.token_key(key),
                    "SET #access_token = :t, #token_expires_at = :e, #refresh_token = :r, #version = #version + :one, #updated_at = :now REMOVE #lease_owner, #lease_until",
                    condition,
                    values,
                )?,
                self.history_put(appid, HistoryKind::RefreshTokenReplaced, auth.permission_ids, None, write.now)?,
            ],
            "store an authorizer token with its new refresh token",
        )
        .await
    }

    async fn release_lease(&self, key: &TokenKey, owner: &str) -> Result<(), StoreError> {
        self.update(
            self.token_key(key),
            "REMOVE #lease_owner, #lease_until",
            Some("#lease_owner = :me"),
            HashMap::from([(":me".to_owned(), s(owner))]),
            false,
            "release a refresh lease",
        )
        .await
        .map(|_| ())
    }

    async fn drop_token(&self, key: &TokenKey, failed: &AccessToken) -> Result<bool, StoreError> {
        let item_key = self.token_key(key);
        let (condition, values) = self
            .still_holds(&item_key, "access_token", failed.expose(), "failed")
            .await?;
        Ok(self
            .update(
                item_key,
                "REMOVE #access_token, #token_expires_at",
                Some(&condition),
                values,
                false,
                "drop a refused token",
            )
            .await?
            .is_some())
    }

    async fn mark_needs_reauth(
        &self,
        refused: &Credentials,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let record = &refused.record;
        let (appid, permission_ids) = (&record.authorizer_appid, &record.permission_ids);
        let Some(failed) = &refused.refresh_token else {
            return Ok(false);
        };
        let item_key = self.item_key(authorizer_sk(appid));
        let (holds, mut values) = self
            .still_holds(&item_key, "refresh_token", failed.expose(), "failed")
            .await?;
        values.extend([
            (
                ":needs".to_owned(),
                s(AuthorizerStatus::NeedsReauth.as_str()),
            ),
            (
                ":authorized".to_owned(),
                s(AuthorizerStatus::Authorized.as_str()),
            ),
            (":now".to_owned(), n(now.secs())),
            (":one".to_owned(), n(1)),
        ]);
        let condition = format!("{holds} AND #status = :authorized");
        self.transact(
            vec![
                self.update_item(
                    item_key,
                    "SET #status = :needs, #updated_at = :now, #version = #version + :one REMOVE #access_token, #token_expires_at, #lease_owner, #lease_until",
                    &condition,
                    values,
                )?,
                self.history_put(appid, HistoryKind::NeedsReauth, permission_ids, None, now)?,
            ],
            "mark an authorizer as needing re-authorization",
        )
        .await
    }
}
