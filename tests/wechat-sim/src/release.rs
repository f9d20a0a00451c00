//! `POST /_sim/release-test`: WeChat's full-network release test (全网发布) against the
//! platform's message URL. A group of test accounts (random, or the one asked for) is
//! authorized, then each case is sent as WeChat sends it and its answer checked: the ticket
//! push, the text case's encrypted passive reply, the `QUERY_AUTH_CODE` case for the Official
//! Account and the Mini Program (an empty answer, and the customer-service message sent with
//! that account's token, all within 5 s), and the event case's passive reply.

use crate::push::push_ticket;
use crate::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wxopen::clock::now_secs;
use wxopen::msg_crypto::{EncodingAesKey, MsgCrypto};
use wxopen_models::messages::{AuthorizerMessage, BodyFormat};
use wxopen_models::release_test::{
    TestAccount, EVENT_CASE_REPLY_SUFFIX, QUERY_AUTH_CODE_PREFIX, QUERY_AUTH_CODE_REPLY_SUFFIX,
    TEST_ACCOUNTS, TEXT_CASE, TEXT_CASE_REPLY,
};
use wxopen_models::{ComponentAppid, Secret};

/// WeChat's budget for an answer.
pub const BUDGET: Duration = Duration::from_secs(5);

/// What to run.
#[derive(Debug, Default, Deserialize)]
pub struct ReleaseTestRequest {
    /// 1 to 5; random when absent.
    #[serde(default)]
    pub group: Option<u8>,
    /// How the Mini Program's message is written: `json` (default) or `xml`.
    #[serde(default)]
    pub mini_program_format: Option<String>,
}

/// One case's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseReport {
    /// The case.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
    /// How long the platform took to answer.
    pub elapsed_ms: u64,
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseReport {
    /// The group tested.
    pub group: u8,
    /// Every case passed.
    pub passed: bool,
    /// Each case.
    pub cases: Vec<CaseReport>,
}

/// The route.
pub async fn release_test(
    State(shared): State<Shared>,
    body: Option<Json<ReleaseTestRequest>>,
) -> (StatusCode, Json<Value>) {
    let request = body.map(|Json(b)| b).unwrap_or_default();
    match run(&shared, &request).await {
        Ok(report) => (StatusCode::OK, Json(json!(report))),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))),
    }
}

/// The platform's message URL and how WeChat seals what it sends there.
pub(crate) struct Platform {
    crypto: MsgCrypto,
    token: String,
    messages_url: String,
}

pub(crate) fn platform(shared: &Shared) -> Result<Platform, String> {
    let state = shared.lock().unwrap();
    let messages_url = state
        .config
        .messages_url
        .clone()
        .ok_or("no message URL is configured (SIM_MESSAGES_URL)")?;
    Ok(Platform {
        crypto: MsgCrypto::new(
            Secret::new(state.config.msg_token.clone()),
            EncodingAesKey::parse(&state.config.encoding_aes_key).map_err(|e| e.to_string())?,
            None,
            ComponentAppid::parse(state.config.component_appid.clone())
                .map_err(|e| e.to_string())?,
        ),
        token: state.config.msg_token.clone(),
        messages_url,
    })
}

/// Runs the release test for one group.
pub async fn run(shared: &Shared, request: &ReleaseTestRequest) -> Result<ReleaseReport, String> {
    let group = match request.group {
        Some(g @ 1..=5) => g,
        Some(other) => return Err(format!("group {other} does not exist: use 1 to 5")),
        None => rand::random::<u8>() % 5 + 1,
    };
    let mp_format = match request.mini_program_format.as_deref() {
        None | Some("json") => BodyFormat::Json,
        Some("xml") => BodyFormat::Xml,
        Some(other) => return Err(format!("mini_program_format {other:?} is not json or xml")),
    };
    let platform = platform(shared)?;
    let accounts: Vec<&TestAccount> = TEST_ACCOUNTS.iter().filter(|a| a.group == group).collect();
    let oa = accounts
        .iter()
        .find(|a| !a.mini_program)
        .expect("each group has one");
    let mp = accounts
        .iter()
        .find(|a| a.mini_program)
        .expect("each group has one");
    let mut cases = vec![ticket_case(shared).await];
    cases.push(reply_case(&platform, oa, "text", BodyFormat::Xml).await);
    cases.push(api_case(shared, &platform, oa, BodyFormat::Xml).await);
    cases.push(api_case(shared, &platform, mp, mp_format).await);
    cases.push(reply_case(&platform, oa, "event", BodyFormat::Xml).await);
    Ok(ReleaseReport {
        group,
        passed: cases.iter().all(|c| c.passed),
        cases,
    })
}

