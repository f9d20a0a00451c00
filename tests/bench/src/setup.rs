//! The bench's world: the simulator, a counting DynamoDB proxy, a table with two authorized
//! accounts, and the environment every function process gets.

//! `make bench`: cold start, warm latency, calls per operation, storm, peak RSS and binary
//! size of every function, with a Python custom-runtime baseline, printed as markdown and
//! written to docs/BENCHMARKS.md. Runs under `scripts/with-local-aws.sh` (DynamoDB Local on loopback);
//! WeChat is the simulator, in this process.

use crate::dynamo_proxy::DynamoProxy;
use integration_tests::functions::Services;
use integration_tests::functions::{http_event_json, platform_for, COMPONENT};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use wechat_sim::accounts::{MINI_PROGRAM_APPID, OFFICIAL_ACCOUNT_APPID};
use wechat_sim::Simulator;
use wxopen::clock::now_secs;
use wxopen::config::Config;
use wxopen::msg_crypto::SignedPush;
use wxopen::services::AuthorizeRequest;
use wxopen_models::AuthorizerAppid;

pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
pub const FUNCTIONS: [&str; 11] = [
    "authorize",
    "callback",
    "exchange",
    "authorizer-info",
    "authorizer-token",
    "events",
    "refresher",
    "messages",
    "notifier",
    "authorizer-api",
    "component-api",
];

/// The release test's Official Account of group 1, whose API case the bench replays.
pub const TEST_OA: &str = "wx570bc396a51b8ff8";

impl Bench {
    /// KMS requests so far (data keys unwrapped or generated), at the counting proxy.
    pub fn kms_calls(&self) -> u64 {
        self.kms.counts().values().sum()
    }
}

pub struct Bench {
    pub sim: Simulator,
    pub proxy: DynamoProxy,
    /// The same counting proxy in front of moto's KMS: data keys unwrapped and generated.
    pub kms: DynamoProxy,
    pub table: String,
    pub services: Services,
    pub crypto: wxopen::msg_crypto::MsgCrypto,
    pub env: BTreeMap<String, String>,
    pub http: reqwest::Client,
    pub runs: usize,
    pub ticket_serial: u64,
}

/// The executable serving a function: the release bundle, what Lambda runs for every function
/// (`_HANDLER` picks it, see [`crate::process`]). `BENCH_BINARIES` names another directory, holding
/// a bundle or one binary per function (an older build, to compare with).
pub fn binary(name: &str) -> String {
    let dir = std::env::var("BENCH_BINARIES").unwrap_or_else(|_| format!("{ROOT}/target/release"));
    let bundle = format!("{dir}/bundle");
    if std::path::Path::new(&bundle).exists() {
        bundle
    } else {
        format!("{dir}/{name}")
    }
}

