//! Running the functions' handlers as Lambda would: real API Gateway HTTP API (v2) events and
//! direct payloads, parsed by lambda_http itself, against DynamoDB Local and a loopback WeChat stand-in.

use crate::dynamo;
use crate::wechat_stub::StubWeChat;
use lambda_http::{Body, Response};
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
pub use wxopen_lambda::testing::{
    body_json, body_text, component, direct, error_of, header, http_event, http_event_json,
    http_event_with_path_param, parse_event, push_xml, query_of, test_vars, AES_KEY, APPSECRET,
    CALLBACK_URL, COMPONENT, MSG_TOKEN, STATE_SECRET,
};
use wxopen_lambda::wiring::Core;
use wxopen_models::events::EncryptedEnvelope;
use wxopen_models::VerifyTicket;

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
    /// `rollouts`, its work on the queue `ROLLOUT_QUEUE_URL` names (else in memory).
    pub rollouts: Arc<wxopen::services::Rollouts>,
    /// The component API they share.
    pub api: ComponentApi,
    /// The token manager they share.
    pub tokens: std::sync::Arc<wxopen::tokens::TokenManager>,
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
    let mut vars = test_vars(table, api_base, extra);
    // Tokens are sealed under a key of moto's KMS, as a function seals them.
    if !extra.iter().any(|(name, _)| *name == "TOKEN_KMS_KEY_ID") {
        vars.insert("TOKEN_KMS_KEY_ID".into(), crate::kms::create_key().await);
    }
    let config = Config::from_lookup(|n| vars.get(n).cloned(), None).expect("test configuration");
    let wechat = wechat_client(config.core.api_base.as_str());
    let env = Env::from_lookup(|n| vars.get(n).cloned(), None);
    let sdk = dynamo::sdk_config().await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.core.table_name.clone(),
        config.core.component_appid.clone(),
        crate::kms::vault_on(&vars["TOKEN_KMS_KEY_ID"]).await,
    ));
    let publisher = publisher_for(&sdk, vars.get("EVENT_BUS_NAME").map(String::as_str));
    let core = Core::new(
        env,
        &config.core,
        store,
        Arc::new(wechat),
        (settings, Arc::new(wxopen::clock::SystemClock)),
        publisher,
    );
    let queue: Arc<dyn wxopen::queue::WorkQueue> = match vars.get("ROLLOUT_QUEUE_URL") {
        Some(url) => Arc::new(wxopen::queue::SqsQueue::from_sdk(&sdk, url)),
        None => Arc::new(wxopen::queue::MemoryQueue::default()),
    };
    let rollout_settings = core.env.rollout_settings().expect("the rollout settings");
    let services = Services {
        rollouts: core.rollouts(queue, rollout_settings),
        authorization: core.authorization(false).expect("the auth settings"),
        authorizers: core.authorizers(),
        pushes: core.pushes().expect("the push settings"),
        messages: core.messages().expect("the push settings"),
        authorizer_calls: core.authorizer_calls(),
        component_calls: core.component_calls(),
        refresher: core.refresher(ReconcileSettings::default()),
        exchanger: core.exchanger(),
        api: core.api.clone(),
        tokens: core.tokens.clone(),
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
    let (query, body) =
        wxopen_lambda::testing::sealed_message(&crypto, to_user_name, plain, format);
    WeChatPush { body, query }
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

/// The WeChat client as tests build it for WeChat at `api_base`: a 2 s timeout and three quick
/// attempts.
pub fn wechat_client(api_base: &str) -> HttpWeChat {
    let retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    HttpWeChat::new(api_base, Duration::from_secs(2), retry)
}
