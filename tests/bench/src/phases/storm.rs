//! Storm: many processes, an expired token, many concurrent requests.

use crate::process::FunctionProcess;
use crate::report::{ms, Report};
use crate::runtime_api;
use crate::setup::{binary, Bench};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::Instant;
use wechat_sim::accounts::{MINI_PROGRAM_APPID, OFFICIAL_ACCOUNT_APPID};

const STORM_PROCESSES: usize = 8;
const STORM_REQUESTS: usize = 256;

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    // 4. Storm: N processes, an expired token, many concurrent requests.
    eprintln!("[bench] storm: {STORM_PROCESSES} processes, {STORM_REQUESTS} concurrent requests");
    let mut storm = Vec::new();
    for _ in 0..STORM_PROCESSES {
        let p =
            FunctionProcess::spawn(&binary("authorizer-token"), &[], &b.env, "authorizer-token")
                .await;
        p.invoke(&json!({"authorizer_appid": MINI_PROGRAM_APPID}))
            .await;
        storm.push(p);
    }
    b.expire_token(OFFICIAL_ACCOUNT_APPID).await;
    let before = b
        .sim_calls()
        .await
        .get("api_authorizer_token")
        .copied()
        .unwrap_or(0);
    let started = Instant::now();
    let receivers: Vec<_> = (0..STORM_REQUESTS)
        .map(|i| {
            storm[i % STORM_PROCESSES]
                .api
                .invoke(&json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID}))
        })
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for r in receivers {
        match r.await.unwrap().0 {
            runtime_api::Outcome::Response(body) => {
                let v: Value = serde_json::from_slice(&body).unwrap();
                tokens.insert(v["authorizer_access_token"].as_str().unwrap().to_owned());
            }
            runtime_api::Outcome::Error(body) => {
                panic!("storm request failed: {}", String::from_utf8_lossy(&body))
            }
        }
    }
    let storm_time = started.elapsed();
    let refreshes = b
        .sim_calls()
        .await
        .get("api_authorizer_token")
        .copied()
        .unwrap_or(0)
        - before;
    for p in storm {
        p.stop().await;
    }
    writeln!(report.out, "\n## Storm\n\n{STORM_PROCESSES} `authorizer-token` processes, {STORM_REQUESTS} concurrent requests for an expired token: **{refreshes}** `api_authorizer_token` call(s) (target: 1); {} distinct token(s) handed out; all answered in {}.\n", tokens.len(), ms(storm_time)).unwrap();
    if refreshes != 1 || tokens.len() != 1 {
        report.notes.push(format!(
            "storm: {refreshes} refreshes and {} distinct tokens; the target is 1 and 1.",
            tokens.len()
        ));
    }
}
