//! What the functions' handler tests share (feature `testkit`): the test platform's settings,
//! the platform built by the production wiring on the memory store and an in-process WeChat,
//! API Gateway HTTP API (v2) events and direct payloads parsed by lambda_http as the runtime
//! parses them, and readers for the responses.

use crate::wiring::Core;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use wxopen::clock::Timestamp;
use wxopen::config::{CoreConfig, Env};
use wxopen::msg_crypto::MsgCrypto;
use wxopen::publish::MemoryPublisher;
use wxopen::store::{AuthorizerStore, CachedToken, MemoryStore, NewAuthorization, TicketStore};
pub use wxopen::testing::{FakeWeChat, ManualClock, Reply, SEED_APPID, SEED_USER_NAME};
use wxopen::tokens::TokenSettings;
use wxopen_models::messages::BodyFormat;
use wxopen_models::{
    AccessToken, AuthorizerAppid, ComponentAppid, PermissionId, RefreshToken, VerifyTicket,
};

/// The component AppID of the test platform.
pub const COMPONENT: &str = "wx1234567890abcdef";
/// Its message token (a test value).
pub const MSG_TOKEN: &str = "test-msg-token";
/// Its EncodingAESKey: 43 characters, trailing bits set, as real keys have.
pub const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
/// Its AppSecret (a test value, checked never to appear in logs).
pub const APPSECRET: &str = "test-appsecret-NEVER-LOGGED";
/// Its state key.
pub const STATE_SECRET: &str = "test-state-secret-0123456789abcdef";
/// The public callback URL the test platform announces.
pub const CALLBACK_URL: &str = "https://platform.example/wechat/callback";

