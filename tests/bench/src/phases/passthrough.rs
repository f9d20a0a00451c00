//! `authorizer-api`: what it adds to the WeChat round trip when the token is in memory, against
//! the same request sent straight to WeChat (the simulator) with the token already in hand.

use crate::report::{us, Report};
use crate::setup::Bench;
use crate::stats::summarize;
use integration_tests::functions::{body_json, direct, platform_for};
use serde_json::json;
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use wechat_sim::accounts::OFFICIAL_ACCOUNT_APPID;
use wxopen::store::AuthorizerStore;

const ITERATIONS: usize = 1000;
const PATH: &str = "/cgi-bin/get_current_selfmenu_info";

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    eprintln!("[bench] authorizer-api overhead ({ITERATIONS} calls each way)");
    let (services, store, _) = platform_for(&b.table, &b.sim.base_url, &[]).await;
    let payload =
        json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "path": PATH, "method": "GET"});
    let call = || async {
        let resp =
            authorizer_api::handler::handle(&services.authorizer_calls, direct(payload.clone()))
                .await
                .expect("an answer");
        assert_eq!(body_json(&resp)["body"]["errcode"], 0);
    };
    call().await; // the token is now in this container's memory
    let appid = wxopen_models::AuthorizerAppid::parse(OFFICIAL_ACCOUNT_APPID).unwrap();
    let token = store
        .load_authorizer(&appid)
        .await
        .unwrap()
        .and_then(|a| a.access)
        .expect("a stored token")
        .token;
    let url = format!("{}{PATH}", b.sim.base_url);
    let http = reqwest::Client::new();
    let straight = || async {
        let body: serde_json::Value = http
            .get(&url)
            .query(&[("access_token", token.expose())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["errcode"], 0);
    };
    straight().await;
    // Interleaved, so that both see the same machine.
    let (mut via, mut direct_times, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ITERATIONS {
        let t = Instant::now();
        straight().await;
        let d = t.elapsed();
        let t = Instant::now();
        call().await;
        let v = t.elapsed();
        direct_times.push(d);
        via.push(v);
        overhead.push(v.saturating_sub(d));
    }
    let (via, straight, overhead) = (
        summarize(&via),
        summarize(&direct_times),
        summarize(&overhead),
    );
    writeln!(report.out, "\n## authorizer-api: overhead over the WeChat round trip\n\nThe same `GET {PATH}` {ITERATIONS} times: straight to WeChat (the simulator on loopback) with the token in hand, and through the `authorizer-api` handler in process with the token in its memory (path checks, the token from memory, the call, the answer as JSON, the audit line). Interleaved; the overhead is each pair's difference.\n\n| | median | p99 |\n|---|---|---|").unwrap();
    writeln!(
        report.out,
        "| straight to WeChat | {} | {} |",
        us(straight.median),
        us(straight.p99)
    )
    .unwrap();
    writeln!(
        report.out,
        "| through authorizer-api | {} | {} |",
        us(via.median),
        us(via.p99)
    )
    .unwrap();
    writeln!(
        report.out,
        "| overhead | {} | {} |",
        us(overhead.median),
        us(overhead.p99)
    )
    .unwrap();
    if overhead.median > Duration::from_millis(1) {
        report.notes.push(format!(
            "authorizer-api: median overhead {} is over the 1 ms target.",
            us(overhead.median)
        ));
    }
}
