//! Reconcile at scale: the simulator seeded with N authorized accounts, the release
//! `refresher` reconciling them against DynamoDB Local through the counting proxy: the first
//! reconcile (every account added, across as many runs as it takes) and a steady-state one
//! (nothing changed), at each size.

use crate::process::FunctionProcess;
use crate::report::{mib, ms, Report};
use crate::setup::{binary, Bench};
use integration_tests::functions::start_simulator;
use integration_tests::functions::COMPONENT;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use wxopen::clock::Timestamp;
use wxopen::store::{DynamoStore, TicketStore};
use wxopen_models::{ComponentAppid, VerifyTicket};

/// Operations that write authorizers (the reconcile writes each with its history item in a
/// transaction).
const AUTHORIZER_WRITES: &[&str] = &[
    "PutItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];
/// The reconcile's own bookkeeping: its lease and its position, one update per page.
const POSITION_WRITES: &[&str] = &["UpdateItem"];

/// What a sequence of runs cost.
struct Cost {
    runs: usize,
    wall: Duration,
    requests: u64,
    writes: u64,
    position_writes: u64,
    capacity: f64,
    wechat: u64,
    outcome: String,
    peak_rss_kib: u64,
}

fn sizes() -> Vec<usize> {
    std::env::var("BENCH_SCALE")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

fn run_timeout() -> Duration {
    let secs = std::env::var("BENCH_RECONCILE_TIMEOUT_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(900);
    Duration::from_secs(secs)
}

fn sim_calls(sim: &wechat_sim::Simulator) -> u64 {
    sim.state.lock().unwrap().total_calls()
}

/// Invokes `{"job": "reconcile"}` until a pass completes (at most `max_runs` runs).
async fn reconcile(
    b: &Bench,
    p: &FunctionProcess,
    sim: &wechat_sim::Simulator,
    max_runs: usize,
) -> Cost {
    let (requests_before, capacity_before) = (b.proxy.counts(), b.proxy.capacity());
    let wechat_before = sim_calls(sim);
    let started = Instant::now();
    let mut cost = Cost {
        runs: 0,
        wall: Duration::ZERO,
        requests: 0,
        writes: 0,
        position_writes: 0,
        capacity: 0.0,
        wechat: 0,
        outcome: String::new(),
        peak_rss_kib: 0,
    };
    while cost.runs < max_runs {
        let (result, _) = p.invoke(&json!({"job": "reconcile"})).await;
        cost.runs += 1;
        cost.outcome = result["reconcile"]["outcome"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        if cost.outcome == "complete" {
            break;
        }
    }
    cost.wall = started.elapsed();
    for (op, n) in &b.proxy.counts() {
        let d = n - requests_before.get(op).copied().unwrap_or(0);
        cost.requests += d;
        if AUTHORIZER_WRITES.contains(&op.as_str()) {
            cost.writes += d;
        }
        if POSITION_WRITES.contains(&op.as_str()) {
            cost.position_writes += d;
        }
    }
    let capacity_after = b.proxy.capacity();
    cost.capacity = capacity_after.values().sum::<f64>() - capacity_before.values().sum::<f64>();
    cost.wechat = sim_calls(sim) - wechat_before;
    cost.peak_rss_kib = p.peak_rss_kib();
    cost
}

/// Stored authorizers, counted directly (not through the proxy).
async fn stored_count(table: &str) -> u64 {
    let client = integration_tests::dynamo::client().await;
    let mut count = 0;
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("component#{COMPONENT}")),
            )
            .expression_attribute_values(
                ":p",
                aws_sdk_dynamodb::types::AttributeValue::S("authorizer#".into()),
            )
            .select(aws_sdk_dynamodb::types::Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("count the stored authorizers");
        count += out.count as u64;
        start = out.last_evaluated_key;
        if start.is_none() {
            return count;
        }
    }
}

/// One size: a fresh simulator and table, a first reconcile, then a steady one.
async fn at_size(b: &Bench, n: usize, timeout: Duration) -> (Cost, Cost, u64) {
    let sim = start_simulator().await;
    sim.state.lock().unwrap().seed_authorizations(n);
    sim.state.lock().unwrap().latest_ticket = Some("ticket@@@scale".into());
    let client = integration_tests::dynamo::client().await;
    let table = integration_tests::dynamo::create_table(&client).await;
    let component = ComponentAppid::parse(COMPONENT).unwrap();
    let key = integration_tests::kms::create_key().await;
    let store = DynamoStore::new(
        client,
        table.clone(),
        component,
        integration_tests::kms::vault_on(&key).await,
    );
    store
        .save_ticket(&VerifyTicket::new("ticket@@@scale"), Timestamp::now())
        .await
        .unwrap();
    let mut env: BTreeMap<String, String> = b.env.clone();
    env.insert("TABLE_NAME".into(), table.clone());
    env.insert("TOKEN_KMS_KEY_ID".into(), key);
    env.insert("WECHAT_API_BASE".into(), sim.base_url.clone());
    let p =
        FunctionProcess::spawn_with_timeout(&binary("refresher"), &[], &env, "refresher", timeout)
            .await;
    let first = reconcile(b, &p, &sim, 50).await;
    let stored = stored_count(&table).await;
    let steady = reconcile(b, &p, &sim, 1).await;
    p.stop().await;
    (first, steady, stored)
}

fn row(out: &mut String, n: usize, pass: &str, c: &Cost) {
    let per = |x: f64| x / n as f64;
    writeln!(
        out,
        "| {n} | {pass} | {} ({}) | {} | {} | {:.4} | {} | {} | {:.1} | {:.4} | {} | {} |",
        c.runs,
        c.outcome,
        ms(c.wall),
        c.requests,
        per(c.requests as f64),
        c.writes,
        c.position_writes,
        c.capacity,
        per(c.capacity),
        c.wechat,
        mib(c.peak_rss_kib * 1024),
    )
    .unwrap();
}

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    let timeout = run_timeout();
    writeln!(report.out, "\n## Reconcile at scale\n\nThe simulator seeded with N authorized accounts; the release `refresher` invoked with `{{\"job\": \"reconcile\"}}` and a {}-second deadline per run (Lambda's limit for this function) until the pass completes, against DynamoDB Local through the counting proxy (which also asks for the consumed capacity). First: an empty table, every account added (each with its grant from `api_get_authorizer_info`). Steady: the next pass, nothing changed at WeChat.\n\nAuthorizer writes are the transactions that add an authorizer or replace its refresh token (with the history item); position writes are the reconcile's own lease and position (one per page of 500). Capacity units are what DynamoDB Local reports (`ReturnConsumedCapacity`).\n\n| authorizers | pass | runs (outcome) | wall time | DynamoDB requests | per authorizer | authorizer writes | position writes | capacity units | per authorizer | WeChat calls | refresher peak RSS |\n|---|---|---|---|---|---|---|---|---|---|---|---|", timeout.as_secs()).unwrap();
    for n in sizes() {
        eprintln!("[bench] reconcile at scale: {n} authorizers");
        let (first, steady, stored) = at_size(b, n, timeout).await;
        row(&mut report.out, n, "first", &first);
        row(&mut report.out, n, "steady", &steady);
        if stored != n as u64 {
            report.notes.push(format!(
                "reconcile at {n}: {stored} authorizers stored after the first pass, not {n}."
            ));
        }
        if first.outcome != "complete" || steady.outcome != "complete" {
            report.notes.push(format!(
                "reconcile at {n}: a pass did not complete ({} / {}).",
                first.outcome, steady.outcome
            ));
        }
        let per = steady.requests as f64 / n as f64;
        if per > 0.05 || steady.writes > 0 {
            report.notes.push(format!("reconcile at {n}: steady state made {per:.4} DynamoDB requests per authorizer and {} authorizer writes; the targets are 0.05 and 0.", steady.writes));
        }
        if steady.wall > timeout {
            report.notes.push(format!(
                "reconcile at {n}: the steady pass took {} (over one run).",
                ms(steady.wall)
            ));
        }
    }
    // The largest size again with short runs: the first pass must cross runs, each resuming
    // where the previous one stopped, and still store every account.
    let Some(&n) = sizes().iter().max() else {
        return;
    };
    let short = Duration::from_secs(60);
    eprintln!("[bench] reconcile at scale: {n} authorizers in 60-second runs");
    let (first, _, stored) = at_size(b, n, short).await;
    row(&mut report.out, n, "first, 60-second runs", &first);
    writeln!(report.out, "\nWith 60-second runs the first pass of {n} took {} runs, each continuing at the stored position; {stored} of {n} accounts were stored at the end.", first.runs).unwrap();
    if stored != n as u64 || first.outcome != "complete" {
        report.notes.push(format!(
            "reconcile at {n} in 60-second runs: {stored} stored, outcome {}.",
            first.outcome
        ));
    }
}
