//! The simulator and every HTTP function behind a loopback gateway, driven like a browser and
//! like WeChat: the simulator's pushes and messages reach the handlers for real.

use crate::dynamo;
use crate::functions::*;
use crate::gateway::Gateway;
use serde_json::Value;
use std::time::{Duration, Instant};
use wechat_sim::Simulator;
use wxopen::store::TicketStore;

/// The simulator and the functions behind a loopback gateway, on a fresh table.
pub struct Stack {
    /// WeChat.
    pub sim: Simulator,
    /// The functions' routes.
    pub gateway: Gateway,
    /// The store, to check DynamoDB.
    pub env_store: wxopen::store::DynamoStore,
    /// The services behind the gateway, to call the ones without a route (the refresher).
    pub services: Services,
    /// A client that does not follow redirects.
    pub http: reqwest::Client,
}

/// The stack with the default variables.
pub async fn stack() -> Stack {
    stack_with(&[]).await
}

/// The stack with extra variables for the functions (`EVENT_BUS_NAME`, say).
pub async fn stack_with(extra: &[(&str, &str)]) -> Stack {
    let table = dynamo::create_table(&dynamo::client().await).await;
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://{}", gateway_listener.local_addr().unwrap());
    crate::logs::capture();
    let sim = Simulator::start(
        sim_config(
            Some(format!("{gateway_url}/wechat/events")),
            Some(format!("{gateway_url}/wechat/messages/$APPID$")),
        ),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await;
    let callback = format!("{gateway_url}/wechat/callback");
    let (services, store, _) = platform_for(
        &table,
        &sim.base_url,
        &[
            &[
                ("WECHAT_AUTH_PAGE_BASE", sim.base_url.as_str()),
                ("AUTH_CALLBACK_URL", callback.as_str()),
            ],
            extra,
        ]
        .concat(),
    )
    .await;
    let gateway = Gateway::start_on(gateway_listener, services.clone());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stack = Stack {
        sim,
        gateway,
        env_store: store,
        services,
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
    /// GET as a browser (accepting HTML).
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http
            .get(url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
    }

    /// The `location` of a redirect.
    pub fn location(resp: &reqwest::Response) -> String {
        resp.headers()
            .get("location")
            .unwrap_or_else(|| panic!("no location: {resp:?}"))
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Opens the authorize link, then presses "Authorize" for `appid` on the simulator's page.
    /// Returns the callback URL WeChat sends the browser to.
    pub async fn authorize_on_page(&self, appid: &str) -> String {
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

    /// Queues a fault in the simulator.
    pub async fn fault(&self, fault: Value) {
        let resp = self
            .http
            .post(format!("{}/_sim/faults", self.sim.base_url))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
    }

    /// GET `url` and its JSON answer.
    pub async fn get_json(&self, url: &str) -> Value {
        let resp = self.http.get(url).send().await.unwrap();
        resp.json().await.unwrap()
    }

    /// POST `body` as JSON to `url`: the status and the JSON answer.
    pub async fn post_json(&self, url: &str, body: &Value) -> (u16, Value) {
        let resp = self.http.post(url).json(body).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Calls the simulator answered on `endpoint`.
    pub async fn calls(&self, endpoint: &str) -> u64 {
        self.sim.state.lock().unwrap().count(endpoint)
    }
}
