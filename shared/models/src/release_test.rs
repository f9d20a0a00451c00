//! WeChat's full-network release test (全网发布): the test accounts WeChat authorizes itself,
//! five groups of an Official Account and a Mini Program, and the cases it sends to the
//! message URL.

use crate::messages::AuthorizerMessage;

/// One of WeChat's test accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestAccount {
    /// Its group, 1 to 5 (WeChat picks one at random; groups 2 to 5 since 2021).
    pub group: u8,
    /// Its AppID.
    pub appid: &'static str,
    /// Its original id (`ToUserName` of its messages).
    pub username: &'static str,
    /// True for the Mini Program of the group, false for the Official Account.
    pub mini_program: bool,
}

const fn account(
    group: u8,
    appid: &'static str,
    username: &'static str,
    mini_program: bool,
) -> TestAccount {
    TestAccount {
        group,
        appid,
        username,
        mini_program,
    }
}

/// The ten test accounts.
pub const TEST_ACCOUNTS: [TestAccount; 10] = [
    account(1, "wx570bc396a51b8ff8", "gh_3c884a361561", false),
    account(1, "wxd101a85aa106f53e", "gh_8dad206e9538", true),
    account(2, "wx9252c5e0bb1836fc", "gh_c0f28a78b318", false),
    account(2, "wxc39235c15087f6f3", "gh_905ae9d01059", true),
    account(3, "wx8e1097c5bc82cde9", "gh_3f222ed8d140", false),
    account(3, "wx7720d01d4b2a4500", "gh_393666f1fdf4", true),
    account(4, "wx14550af28c71a144", "gh_26128078e9ab", false),
    account(4, "wx05d483572dcd5d8b", "gh_39abb5d4e1b7", true),
    account(5, "wxa35b9c23cfe664eb", "gh_2b3713f184a6", false),
    account(5, "wx5910277cae6fd970", "gh_7818dcb60240", true),
];

/// The test account with this AppID, if it is one.
pub fn test_account(appid: &str) -> Option<&'static TestAccount> {
    TEST_ACCOUNTS.iter().find(|a| a.appid == appid)
}

/// The text case: a text message with exactly this content...
pub const TEXT_CASE: &str = "TESTCOMPONENT_MSG_TYPE_TEXT";
/// ...is answered passively with this one.
pub const TEXT_CASE_REPLY: &str = "TESTCOMPONENT_MSG_TYPE_TEXT_callback";
/// The API case: a text `QUERY_AUTH_CODE:<code>`...
pub const QUERY_AUTH_CODE_PREFIX: &str = "QUERY_AUTH_CODE:";
/// ...is answered by a customer-service text `<code>` followed by this suffix.
pub const QUERY_AUTH_CODE_REPLY_SUFFIX: &str = "_from_api";
/// The event case: an event is answered passively with `<Event>` followed by this suffix.
pub const EVENT_CASE_REPLY_SUFFIX: &str = "from_callback";

/// What the release test expects of a message to one of its accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseCase {
    /// Reply passively with this text.
    Reply(String),
    /// Exchange this authorization code, then send the user `<code>_from_api` through the
    /// customer-service API and answer with an empty body.
    QueryAuthCode(String),
}

impl ReleaseCase {
    /// The case `message` is, or `None` when it is none of the test's.
    pub fn of(message: &AuthorizerMessage) -> Option<Self> {
        if let Some(text) = message.text() {
            let text = text.trim();
            if text == TEXT_CASE {
                return Some(Self::Reply(TEXT_CASE_REPLY.to_owned()));
            }
            if let Some(code) = text.strip_prefix(QUERY_AUTH_CODE_PREFIX) {
                let code = code.trim();
                return (!code.is_empty()).then(|| Self::QueryAuthCode(code.to_owned()));
            }
            return None;
        }
        if message.msg_type == "event" {
            let event = message.event.as_deref()?;
            return Some(Self::Reply(format!("{event}{EVENT_CASE_REPLY_SUFFIX}")));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::BodyFormat;

    fn msg(kind: &str, body: &str) -> AuthorizerMessage {
        let xml = format!("<xml><ToUserName>gh_3c884a361561</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>{kind}</MsgType>{body}</xml>");
        AuthorizerMessage::parse(&xml, BodyFormat::Xml).unwrap()
    }

    #[test]
    fn every_group_has_an_official_account_and_a_mini_program() {
        for group in 1..=5 {
            let members: Vec<_> = TEST_ACCOUNTS.iter().filter(|a| a.group == group).collect();
            assert_eq!(members.len(), 2);
            assert!(
                members.iter().any(|a| a.mini_program) && members.iter().any(|a| !a.mini_program)
            );
        }
        assert_eq!(
            test_account("wx9252c5e0bb1836fc").unwrap().username,
            "gh_c0f28a78b318"
        );
        assert_eq!(test_account("wxf8b4f85f3a794e77"), None);
    }

    #[test]
    fn the_three_cases_and_what_is_none_of_them() {
        assert_eq!(
            ReleaseCase::of(&msg(
                "text",
                "<Content>TESTCOMPONENT_MSG_TYPE_TEXT</Content>"
            )),
            Some(ReleaseCase::Reply(
                "TESTCOMPONENT_MSG_TYPE_TEXT_callback".into()
            ))
        );
        assert_eq!(
            ReleaseCase::of(&msg(
                "text",
                "<Content>QUERY_AUTH_CODE:queryauthcode@@@abc</Content>"
            )),
            Some(ReleaseCase::QueryAuthCode("queryauthcode@@@abc".into()))
        );
        assert_eq!(
            ReleaseCase::of(&msg("event", "<Event>LOCATION</Event>")),
            Some(ReleaseCase::Reply("LOCATIONfrom_callback".into()))
        );
        assert_eq!(
            ReleaseCase::of(&msg("text", "<Content>hello</Content>")),
            None
        );
        assert_eq!(
            ReleaseCase::of(&msg("text", "<Content>QUERY_AUTH_CODE:</Content>")),
            None
        );
        assert_eq!(ReleaseCase::of(&msg("image", "<PicUrl>x</PicUrl>")), None);
    }
}
