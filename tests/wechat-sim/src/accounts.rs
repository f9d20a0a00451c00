//! The simulator's two built-in accounts: the seed documents' Official Account and Mini Program.

use serde_json::Value;

/// One account that can authorize the platform.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its AppID.
    pub appid: &'static str,
    /// `official_account` or `mini_program`.
    pub kind: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The permission sets it grants.
    pub permissions: &'static [u32],
    /// Its `api_get_authorizer_info` answer.
    pub info: Value,
}

const OFFICIAL_ACCOUNT: &str =
    include_str!("../../../shared/models/tests/fixtures/authorizer_info_official_account.json");
const MINI_PROGRAM: &str =
    include_str!("../../../shared/models/tests/fixtures/authorizer_info_mini_program.json");

/// The Official Account of the seed documents.
pub const OFFICIAL_ACCOUNT_APPID: &str = "wxf8b4f85f3a794e77";
/// A Mini Program with the seed document's profile (the seed reuses the Official Account's
/// AppID, so the simulator gives it its own).
pub const MINI_PROGRAM_APPID: &str = "wx3b6a1d9c0e2f4a57";

/// Both accounts, with `authorization_info` matching what each grants.
pub fn built_in() -> Vec<Account> {
    let with_grant = |text: &str, appid: &str, permissions: &[u32]| {
        let mut v: Value = serde_json::from_str(text).expect("fixture is JSON");
        v["authorization_info"] = serde_json::json!({
            "authorization_appid": appid,
            "func_info": permissions.iter().map(|id| serde_json::json!({"funcscope_category": {"id": id}})).collect::<Vec<_>>()
        });
        v
    };
    vec![
        Account {
            appid: OFFICIAL_ACCOUNT_APPID,
            kind: "official_account",
            name: "WeixinSDK Demo Special",
            permissions: &[1, 2, 3],
            info: with_grant(OFFICIAL_ACCOUNT, OFFICIAL_ACCOUNT_APPID, &[1, 2, 3]),
        },
        Account {
            appid: MINI_PROGRAM_APPID,
            kind: "mini_program",
            name: "WeixinSDK Demo Mini Program",
            permissions: &[17, 18, 19],
            info: {
                let mut v = with_grant(MINI_PROGRAM, MINI_PROGRAM_APPID, &[17, 18, 19]);
                v["authorizer_info"]["nick_name"] = "WeixinSDK Demo Mini Program".into();
                v
            },
        },
    ]
}