async fn ticket_case(shared: &Shared) -> CaseReport {
    let started = Instant::now();
    let (passed, detail) = match push_ticket(shared).await {
        Ok(true) => (true, "the event URL answered success".to_owned()),
        Ok(false) => (
            false,
            "no event URL is configured (SIM_EVENTS_URL)".to_owned(),
        ),
        Err(e) => (false, e),
    };
    report("component_verify_ticket", passed, detail, started)
}

fn report(name: &str, passed: bool, detail: String, started: Instant) -> CaseReport {
    CaseReport {
        name: name.to_owned(),
        passed,
        detail,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

fn openid() -> String {
    format!("o-release-test-{:08x}", rand::random::<u32>())
}

/// A message from `from` to `account`, written in `format`.
fn message(
    account: &TestAccount,
    from: &str,
    fields: &[(&str, &str)],
    format: BodyFormat,
) -> String {
    let now = now_secs();
    match format {
        BodyFormat::Xml => {
            let mut xml = format!(
                "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>{now}</CreateTime>",
                account.username
            );
            for (k, v) in fields {
                xml.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
            }
            xml + "</xml>"
        }
        BodyFormat::Json => {
            let mut object =
                json!({"ToUserName": account.username, "FromUserName": from, "CreateTime": now});
            for (k, v) in fields {
                object[*k] = Value::String((*v).to_owned());
            }
            object.to_string()
        }
    }
}

/// Sends `text` to the account's message URL as WeChat does; the status and body answered.
/// `account` is the AppID and original id.
pub(crate) async fn send(
    platform: &Platform,
    account: (&str, &str),
    from: &str,
    text: &str,
    format: BodyFormat,
) -> Result<(u16, String), String> {
    let timestamp = now_secs().to_string();
    let nonce = format!("{}", rand::random::<u32>());
    let sealed = platform
        .crypto
        .seal_message(text, account.1, format, &timestamp, &nonce);
    let plain_signature = {
        use sha1::Digest as _;
        let mut parts = [platform.token.as_str(), timestamp.as_str(), nonce.as_str()];
        parts.sort_unstable();
        hex::encode(sha1::Sha1::digest(parts.concat().as_bytes()))
    };
    let content_type = match format {
        BodyFormat::Xml => "text/xml",
        BodyFormat::Json => "application/json",
    };
    let url = platform.messages_url.replace("$APPID$", account.0);
    let resp = reqwest::Client::new()
        .post(&url)
        .query(&[
            ("signature", plain_signature.as_str()),
            ("timestamp", timestamp.as_str()),
            ("nonce", nonce.as_str()),
            ("openid", from),
            ("encrypt_type", "aes"),
            ("msg_signature", sealed.msg_signature.as_str()),
        ])
        .header("content-type", content_type)
        .body(sealed.body)
        .timeout(BUDGET)
        .send()
        .await
        .map_err(|e| {
            format!(
                "no answer within {} s: {}",
                BUDGET.as_secs(),
                e.without_url()
            )
        })?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await.unwrap_or_default()))
}

