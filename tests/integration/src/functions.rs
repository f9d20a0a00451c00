//! Running the functions' handlers as Lambda would: real API Gateway HTTP API (v2) events and
//! direct payloads, parsed by lambda_http itself, against DynamoDB Local and a loopback WeChat stand-in.

use crate::dynamo;
use crate::wechat_stub::StubWeChat;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use wxopen::clock::{now_secs, Timestamp};
use wxopen::config::{Config, Env};
use wxopen::publish::publisher_for;
use wxopen::services::{
    Authorization, AuthorizerCalls, Authorizers, ComponentCalls, Exchanger, Messages, Pushes,
    ReconcileSettings, Refresher,
};
use wxopen::store::DynamoStore;
use wxopen::tokens::{ComponentApi, TokenSettings};
use wxopen::wechat::{HttpWeChat, RetryPolicy};
use wxopen_lambda::wiring::Core;
use wxopen_models::events::EncryptedEnvelope;
use wxopen_models::{ComponentAppid, VerifyTicket};

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

/// One platform on a fresh table, with WeChat on a loopback stand-in.
pub struct TestEnv {
    /// The table.
    pub table: String,
    /// WeChat.
    pub stub: StubWeChat,
    /// The store, for checking DynamoDB afterwards.
    pub store: DynamoStore,
    /// The services, as one container of each function builds them.
    pub services: Services,
    /// The variables the platform was configured with.
    pub vars: HashMap<String, String>,
}

impl TestEnv {
    /// A platform with the default test variables.
    pub async fn new() -> Self {
        Self::with(&[]).await
    }

    /// A platform with extra or overridden variables.
    pub async fn with(extra: &[(&str, &str)]) -> Self {
        crate::logs::capture();
        let client = dynamo::client().await;
        let table = dynamo::create_table(&client).await;
        let stub = StubWeChat::start().await;
        Self::on(table, stub, extra).await
    }

    /// A platform on an existing table and stand-in (a second container of the same stack).
    pub async fn on(table: String, stub: StubWeChat, extra: &[(&str, &str)]) -> Self {
        let (services, store, vars) = platform_for(&table, &stub.base_url, extra).await;
        Self {
            table,
            stub,
            store,
            services,
            vars,
        }
    }

    /// Stores a current ticket, as the first push would.
    pub async fn seed_ticket(&self) {
        use wxopen::store::TicketStore;
        self.store
            .save_ticket(&VerifyTicket::new("ticket@@@seeded"), Timestamp::now())
            .await
            .unwrap();
    }
}

/// Every function's service, each as its own function's container builds it from the same
/// configuration, sharing one store client and one token manager as a single process would.
#[derive(Clone)]
pub struct Services {
    /// `authorize` and `callback`.
    pub authorization: Arc<Authorization>,
    /// `exchange`.
    pub exchanger: Arc<Exchanger>,
    /// `authorizer-info` and `authorizer-token`.
    pub authorizers: Arc<Authorizers>,
    /// `events`.
    pub pushes: Arc<Pushes>,
    /// `refresher`.
    pub refresher: Arc<Refresher>,
    /// `messages`.
    pub messages: Arc<Messages>,
    /// `authorizer-api`.
    pub authorizer_calls: Arc<AuthorizerCalls>,
    /// `component-api`.
    pub component_calls: Arc<ComponentCalls>,
    /// The component API (and its token manager) they share.
    pub api: ComponentApi,
}

/// The services as one container builds them, on `table`, with WeChat at `api_base`; `extra`
/// adds or overrides variables. Returns the services, their store and their variables.
pub async fn platform_for(
    table: &str,
    api_base: &str,
    extra: &[(&str, &str)],
) -> (Services, DynamoStore, HashMap<String, String>) {
    let settings = TokenSettings {
        wait: Duration::from_secs(5),
        poll: Duration::from_millis(20),
        ..TokenSettings::default()
    };
    platform_with_settings(table, api_base, extra, settings).await
}