impl Bench {
    pub async fn setup() -> Self {
        let dynamodb = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
            .expect("run through scripts/with-local-aws.sh (make bench)");
        let proxy = DynamoProxy::start(&dynamodb).await;
        let kms = DynamoProxy::start(
            &std::env::var("AWS_ENDPOINT_URL_KMS")
                .expect("run through scripts/with-local-aws.sh (make bench)"),
        )
        .await;
        let table =
            integration_tests::dynamo::create_table(&integration_tests::dynamo::client().await)
                .await;
        let sim = integration_tests::functions::start_simulator().await;
        // Where `messages` and `notifier` publish: a bus on moto with a rule to a queue.
        let bus = integration_tests::bus::Bus::create().await;
        let callback = "http://127.0.0.1:9/wechat/callback";
        let (services, _, vars) = platform_for(
            &table,
            &sim.base_url,
            &[
                ("WECHAT_AUTH_PAGE_BASE", sim.base_url.as_str()),
                ("AUTH_CALLBACK_URL", callback),
                ("EVENT_BUS_NAME", bus.name.as_str()),
            ],
        )
        .await;
        let config = Config::from_lookup(|n| vars.get(n).cloned(), None).unwrap();
        let crypto = config.push.msg_crypto(&config.core.component_appid);
        let mut env: BTreeMap<String, String> = vars.into_iter().collect();
        env.insert("AWS_ENDPOINT_URL_DYNAMODB".into(), proxy.url.clone());
        env.insert("AWS_ENDPOINT_URL_KMS".into(), kms.url.clone());
        for name in [
            "AWS_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL_EVENTBRIDGE",
        ] {
            env.insert(
                name.into(),
                std::env::var(name).unwrap_or_else(|_| "testing".into()),
            );
        }
        env.insert("AWS_DEFAULT_REGION".into(), env["AWS_REGION"].clone());
        env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
        env.insert("AWS_LAMBDA_LOG_LEVEL".into(), "WARN".into());
        let runs = std::env::var("BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut bench = Self {
            sim,
            proxy,
            kms,
            table,
            services,
            crypto,
            env,
            http,
            runs,
            ticket_serial: 0,
        };
        // A ticket, then both accounts authorized through the real flow.
        let push = bench.ticket_push();
        bench.invoke_in_process_push(&push).await;
        for appid in [OFFICIAL_ACCOUNT_APPID, MINI_PROGRAM_APPID] {
            let (code, state) = bench.fresh_code(appid).await;
            bench
                .services
                .authorization
                .complete(Some(&code), Some(&state))
                .await
                .expect("setup authorization");
        }
        bench
    }

    /// A sealed ticket push (an API Gateway event) whose ticket the simulator accepts.
    pub fn ticket_push(&mut self) -> Value {
        self.ticket_serial += 1;
        let ticket = format!("ticket@@@bench-{}", self.ticket_serial);
        self.sim.state.lock().unwrap().latest_ticket = Some(ticket.clone());
        let xml = format!(
            "<xml><AppId><![CDATA[{COMPONENT}]]></AppId><CreateTime>{}</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType>\
             <ComponentVerifyTicket><![CDATA[{ticket}]]></ComponentVerifyTicket></xml>",
            now_secs() + self.ticket_serial as i64
        );
        let sealed = self.crypto.seal(
            &xml,
            &now_secs().to_string(),
            &format!("n{}", self.ticket_serial),
        );
        http_event_json(
            "POST",
            "/wechat/events",
            &[
                ("timestamp", &sealed.timestamp),
                ("nonce", &sealed.nonce),
                ("encrypt_type", "aes"),
                ("msg_signature", &sealed.msg_signature),
            ],
            &[("content-type", "text/xml")],
            Some(&sealed.body),
        )
    }

    async fn invoke_in_process_push(&self, event: &Value) {
        let q = |k: &str| event["queryStringParameters"][k].as_str();
        self.services
            .pushes
            .handle(&SignedPush {
                timestamp: q("timestamp"),
                nonce: q("nonce"),
                msg_signature: q("msg_signature"),
                encrypt_type: q("encrypt_type"),
                body: event["body"].as_str().unwrap().as_bytes(),
            })
            .await
            .expect("setup ticket");
    }