/// The text or event case: an encrypted passive reply with the expected text.
async fn reply_case(
    platform: &Platform,
    account: &TestAccount,
    kind: &str,
    format: BodyFormat,
) -> CaseReport {
    let from = openid();
    let (fields, expected): (Vec<(&str, &str)>, String) = if kind == "text" {
        (
            vec![
                ("MsgType", "text"),
                ("Content", TEXT_CASE),
                ("MsgId", "6364923474433998594"),
            ],
            TEXT_CASE_REPLY.to_owned(),
        )
    } else {
        (
            vec![
                ("MsgType", "event"),
                ("Event", "LOCATION"),
                ("Latitude", "23.1"),
                ("Longitude", "113.3"),
                ("Precision", "119.4"),
            ],
            format!("LOCATION{EVENT_CASE_REPLY_SUFFIX}"),
        )
    };
    let started = Instant::now();
    let answer = send(
        platform,
        (account.appid, account.username),
        &from,
        &message(account, &from, &fields, format),
        format,
    )
    .await;
    let (passed, detail) = match answer {
        Err(e) => (false, e),
        Ok((status, _)) if status != 200 => (false, format!("the message URL answered {status}")),
        Ok((_, body)) => match platform.crypto.open_reply(&body) {
            Err(e) => (
                false,
                format!(
                    "the reply is not an encrypted, signed reply ({e}): {}",
                    body.chars().take(120).collect::<String>()
                ),
            ),
            Ok((text, reply_format)) => match AuthorizerMessage::parse(&text, reply_format) {
                Err(e) => (false, format!("the decrypted reply is unreadable: {e}")),
                Ok(reply) if reply.text() != Some(expected.as_str()) => (
                    false,
                    format!("the reply reads {:?}, not {expected:?}", reply.content),
                ),
                Ok(reply)
                    if reply.to_user_name != from || reply.from_user_name != account.username =>
                {
                    (
                        false,
                        format!(
                            "the reply goes from {} to {}, not from {} to {from}",
                            reply.from_user_name, reply.to_user_name, account.username
                        ),
                    )
                }
                Ok(_) => (true, format!("encrypted passive reply {expected:?}")),
            },
        },
    };
    let passed = passed && started.elapsed() <= BUDGET;
    report(
        &format!("{kind} ({})", account.appid),
        passed,
        detail,
        started,
    )
}

/// The API case: the account is authorized with a fresh code; `QUERY_AUTH_CODE:<code>` must be
/// answered with an empty body and `<code>_from_api` sent to the user with that account's token.
async fn api_case(
    shared: &Shared,
    platform: &Platform,
    account: &TestAccount,
    format: BodyFormat,
) -> CaseReport {
    let from = openid();
    let code = shared.lock().unwrap().authorize(account.appid);
    let content = format!("{QUERY_AUTH_CODE_PREFIX}{code}");
    let fields = [
        ("MsgType", "text"),
        ("Content", content.as_str()),
        ("MsgId", "6364923474433998595"),
    ];
    let started = Instant::now();
    let sent_before = shared.lock().unwrap().sent.len();
    let answer = send(
        platform,
        (account.appid, account.username),
        &from,
        &message(account, &from, &fields, format),
        format,
    )
    .await;
    let answered = started.elapsed();
    let expected = format!("{code}{QUERY_AUTH_CODE_REPLY_SUFFIX}");
    let (passed, detail) = match answer {
        Err(e) => (false, e),
        Ok((status, body)) if status != 200 => (
            false,
            format!(
                "the message URL answered {status}: {}",
                body.chars().take(160).collect::<String>()
            ),
        ),
        Ok((_, body)) if !body.trim().is_empty() && body.trim() != "success" => (
            false,
            format!(
                "the answer must be empty, not {:?}",
                body.chars().take(80).collect::<String>()
            ),
        ),
        Ok(_) => {
            let state = shared.lock().unwrap();
            let sent: Vec<_> = state.sent[sent_before..]
                .iter()
                .filter(|m| m.touser == from)
                .collect();
            let current_token = state
                .authorizer_tokens
                .get(account.appid)
                .map(|(t, _)| t.clone());
            match sent.as_slice() {
                [] => (
                    false,
                    "no customer-service message reached the user".to_owned(),
                ),
                [m] if m.content != expected => (
                    false,
                    format!(
                        "the customer-service message reads {:?}, not {expected:?}",
                        m.content
                    ),
                ),
                [m] if m.appid != account.appid || current_token.is_none() => (
                    false,
                    format!(
                        "the message was sent with the token of {}, not of {}",
                        m.appid, account.appid
                    ),
                ),
                [_] => (
                    true,
                    format!("empty answer, and {expected:?} sent with the account's token"),
                ),
                more => (
                    false,
                    format!(
                        "{} customer-service messages reached the user, not one",
                        more.len()
                    ),
                ),
            }
        }
    };
    let passed = passed && answered <= BUDGET;
    let name = format!(
        "QUERY_AUTH_CODE ({}, {})",
        account.appid,
        if format == BodyFormat::Json {
            "json"
        } else {
            "xml"
        }
    );
    report(&name, passed, detail, started)
}