/// The test platform's variables, `extra` added or overriding; WeChat at `api_base`, the
/// table `table`. Anonymous authorizations are on (`AUTH_ANONYMOUS`), as under `make dev`, so a
/// test can start one from the plain route; the links-only default is tested with it `false`.
pub fn test_vars(table: &str, api_base: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("WECHAT_COMPONENT_APPID", COMPONENT),
        ("WECHAT_COMPONENT_APPSECRET", APPSECRET),
        ("WECHAT_MSG_TOKEN", MSG_TOKEN),
        ("WECHAT_ENCODING_AES_KEY", AES_KEY),
        ("AUTH_CALLBACK_URL", CALLBACK_URL),
        ("AUTH_STATE_SECRET", STATE_SECRET),
        ("AUTH_ANONYMOUS", "true"),
        ("TABLE_NAME", table),
        ("WECHAT_API_BASE", api_base),
        // Read only where tokens are stored at rest (DynamoDB); tests on it make a key of their own.
        ("TOKEN_KMS_KEY_ID", "alias/wxopen-test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    vars
}

/// Token timing for tests: waits for another container's refresh up to 5 s, polling often.
pub fn test_token_settings() -> TokenSettings {
    TokenSettings {
        wait: Duration::from_secs(5),
        poll: Duration::from_millis(5),
        ..TokenSettings::default()
    }
}

/// The test platform as a function's container builds it, through the production wiring, on
/// the memory store, with WeChat in process and the bus in memory.
pub struct Platform {
    /// What every service is built on; `core.store` is the memory store.
    pub core: Core<MemoryStore>,
    /// WeChat, counting calls.
    pub wechat: Arc<FakeWeChat>,
    /// What was published to the bus.
    pub bus: MemoryPublisher,
    /// The platform's clock, still until a test moves it.
    pub clock: Arc<ManualClock>,
}

impl Platform {
    /// The test platform with its default variables.
    pub fn new() -> Self {
        Self::with(&[])
    }

    /// The test platform with extra or overridden variables.
    pub fn with(extra: &[(&str, &str)]) -> Self {
        let vars = test_vars("memory", "http://127.0.0.1:9", extra);
        let env = Env::from_lookup(|n| vars.get(n).cloned(), None);
        let config = env.core().expect("the test platform's configuration");
        let store = Arc::new(MemoryStore::new(config.component_appid.clone()));
        let wechat = Arc::new(FakeWeChat::default());
        let bus = MemoryPublisher::default();
        let clock = Arc::new(ManualClock::new());
        let core = container(
            env,
            &config,
            store,
            wechat.clone(),
            bus.clone(),
            clock.clone(),
        );
        Self {
            core,
            wechat,
            bus,
            clock,
        }
    }

    /// Another container of the same platform: its own memory of tokens, the same store,
    /// WeChat and bus.
    pub fn another_container(&self) -> Core<MemoryStore> {
        let env = self.core.env.clone();
        let config = env.core().expect("the test platform's configuration");
        let store = self.core.store.clone();
        let clock = self.clock.clone();
        container(
            env,
            &config,
            store,
            self.wechat.clone(),
            self.bus.clone(),
            clock,
        )
    }

    /// `appid` authorized with the refresh token `refresh-of-<appid>`, permissions 1 and 15,
    /// and an access token that has just expired.
    pub async fn authorized(&self, appid: &str) {
        let refresh = format!("refresh-of-{appid}");
        let authorization = stale_authorization(appid, &refresh, &[1, 15]);
        save(self.core.store.as_ref(), &authorization).await;
    }

    /// The platform's message crypto, to seal pushes and messages as WeChat does.
    pub fn crypto(&self) -> MsgCrypto {
        self.core
            .env
            .push()
            .expect("the push settings")
            .msg_crypto(&component())
    }

    /// `xml` sealed as WeChat sends it to the push URL: the query's pairs and the body.
    pub fn sealed_push(&self, xml: &str) -> (Vec<(String, String)>, String) {
        let timestamp = wxopen::clock::now_secs().to_string();
        let sealed = self.crypto().seal(xml, &timestamp, "nonce-1");
        let query = [
            ("timestamp", sealed.timestamp),
            ("nonce", sealed.nonce),
            ("encrypt_type", "aes".to_owned()),
            ("msg_signature", sealed.msg_signature),
        ];
        let query = query.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        (query, sealed.body)
    }

    /// `plain` sealed as WeChat sends it to the message URL of the account `to_user_name`, in
    /// `format`: the query's pairs (with the sender's `openid`) and the body.
    pub fn sealed_message(
        &self,
        to_user_name: &str,
        plain: &str,
        format: BodyFormat,
    ) -> (Vec<(String, String)>, String) {
        sealed_message(&self.crypto(), to_user_name, plain, format)
    }

    /// The same platform with a current ticket stored, as after WeChat's first push.
    pub async fn with_ticket(self) -> Self {
        self.core
            .store
            .save_ticket(&VerifyTicket::new("ticket@@@seeded"), Timestamp::now())
            .await
            .expect("the memory store saves the ticket");
        self
    }
}

/// `appid` authorized with `refresh_token` and `permissions`, its access token `access-EXPIRED`
/// having lapsed a second ago: the next request for a token must renew it.
pub fn stale_authorization(
    appid: &str,
    refresh_token: &str,
    permissions: &[u32],
) -> NewAuthorization {
    NewAuthorization {
        authorizer_appid: AuthorizerAppid::parse(appid).expect("a valid AppID"),
        refresh_token: Some(RefreshToken::new(refresh_token)),
        access: Some(CachedToken {
            token: AccessToken::new("access-EXPIRED"),
            expires_at: Timestamp::now().minus(Duration::from_secs(1)),
        }),
        permission_ids: permissions.iter().copied().map(PermissionId).collect(),
        code_hash: None,
        ext: None,
    }
}

/// Saves `authorization` now in `store`, which must accept it.
pub async fn save(store: &dyn AuthorizerStore, authorization: &NewAuthorization) {
    let now = Timestamp::now();
    store
        .save_authorization(authorization, now, now)
        .await
        .expect("the store saves the authorization");
}

/// One container's core on `store`, as the production wiring builds it.
fn container(
    env: Env,
    config: &CoreConfig,
    store: Arc<MemoryStore>,
    wechat: Arc<FakeWeChat>,
    bus: MemoryPublisher,
    clock: Arc<ManualClock>,
) -> Core<MemoryStore> {
    let mut core = Core::new(
        env,
        config,
        store,
        wechat,
        (test_token_settings(), clock),
        Arc::new(bus),
    );
    core.exchange_wait = Duration::from_millis(50);
    core
}

impl Default for Platform {
    fn default() -> Self {
        Self::new()
    }
}

/// The test component AppID.
pub fn component() -> ComponentAppid {
    ComponentAppid::parse(COMPONENT).expect("the test component AppID is valid")
}

/// An API Gateway HTTP API (payload 2.0) event, parsed by lambda_http as the runtime would.
pub fn http_event(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Request {
    parse_event(http_event_json(method, path, query, headers, body))
}

/// A `GET /authorizers/{appid}` event as the HTTP API sends it, with the path parameter.
pub fn http_event_with_path_param(path: &str, appid: &str, query: &[(&str, &str)]) -> Request {
    let mut event = http_event_json("GET", path, query, &[], None);
    event["routeKey"] = "GET /authorizers/{appid}".into();
    event["requestContext"]["routeKey"] = "GET /authorizers/{appid}".into();
    event["pathParameters"] = json!({ "appid": appid });
    parse_event(event)
}

fn string_map(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The JSON of an API Gateway HTTP API (payload 2.0) event.
pub fn http_event_json(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let raw_query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query.iter().copied())
        .finish();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": string_map(headers),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api1234567",
            "domainName": "api1234567.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api1234567",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10", "userAgent": "integration-test"},
            "requestId": "request-id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795262400000i64
        },
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        event["queryStringParameters"] = string_map(query);
    }
    if let Some(body) = body {
        event["body"] = Value::String(body.to_owned());
    }
    event
}

