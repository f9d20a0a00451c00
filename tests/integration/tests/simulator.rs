//! The authorization flow against the WeChat simulator, driven over HTTP like a browser:
//! the simulator's pushes and redirects reach the functions through a loopback gateway.
//! Faults injected through the simulator's admin API show what a person would see.

use integration_tests::dynamo;
use integration_tests::functions::*;
use integration_tests::gateway::Gateway;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wechat_sim::accounts::{MINI_PROGRAM_APPID, OFFICIAL_ACCOUNT_APPID};
use wechat_sim::{SimConfig, Simulator};
use wxopen::store::{AuthorizerListing, TicketStore};

struct Stack {
    sim: Simulator,
    gateway: Gateway,
    env_store: wxopen::store::DynamoStore,
    http: reqwest::Client,
}

async fn stack() -> Stack {
    integration_tests::logs::capture();
    let table = dynamo::create_table(&dynamo::client().await).await;
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://{}", gateway_listener.local_addr().unwrap());
    let sim = Simulator::start(
        SimConfig {
            component_appid: COMPONENT.into(),
            component_appsecret: APPSECRET.into(),
            msg_token: MSG_TOKEN.into(),
            encoding_aes_key: AES_KEY.into(),
            events_url: Some(format!("{gateway_url}/wechat/events")),
            messages_url: Some(format!("{gateway_url}/wechat/messages/$APPID$")),
            ticket_interval: Duration::from_secs(600),
            token_ttl: 7200,
            auth_code_ttl: 600,
            pre_auth_code_ttl: 1800,
        },
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await;
    let callback = format!("{gateway_url}/wechat/callback");
    let (services, store, _) = platform_for(
        &table,
        &sim.base_url,
        &[
            ("WECHAT_AUTH_PAGE_BASE", sim.base_url.as_str()),
            ("AUTH_CALLBACK_URL", callback.as_str()),
        ],
    )
    .await;
    let gateway = Gateway::start_on(gateway_listener, services);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stack = Stack {
        sim,
        gateway,
        env_store: store,
        http,
    };
    // The simulator pushes a ticket at start: wait until it is stored.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stack.env_store.load_ticket().await.unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the simulator's first ticket never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stack
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {page}"))
        + marker.len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Stack {
    async fn get(&self, url: &str) -> reqwest::Response {
        self.http
            .get(url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
    }

    fn location(resp: &reqwest::Response) -> String {
        resp.headers()
            .get("location")
            .unwrap_or_else(|| panic!("no location: {resp:?}"))
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Opens the authorize link, then presses "Authorize" for `appid` on the simulator's page.
    /// Returns the callback URL WeChat sends the browser to.
    async fn authorize_on_page(&self, appid: &str) -> String {
        let resp = self
            .get(&format!("{}/wechat/authorize", self.gateway.base_url))
            .await;
        assert_eq!(resp.status(), 302);
        let page_url = Self::location(&resp);
        assert!(page_url.starts_with(&self.sim.base_url), "{page_url}");
        let page = self.get(&page_url).await.text().await.unwrap();
        assert!(
            page.contains(&format!("id=\"authorize-{appid}\"")),
            "{page}"
        );
        let pre_auth_code = hidden(&page, "pre_auth_code");
        let redirect_uri = hidden(&page, "redirect_uri");
        let resp = self
            .http
            .post(format!("{}/_sim/confirm", self.sim.base_url))
            .form(&[
                ("pre_auth_code", pre_auth_code.as_str()),
                ("redirect_uri", redirect_uri.as_str()),
                ("appid", appid),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        Self::location(&resp)
    }

    async fn fault(&self, fault: Value) {
        let resp = self
            .http
            .post(format!("{}/_sim/faults", self.sim.base_url))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
    }

    async fn calls(&self, endpoint: &str) -> u64 {
        let calls = self.sim.state.lock().unwrap().calls();
        calls.get(endpoint).copied().unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_accounts_authorize_through_the_simulated_page_and_are_served() {
    let s = stack().await;
    for (appid, kind, permissions) in [
        (OFFICIAL_ACCOUNT_APPID, "official_account", json!([1, 2, 3])),
        (MINI_PROGRAM_APPID, "mini_program", json!([17, 18, 19])),
    ] {
        let callback = s.authorize_on_page(appid).await;
        assert!(
            callback.contains("auth_code=") && callback.contains("expires_in=600"),
            "{callback}"
        );
        let resp = s.get(&callback).await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(
            page.contains("Authorization complete") && page.contains(appid),
            "{page}"
        );
        let info: Value = s
            .http
            .get(format!("{}/authorizers/{appid}", s.gateway.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (info["account_kind"].clone(), info["permission_ids"].clone()),
            (json!(kind), permissions)
        );
    }
    // The simulator also pushed `authorized` for each; the stored records are consistent.
    let listed = s
        .env_store
        .list_authorizers(None, 10)
        .await
        .unwrap()
        .expect("no cursor: a first page");
    assert_eq!(listed.items.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_twice_then_success_is_invisible_to_the_person() {
    let s = stack().await;
    let callback = s.authorize_on_page(OFFICIAL_ACCOUNT_APPID).await;
    s.fault(json!({"endpoint": "api_query_auth", "errcode": -1, "count": 2}))
        .await;
    let before = s.calls("api_query_auth").await;
    let resp = s.get(&callback).await;
    assert_eq!(resp.status(), 200);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Authorization complete"));
    assert!(
        s.calls("api_query_auth").await >= before + 3,
        "two busy answers, then the success"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_error_is_a_clear_error() {
    let s = stack().await;
    s.fault(json!({"endpoint": "api_create_preauthcode", "errcode": 45009, "count": 1}))
        .await;
    let resp = s
        .http
        .get(format!("{}/wechat/authorize", s.gateway.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "wechat_quota_exceeded");
    assert_eq!(body["error"]["wechat_errcode"], 45009);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("daily quota"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_auth_code_shows_a_page_telling_the_person_to_start_again() {
    let s = stack().await;
    // No push exchanges the code this time (the event URL is unreachable, say), and the
    // person arrives after the code has expired.
    s.sim.state.lock().unwrap().config.events_url = None;
    let callback = s.authorize_on_page(MINI_PROGRAM_APPID).await;
    s.http
        .post(format!("{}/_sim/expire-codes", s.sim.base_url))
        .send()
        .await
        .unwrap();
    let resp = s.get(&callback).await;
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.unwrap();
    assert!(page.contains("start the authorization again"), "{page}");
    assert!(page.contains("auth_code_expired"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_in_the_simulator_reaches_the_store() {
    let s = stack().await;
    let callback = s.authorize_on_page(OFFICIAL_ACCOUNT_APPID).await;
    assert_eq!(s.get(&callback).await.status(), 200);
    let resp = s
        .http
        .post(format!("{}/_sim/push/unauthorized", s.sim.base_url))
        .json(&json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["delivered"], true);
    let resp = s
        .http
        .get(format!(
            "{}/authorizers/{OFFICIAL_ACCOUNT_APPID}",
            s.gateway.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
}
