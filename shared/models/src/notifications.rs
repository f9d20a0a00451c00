//! The events other services receive on EventBridge (contract): `source` is `wxopen`, the
//! `detail-type` names what happened, and `detail` carries an `id` that stays the same when
//! the event is delivered again. No event carries a token, a code or a secret.

use crate::ids::{AuthorizerAppid, ComponentAppid};
use crate::messages::AuthorizerMessage;
use crate::permissions::PermissionId;
use crate::records::HistoryKind;
use crate::registration::RegistrationKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `source` of every event.
pub const EVENT_SOURCE: &str = "wxopen";

/// `detail-type` of a first authorization or a re-authorization.
pub const AUTHORIZED: &str = "Authorizer Authorized";
/// `detail-type` of a change of the granted permission sets.
pub const UPDATED: &str = "Authorizer Updated";
/// `detail-type` of a revocation.
pub const REVOKED: &str = "Authorizer Revoked";
/// `detail-type` of a refused refresh token: the account must authorize again.
pub const NEEDS_REAUTH: &str = "Authorizer Needs Reauth";
/// `detail-type` of a user's message or an account event from the message URL.
pub const MESSAGE: &str = "Authorizer Message";

/// The `detail-type` an authorization change is published as; `None` for the changes that
/// stay internal (a refresh token replaced or recovered: nothing a caller must act on).
pub fn change_detail_type(kind: HistoryKind) -> Option<&'static str> {
    match kind {
        HistoryKind::Authorized | HistoryKind::Reauthorized => Some(AUTHORIZED),
        HistoryKind::PermissionsChanged => Some(UPDATED),
        HistoryKind::Revoked => Some(REVOKED),
        HistoryKind::NeedsReauth => Some(NEEDS_REAUTH),
        HistoryKind::RefreshTokenReplaced | HistoryKind::RefreshTokenRecovered => None,
    }
}

/// `detail` of `Authorizer Authorized`, `Updated`, `Revoked` and `Needs Reauth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationChange {
    /// Stable across redelivery: derived from the stored history item.
    pub id: String,
    /// The platform.
    pub component_appid: ComponentAppid,
    /// The account.
    pub authorizer_appid: AuthorizerAppid,
    /// What the history recorded: `authorized`, `reauthorized`, `permissions_changed`,
    /// `revoked` or `needs_reauth`.
    pub change: HistoryKind,
    /// The granted permission sets after the change.
    pub permission_ids: Vec<PermissionId>,
    /// When the change was stored, epoch milliseconds.
    pub at_ms: i64,
    /// The `ext` of the authorization (the platform's own customer), when it came through a
    /// link the platform minted: bind accounts from this, never from a browser's query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
}

/// `detail-type` of a push at the authorization event URL other than the ticket and the three
/// authorization kinds.
pub const COMPONENT_PUSH: &str = "Component Push";

/// `detail` of `Component Push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentPushDetail {
    /// Stable across WeChat's redeliveries of the same push: its `InfoType`, `CreateTime` and a
    /// digest of every field.
    pub id: String,
    /// The platform.
    pub component_appid: ComponentAppid,
    /// `InfoType`.
    pub info_type: String,
    /// `CreateTime`, epoch seconds.
    pub create_time: i64,
    /// Every field as WeChat sent it (nested elements as objects), without an authorization
    /// code or a token ([`crate::pushes::publishable`]).
    pub push: Map<String, Value>,
}

/// `detail-type` of a fast-registered Mini Program whose authorization is stored.
pub const MINI_PROGRAM_REGISTERED: &str = "Mini Program Registered";
/// `detail-type` of a fast registration WeChat refused or nobody completed.
pub const MINI_PROGRAM_REGISTRATION_FAILED: &str = "Mini Program Registration Failed";

/// `detail` of `Mini Program Registered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredDetail {
    /// Stable across redelivery: the registration's id and its end.
    pub id: String,
    /// The platform.
    pub component_appid: ComponentAppid,
    /// The registration `component-api` answered.
    pub registration_id: String,
    /// The new Mini Program.
    pub authorizer_appid: AuthorizerAppid,
    /// `enterprise`, `personal` or `beta`.
    pub kind: RegistrationKind,
    /// The platform's customer the registration was made for.
    pub ext: String,
}