/// As [`platform_for`], with explicit token settings.
pub async fn platform_with_settings(
    table: &str,
    api_base: &str,
    extra: &[(&str, &str)],
    settings: TokenSettings,
) -> (Services, DynamoStore, HashMap<String, String>) {
    let mut vars: HashMap<String, String> = [
        ("WECHAT_COMPONENT_APPID", COMPONENT),
        ("WECHAT_COMPONENT_APPSECRET", APPSECRET),
        ("WECHAT_MSG_TOKEN", MSG_TOKEN),
        ("WECHAT_ENCODING_AES_KEY", AES_KEY),
        ("AUTH_CALLBACK_URL", CALLBACK_URL),
        ("AUTH_STATE_SECRET", STATE_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.insert("TABLE_NAME".into(), table.to_owned());
    vars.insert("WECHAT_API_BASE".into(), api_base.to_owned());
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = Config::from_lookup(|n| vars.get(n).cloned(), None).expect("test configuration");
    let wechat = HttpWeChat::new(
        config.core.api_base.as_str(),
        Duration::from_secs(2),
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
    );
    let env = Env::from_lookup(|n| vars.get(n).cloned(), None);
    let core = Core::build(
        env,
        &config.core,
        &dynamo::sdk_config().await,
        settings,
        wechat,
    );
    let exchanger = core.exchanger();
    let crypto = config.push.msg_crypto(&config.core.component_appid);
    let publisher = publisher_for(&core.sdk, vars.get("EVENT_BUS_NAME").map(String::as_str));
    let services = Services {
        authorization: Arc::new(Authorization::new(
            exchanger.clone(),
            config.auth.signer(),
            config.auth.pages(),
        )),
        authorizers: Arc::new(Authorizers::new(
            core.api.clone(),
            core.store.clone(),
            core.store.clone(),
        )),
        pushes: Arc::new(Pushes::new(
            crypto.clone(),
            core.store.clone(),
            exchanger.clone(),
        )),
        messages: Arc::new(Messages::new(crypto, exchanger.clone(), publisher)),
        authorizer_calls: Arc::new(AuthorizerCalls::new(core.api.clone())),
        component_calls: Arc::new(ComponentCalls::new(core.api.clone())),
        refresher: Arc::new(Refresher::new(
            core.api.clone(),
            core.store.clone(),
            ReconcileSettings::default(),
        )),
        exchanger,
        api: core.api.clone(),
    };
    (services, (*core.store).clone(), vars)
}

/// The simulator's settings for the test platform, sending pushes to `events_url` and the
/// release test to `messages_url` (with `$APPID$`).
pub fn sim_config(
    events_url: Option<String>,
    messages_url: Option<String>,
) -> wechat_sim::SimConfig {
    wechat_sim::SimConfig {
        component_appid: COMPONENT.into(),
        component_appsecret: APPSECRET.into(),
        msg_token: MSG_TOKEN.into(),
        encoding_aes_key: AES_KEY.into(),
        events_url,
        messages_url,
        ticket_interval: Duration::from_secs(600),
        token_ttl: 7200,
        auth_code_ttl: 600,
        pre_auth_code_ttl: 1800,
    }
}

/// A simulator for the test platform on a free loopback port, sending nothing by itself.
pub async fn start_simulator() -> wechat_sim::Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    wechat_sim::Simulator::start(sim_config(None, None), listener).await
}

/// The test component AppID.
pub fn component() -> ComponentAppid {
    ComponentAppid::parse(COMPONENT).unwrap()
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

fn parse_event(event: Value) -> Request {
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

/// A push sealed by wechatpy (an implementation independent of this project), as WeChat sends
/// it: the body and the query parameters.
pub struct WeChatPush {
    /// The XML body.
    pub body: String,
    /// timestamp, nonce, encrypt_type, msg_signature.
    pub query: Vec<(String, String)>,
}

impl WeChatPush {
    /// The query as pairs of &str.
    pub fn query(&self) -> Vec<(&str, &str)> {
        self.query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Seals `xml` for `appid` with wechatpy through the project's venv.
pub fn seal_with_wechatpy(xml: &str, appid: &str) -> WeChatPush {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = format!("{root}/.venv/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/wechatpy_seal.py");
    let timestamp = now_secs().to_string();
    let nonce = format!("{:x}", rand_nonce());
    let input = json!({"token": MSG_TOKEN, "encoding_aes_key": AES_KEY, "appid": appid, "xml": xml, "timestamp": timestamp, "nonce": nonce});
    let sealed = run_python(&python, script, &input);
    let body = EncryptedEnvelope {
        app_id: Some(appid.to_owned()),
        to_user_name: None,
        encrypt: sealed["encrypt"].as_str().unwrap().to_owned(),
    }
    .to_xml();
    WeChatPush {
        body,
        query: vec![
            ("signature".into(), "unused-plain-signature".into()),
            ("timestamp".into(), timestamp),
            ("nonce".into(), nonce),
            ("encrypt_type".into(), "aes".into()),
            (
                "msg_signature".into(),
                sealed["msg_signature"].as_str().unwrap().to_owned(),
            ),
        ],
    }
}

/// Verifies and decrypts a passive reply with wechatpy, as WeChat would; the reply's XML.
pub fn open_reply_with_wechatpy(reply: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = format!("{root}/.venv/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/wechatpy_open.py");
    let input = json!({"token": MSG_TOKEN, "encoding_aes_key": AES_KEY, "appid": COMPONENT, "reply": reply});
    let out = run_python(&python, script, &input);
    out["xml"]
        .as_str()
        .expect("wechatpy returns the XML")
        .to_owned()
}

/// Runs the README's Python check of a success redirect's query with `key`.
pub fn success_verified_by_python(query: &HashMap<String, String>, key: &str) -> bool {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = format!("{root}/.venv/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/verify_success.py");
    let input = json!({"key": key, "query": query, "now": now_secs()});
    run_python(&python, script, &input)["valid"]
        .as_bool()
        .expect("a verdict")
}

fn run_python(python: &str, script: &str, input: &Value) -> Value {
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} could not start ({e}): run the tests with `make test`, which installs wechatpy"));
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "wechatpy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A message to the message URL, sealed with this project's crypto as WeChat sends it: the
/// body (XML or JSON) and the query parameters.
pub fn seal_message(
    to_user_name: &str,
    plain: &str,
    format: wxopen_models::messages::BodyFormat,
) -> WeChatPush {
    let crypto = wxopen::msg_crypto::MsgCrypto::new(
        wxopen_models::Secret::new(MSG_TOKEN),
        wxopen::msg_crypto::EncodingAesKey::parse(AES_KEY).unwrap(),
        None,
        component(),
    );
    let timestamp = now_secs().to_string();
    let nonce = format!("{:x}", rand_nonce());
    let sealed = crypto.seal_message(plain, to_user_name, format, &timestamp, &nonce);
    WeChatPush {
        body: sealed.body,
        query: vec![
            ("signature".into(), "unused-plain-signature".into()),
            ("timestamp".into(), timestamp),
            ("nonce".into(), nonce),
            ("openid".into(), "o-user".into()),
            ("encrypt_type".into(), "aes".into()),
            ("msg_signature".into(), sealed.msg_signature),
        ],
    }
}

/// `POST /wechat/messages/{appid}` with `push`, through the messages handler.
pub async fn post_message(services: &Services, appid: &str, push: &WeChatPush) -> Response<Body> {
    let path = format!("/wechat/messages/{appid}");
    let mut event = http_event_json(
        "POST",
        &path,
        &push.query(),
        &[("content-type", "text/xml")],
        Some(&push.body),
    );
    event["routeKey"] = "POST /wechat/messages/{appid}".into();
    event["pathParameters"] = json!({ "appid": appid });
    messages::handler::handle(&services.messages, parse_event(event))
        .await
        .expect("the handler answers HTTP")
}

fn rand_nonce() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::Instant::now())
}

/// `GET /wechat/authorize?query` through the authorize handler.
pub async fn get_authorize(services: &Services, query: &[(&str, &str)]) -> Response<Body> {
    let req = http_event("GET", "/wechat/authorize", query, &[], None);
    authorize::handler::handle(&services.authorization, req)
        .await
        .expect("the handler answers HTTP")
}

/// The `location` of the authorize route's redirect for `query`.
pub async fn authorize_location(services: &Services, query: &[(&str, &str)]) -> String {
    let resp = get_authorize(services, query).await;
    header(&resp, "location").unwrap_or_else(|| panic!("no redirect: {}", body_text(&resp)))
}

/// `POST /wechat/events` with `push`, as WeChat sends it, through the events handler.
pub async fn post_push(services: &Services, push: &WeChatPush) -> Response<Body> {
    let req = http_event(
        "POST",
        "/wechat/events",
        &push.query(),
        &[("content-type", "text/xml")],
        Some(&push.body),
    );
    events::handler::handle(&services.pushes, req)
        .await
        .expect("the handler answers HTTP")
}

/// A decrypted push body, as WeChat writes it.
pub fn push_xml(info_type: &str, fields: &[(&str, &str)]) -> String {
    let mut xml = format!(
        "<xml><AppId><![CDATA[{COMPONENT}]]></AppId><CreateTime>{}</CreateTime><InfoType><![CDATA[{info_type}]]></InfoType>",
        now_secs()
    );
    for (k, v) in fields {
        xml.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    xml.push_str("</xml>");
    xml
}