/// A direct invocation with a JSON payload (lambda_http's pass-through).
pub fn direct(payload: Value) -> Request {
    parse_event(payload)
}

/// An event's JSON as lambda_http parses it into a request.
pub fn parse_event(event: Value) -> Request {
    let parsed: LambdaRequest =
        serde_json::from_value(event).expect("lambda_http parses the event");
    Request::from(parsed)
}

/// The body of a response as text.
pub fn body_text(resp: &Response<Body>) -> String {
    match resp.body() {
        Body::Empty => String::new(),
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// The body of a response as JSON.
pub fn body_json(resp: &Response<Body>) -> Value {
    serde_json::from_str(&body_text(resp))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", body_text(resp)))
}

/// The status and the error contract's `code` of a response, to compare in one assertion.
pub fn error_of(resp: &Response<Body>) -> (u16, Value) {
    (
        resp.status().as_u16(),
        body_json(resp)["error"]["code"].clone(),
    )
}

/// A header of a response.
pub fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The query of a URL as a map.
pub fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("an absolute URL")
        .query_pairs()
        .into_owned()
        .collect()
}

/// A decrypted push body, as WeChat writes it.
pub fn push_xml(info_type: &str, fields: &[(&str, &str)]) -> String {
    let mut xml = format!(
        "<xml><AppId><![CDATA[{COMPONENT}]]></AppId><CreateTime>{}</CreateTime><InfoType><![CDATA[{info_type}]]></InfoType>",
        wxopen::clock::now_secs()
    );
    for (k, v) in fields {
        xml.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    xml.push_str("</xml>");
    xml
}

/// `plain` sealed with `crypto` as WeChat sends it to the message URL of `to_user_name`, in
/// `format`: the query's pairs (with the sender's `openid`) and the body.
pub fn sealed_message(
    crypto: &MsgCrypto,
    to_user_name: &str,
    plain: &str,
    format: BodyFormat,
) -> (Vec<(String, String)>, String) {
    let timestamp = wxopen::clock::now_secs().to_string();
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nonce = format!("nonce-{n}");
    let sealed = crypto.seal_message(plain, to_user_name, format, &timestamp, &nonce);
    let query = [
        ("signature", "unused-plain-signature".to_owned()),
        ("timestamp", timestamp),
        ("nonce", nonce),
        ("openid", "o-user".to_owned()),
        ("encrypt_type", "aes".to_owned()),
        ("msg_signature", sealed.msg_signature),
    ];
    let query = query.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    (query, sealed.body)
}