/// `detail` of `Mini Program Registration Failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationFailedDetail {
    /// Stable across redelivery: the registration's id and its end.
    pub id: String,
    /// The platform.
    pub component_appid: ComponentAppid,
    /// The registration `component-api` answered.
    pub registration_id: String,
    /// `enterprise`, `personal` or `beta`.
    pub kind: RegistrationKind,
    /// The platform's customer the registration was made for.
    pub ext: String,
    /// WeChat's status code (the push's `status`, or the errcode refusing the call).
    pub status: i64,
    /// What the status means, in words.
    pub reason: String,
}

/// `detail` of `Authorizer Message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDetail {
    /// Stable across WeChat's retries of the same message: its `MsgId`, or for an event the
    /// sender and `CreateTime` (WeChat's own advice for deduplicating events).
    pub id: String,
    /// The platform.
    pub component_appid: ComponentAppid,
    /// The account the message was sent to.
    pub authorizer_appid: AuthorizerAppid,
    /// `MsgType`.
    pub msg_type: String,
    /// `Event`, for an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The user's openid (`FromUserName`).
    pub from_user_name: String,
    /// The account's original id (`ToUserName`).
    pub to_user_name: String,
    /// `CreateTime`, epoch seconds.
    pub create_time: i64,
    /// Every field as WeChat sent it.
    pub message: Map<String, Value>,
}

/// The stable id of a message to `authorizer_appid`, the same on every delivery: WeChat's own
/// deduplication key, `MsgId`, or for events the sender, `CreateTime` and the event.
pub fn message_id(authorizer_appid: &AuthorizerAppid, message: &AuthorizerMessage) -> String {
    match &message.msg_id {
        Some(msg_id) => format!("{authorizer_appid}:msg:{msg_id}"),
        None => format!(
            "{authorizer_appid}:event:{}:{}:{}",
            message.from_user_name,
            message.create_time,
            message.event.as_deref().unwrap_or(&message.msg_type)
        ),
    }
}

impl MessageDetail {
    /// The detail of `message`, sent to `authorizer_appid` of `component_appid`.
    pub fn of(
        component_appid: ComponentAppid,
        authorizer_appid: AuthorizerAppid,
        message: &AuthorizerMessage,
    ) -> Self {
        Self {
            id: message_id(&authorizer_appid, message),
            component_appid,
            authorizer_appid,
            msg_type: message.msg_type.clone(),
            event: message.event.clone(),
            from_user_name: message.from_user_name.clone(),
            to_user_name: message.to_user_name.clone(),
            create_time: message.create_time,
            message: message.fields.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::BodyFormat;

    #[test]
    fn every_published_change_has_its_detail_type() {
        assert_eq!(
            change_detail_type(HistoryKind::Authorized),
            Some(AUTHORIZED)
        );
        assert_eq!(
            change_detail_type(HistoryKind::Reauthorized),
            Some(AUTHORIZED)
        );
        assert_eq!(
            change_detail_type(HistoryKind::PermissionsChanged),
            Some(UPDATED)
        );
        assert_eq!(change_detail_type(HistoryKind::Revoked), Some(REVOKED));
        assert_eq!(
            change_detail_type(HistoryKind::NeedsReauth),
            Some(NEEDS_REAUTH)
        );
        assert_eq!(change_detail_type(HistoryKind::RefreshTokenReplaced), None);
    }

    #[test]
    fn a_message_id_is_the_same_for_a_retried_message() {
        let xml = "<xml><ToUserName>gh_a</ToUserName><FromUserName>o1</FromUserName><CreateTime>7</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>";
        let m = AuthorizerMessage::parse(xml, BodyFormat::Xml).unwrap();
        let c = ComponentAppid::parse("wxc").unwrap();
        let a = AuthorizerAppid::parse("wxa").unwrap();
        let first = MessageDetail::of(c.clone(), a.clone(), &m);
        let again = MessageDetail::of(c, a, &m);
        assert_eq!(first.id, again.id);
        assert_eq!(first.id, "wxa:event:o1:7:subscribe");
        assert_eq!(first.message["Event"], "subscribe");
    }
}