    /// A fresh authorization code and its state, through the simulated authorization page.
    async fn fresh_code(&self, appid: &str) -> (String, String) {
        let url = self
            .services
            .authorization
            .start(&AuthorizeRequest {
                biz_appid: Some(AuthorizerAppid::parse(appid).unwrap()),
                ..Default::default()
            })
            .await
            .unwrap();
        let q: BTreeMap<String, String> = url::Url::parse(&url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let resp = self
            .http
            .post(format!("{}/_sim/confirm", self.sim.base_url))
            .form(&[
                ("pre_auth_code", q["pre_auth_code"].as_str()),
                ("redirect_uri", q["redirect_uri"].as_str()),
                ("appid", appid),
            ])
            .send()
            .await
            .unwrap();
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let back: BTreeMap<String, String> = url::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        (back["auth_code"].clone(), back["state"].clone())
    }

    pub async fn payload(&mut self, function: &str) -> Value {
        match function {
            "authorize" => http_event_json("GET", "/wechat/authorize", &[], &[], None),
            "callback" => {
                let (code, state) = self.fresh_code(OFFICIAL_ACCOUNT_APPID).await;
                http_event_json(
                    "GET",
                    "/wechat/callback",
                    &[("auth_code", &code), ("state", &state)],
                    &[("accept", "text/html")],
                    None,
                )
            }
            "exchange" => {
                json!({"authorization_code": self.fresh_code(OFFICIAL_ACCOUNT_APPID).await.0})
            }
            "authorizer-info" => {
                json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "max_age_seconds": 0})
            }
            "authorizer-token" => json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID}),
            "events" => self.ticket_push(),
            "refresher" => {
                json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})
            }
            "messages" => self.message(
                OFFICIAL_ACCOUNT_APPID,
                &format!("<xml><ToUserName><![CDATA[gh_eb5e3a772040]]></ToUserName><FromUserName><![CDATA[o-bench]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>{}</MsgId></xml>", now_secs(), rand_id()),
            ),
            "authorizer-api" => json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID,
                "path": "/cgi-bin/get_current_selfmenu_info", "method": "GET"}),
            "component-api" => json!({"op": "get_option", "authorizer_appid": OFFICIAL_ACCOUNT_APPID,
                "option_name": "voice_recognize"}),
            "notifier" => {
                let records = integration_tests::bus::history_stream_records(
                    &self.table,
                    COMPONENT,
                    OFFICIAL_ACCOUNT_APPID,
                    1,
                )
                .await;
                json!({"Records": [records[0]]})
            }
            other => panic!("no payload for {other}"),
        }
    }

    /// A message to `appid`'s message URL, sealed as WeChat sends it (an API Gateway event).
    pub fn message(&self, appid: &str, xml: &str) -> Value {
        let timestamp = now_secs().to_string();
        let nonce = format!("{}", rand_id());
        let sealed = self.crypto.seal_message(
            xml,
            "gh_eb5e3a772040",
            wxopen_models::messages::BodyFormat::Xml,
            &timestamp,
            &nonce,
        );
        let path = format!("/wechat/messages/{appid}");
        let mut event = http_event_json(
            "POST",
            &path,
            &[
                ("timestamp", &sealed.timestamp),
                ("nonce", &sealed.nonce),
                ("openid", "o-bench"),
                ("encrypt_type", "aes"),
                ("msg_signature", &sealed.msg_signature),
            ],
            &[("content-type", "text/xml")],
            Some(&sealed.body),
        );
        event["pathParameters"] = json!({ "appid": appid });
        event
    }

    /// The release test's API case for [`TEST_OA`], with a code the simulator just issued.
    pub fn query_auth_code_message(&self) -> Value {
        let code = self.sim.state.lock().unwrap().authorize(TEST_OA);
        let xml = format!(
            "<xml><ToUserName><![CDATA[gh_3c884a361561]]></ToUserName><FromUserName><![CDATA[o-bench]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[QUERY_AUTH_CODE:{code}]]></Content><MsgId>{}</MsgId></xml>",
            now_secs(),
            rand_id()
        );
        self.message(TEST_OA, &xml)
    }

    /// The simulator's calls so far, by endpoint.
    pub async fn sim_calls(&self) -> BTreeMap<String, u64> {
        self.sim.state.lock().unwrap().calls()
    }

    pub async fn expire_token(&self, appid: &str) {
        use aws_sdk_dynamodb::types::AttributeValue as A;
        integration_tests::dynamo::client()
            .await
            .update_item()
            .table_name(&self.table)
            .key("pk", A::S(format!("component#{COMPONENT}")))
            .key("sk", A::S(format!("authorizer#{appid}")))
            .update_expression("SET token_expires_at = :zero")
            .expression_attribute_values(":zero", A::N("0".into()))
            .send()
            .await
            .unwrap();
    }
}

fn rand_id() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::Instant::now()) >> 1
}
