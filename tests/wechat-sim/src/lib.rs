//! A stateful loopback stand-in for WeChat: the component APIs this project calls, the
//! authorization page, encrypted pushes to the platform's event URL, the customer-service
//! message API, fast registration and code management of Mini Programs, WeChat's full-network release test against
//! the message URL, and an admin API
//! (`/_sim/...`) for faults and counters. Protocol errors are WeChat's own `errcode/errmsg`.

pub mod account_api;
pub mod accounts;
mod admin;
mod api;
pub mod code;
pub mod library;
mod page;
pub mod push;
pub mod registration;
pub mod release;
pub mod state;

use axum::routing::{get, post};
use axum::Router;
use std::sync::{Arc, Mutex};

pub use state::{Fault, SimConfig};

/// The shared state handle.
pub type Shared = Arc<Mutex<state::State>>;

/// A running simulator.
pub struct Simulator {
    /// `http://127.0.0.1:PORT`: both `WECHAT_API_BASE` and `WECHAT_AUTH_PAGE_BASE`.
    pub base_url: String,
    /// The state, for in-process tests.
    pub state: Shared,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The routes.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/cgi-bin/component/{endpoint}", post(api::handle))
        .route("/cgi-bin/component/clear_quota/v2", post(api::clear_quota))
        .route("/cgi-bin/message/custom/send", post(api::custom_send))
        .route(
            "/cgi-bin/{*rest}",
            get(account_api::echo).post(account_api::echo),
        )
        .route(
            "/datacube/{*rest}",
            get(account_api::echo).post(account_api::echo),
        )
        .route("/wxa/getwxacode", post(account_api::getwxacode))
        .route(
            "/wxa/gettemplatedraftlist",
            get(library::handle).post(library::handle),
        )
        .route(
            "/wxa/addtotemplate",
            get(library::handle).post(library::handle),
        )
        .route(
            "/wxa/gettemplatelist",
            get(library::handle).post(library::handle),
        )
        .route(
            "/wxa/deletetemplate",
            get(library::handle).post(library::handle),
        )
        .route("/wxa/commit", get(code::handle).post(code::handle))
        .route("/wxa/getversioninfo", get(code::handle).post(code::handle))
        .route("/wxa/queryquota", get(code::handle).post(code::handle))
        .route("/wxa/submit_audit", get(code::handle).post(code::handle))
        .route("/wxa/get_auditstatus", get(code::handle).post(code::handle))
        .route(
            "/wxa/get_latest_auditstatus",
            get(code::handle).post(code::handle),
        )
        .route("/wxa/release", get(code::handle).post(code::handle))
        .route("/wxa/grayrelease", get(code::handle).post(code::handle))
        .route(
            "/wxa/revertgrayrelease",
            get(code::handle).post(code::handle),
        )
        .route(
            "/wxa/revertcoderelease",
            get(code::handle).post(code::handle),
        )
        .route(
            "/wxa/component/fastregisterenterpriseweapp",
            post(registration::enterprise),
        )
        .route(
            "/wxa/component/fastregisterpersonalweapp",
            post(registration::personal),
        )
        .route(
            "/wxa/component/fastregisterbetaweapp",
            post(registration::beta),
        )
        .route(
            "/wxa/{*rest}",
            get(account_api::echo).post(account_api::echo),
        )
        .route(
            "/sns/component/jscode2session",
            get(account_api::jscode2session),
        )
        .route(
            "/sns/oauth2/component/access_token",
            get(account_api::oauth_access_token),
        )
        .route("/_sim/refuse-token", post(admin::refuse_token))
        .route("/cgi-bin/componentloginpage", get(page::authorization_page))
        .route("/safe/bindcomponent", get(page::authorization_page))
        .route("/_sim/confirm", post(page::confirm))
        .route("/_sim/calls", get(admin::calls))
        .route("/_sim/status", get(admin::status))
        .route("/_sim/faults", post(admin::add_fault))
        .route("/_sim/seed", post(admin::seed))
        .route("/_sim/expire-codes", post(admin::expire_codes))
        .route("/_sim/push/ticket", post(admin::push_ticket_now))
        .route("/_sim/push/unauthorized", post(admin::push_unauthorized))
        .route("/_sim/push/component", post(admin::push_component))
        .route(
            "/_sim/push/updateauthorized",
            post(admin::push_updateauthorized),
        )
        .route("/_sim/sent", get(admin::sent))
        .route("/_sim/registrations", get(registration::list))
        .route("/_sim/code", get(code::status))
        .route("/_sim/code/settings", post(code::settings))
        .route("/_sim/audits/decide", post(code::decide))
        .route("/_sim/registrations/complete", post(registration::complete))
        .route("/_sim/release-test", post(release::release_test))
        .with_state(state)
}

impl Simulator {
    /// Serves on `listener`; with an events URL, pushes tickets at start and every interval.
    pub async fn start(config: SimConfig, listener: tokio::net::TcpListener) -> Self {
        let base_url = format!(
            "http://{}",
            listener.local_addr().expect("a bound listener")
        );
        let pushes = config.events_url.is_some();
        let state: Shared = Arc::new(Mutex::new(state::State::new(config)));
        let app = router(state.clone());
        let mut tasks = vec![tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the simulator serves");
        })];
        if pushes {
            tasks.push(tokio::spawn(push::ticket_loop(state.clone())));
        }
        Self {
            base_url,
            state,
            tasks,
        }
    }
}
