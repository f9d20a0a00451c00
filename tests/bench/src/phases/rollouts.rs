//! A rollout at scale: N seeded Mini Programs (1,000 by default, `BENCH_ROLLOUT_TARGETS`), the
//! release `rollouts` function driven as Lambda drives it (batches of ten from its SQS queue on
//! moto), against DynamoDB Local through the counting proxy, until every target is in audit:
//! the time it takes on this machine, and WeChat calls and DynamoDB requests per target against
//! the minimum this design's guarantees allow.

use crate::process::FunctionProcess;
use crate::report::{ms, Report};
use crate::setup::{binary, Bench};
use integration_tests::functions::{platform_for, start_simulator};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use wxopen::clock::Timestamp;
use wxopen::store::TicketStore;
use wxopen_models::{AuthorizationCode, VerifyTicket};

/// WeChat calls a target needs to reach `in_audit`: `commit`, `queryquota` (before each
/// submission, as the quota is shared), `submit_audit`.
const MIN_WECHAT: f64 = 3.0;
/// DynamoDB requests a target needs with this design's guarantees: its read, and for each of
/// the two spending calls a conditional write announcing it and one settling it.
const MIN_DYNAMODB: f64 = 5.0;

fn targets() -> usize {
    std::env::var("BENCH_ROLLOUT_TARGETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// `n` Mini Programs authorized at the simulator and stored (exchanged, sixteen at a time).
async fn authorized(sim: &wechat_sim::Simulator, table: &str, key: &str, n: usize) {
    let seeded = sim.state.lock().unwrap().seed_mini_programs(n);
    let extra = [("TOKEN_KMS_KEY_ID", key)];
    let (services, store, _) = platform_for(table, &sim.base_url, &extra).await;
    store
        .save_ticket(&VerifyTicket::new("ticket@@@rollouts"), Timestamp::now())
        .await
        .unwrap();
    for chunk in seeded.chunks(16) {
        let exchanges = chunk.iter().map(|(_, code)| {
            let code = AuthorizationCode::new(code.clone());
            let exchanger = services.exchanger.clone();
            async move {
                exchanger
                    .exchange(&code, Timestamp::now(), None)
                    .await
                    .unwrap()
            }
        });
        futures_join(exchanges).await;
    }
}

async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) {
    let handles: Vec<_> = futures.collect();
    for f in handles {
        f.await;
    }
}

async fn queue(sqs: &aws_sdk_sqs::Client) -> String {
    let name = format!("bench-rollout-{}", Timestamp::now().millis());
    let out = sqs.create_queue().queue_name(name).send().await.unwrap();
    out.queue_url.unwrap()
}

/// Feeds the queue to the function, ten messages an invocation, until `done` says so.
async fn drive(
    p: &FunctionProcess,
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    id: &str,
    n: usize,
) -> (u64, Value) {
    let mut invocations = 0;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let batch = got.messages.unwrap_or_default();
        if !batch.is_empty() {
            let records: Vec<Value> = batch
                .iter()
                .map(|m| json!({"messageId": m.message_id, "body": m.body, "eventSource": "aws:sqs"}))
                .collect();
            let (answer, _) = p.invoke(&json!({ "Records": records })).await;
            invocations += 1;
            let failed = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
            for m in batch.iter().filter(|_| failed == 0) {
                let handle = m.receipt_handle.clone().unwrap();
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap();
            }
            continue;
        }
        let (status, _) = p.invoke(&json!({"op": "status", "rollout_id": id})).await;
        if status["counts"]["in_audit"].as_u64() == Some(n as u64) || Instant::now() > deadline {
            return (invocations, status);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    let n = targets();
    eprintln!("[bench] rollout of {n} Mini Programs through commit and submit");
    let sim = start_simulator().await;
    sim.state.lock().unwrap().latest_ticket = Some("ticket@@@rollouts".into());
    sim.state.lock().unwrap().code.rest = n as i64 + 10;
    let client = integration_tests::dynamo::client().await;
    let table = integration_tests::dynamo::create_table(&client).await;
    let key = integration_tests::kms::create_key().await;
    authorized(&sim, &table, &key, n).await;
    let sqs = aws_sdk_sqs::Client::new(&integration_tests::dynamo::sdk_config().await);
    let url = queue(&sqs).await;
    let mut env: BTreeMap<String, String> = b.env.clone();
    env.insert("TABLE_NAME".into(), table.clone());
    env.insert("TOKEN_KMS_KEY_ID".into(), key);
    env.insert("WECHAT_API_BASE".into(), sim.base_url.clone());
    env.insert("ROLLOUT_QUEUE_URL".into(), url.clone());
    env.insert(
        "AWS_ENDPOINT_URL_SQS".into(),
        std::env::var("AWS_ENDPOINT_URL_SQS").unwrap_or_default(),
    );
    let p = FunctionProcess::spawn_with_timeout(
        &binary("rollouts"),
        &[],
        &env,
        "rollouts",
        Duration::from_secs(300),
    )
    .await;
    let (requests_before, wechat_before) =
        (b.proxy.counts(), sim.state.lock().unwrap().total_calls());
    let started = Instant::now();
    let create = json!({"op": "create", "template_id": 7, "user_version": "3.0.0", "user_desc": "bench",
        "ext_json": {"extAppid": "{{authorizer_appid}}"}, "targets": "all", "audit": {"version_desc": "bench"},
        "release": "auto", "max_in_audit": n});
    let (created, _) = p.invoke(&create).await;
    let id = created["rollout_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (invocations, status) = drive(&p, &sqs, &url, &id, n).await;
    let wall = started.elapsed();
    let requests: u64 = b
        .proxy
        .counts()
        .iter()
        .map(|(op, c)| c - requests_before.get(op).copied().unwrap_or(0))
        .sum();
    let wechat = sim.state.lock().unwrap().total_calls() - wechat_before;
    let reached = status["counts"]["in_audit"].as_u64().unwrap_or(0);
    p.stop().await;
    let per = |x: u64| x as f64 / reached.max(1) as f64;
    writeln!(report.out, "\n## A rollout at scale\n\nThe release `rollouts` function (the bundle) creating a rollout over {n} seeded Mini Programs, then fed its SQS queue (moto) ten messages an invocation as Lambda feeds it, against the simulator and DynamoDB Local through the counting proxy, until every target is in audit (`max_in_audit` and the quota above {n}). Per target that reached `in_audit`: WeChat calls counted at the simulator and DynamoDB requests at the proxy, beside the minimum this design's guarantees allow (WeChat: `commit`, `queryquota`, `submit_audit`; DynamoDB: the target's read, a write announcing each spending call and one settling it).\n\n| targets | in audit | wall time (create to all in audit) | invocations | WeChat calls per target | minimum | DynamoDB requests per target | minimum |\n|---|---|---|---|---|---|---|---|").unwrap();
    writeln!(
        report.out,
        "| {n} | {reached} | {} | {invocations} | {:.2} | {MIN_WECHAT} | {:.1} | {MIN_DYNAMODB} |",
        ms(wall),
        per(wechat),
        per(requests)
    )
    .unwrap();
    let commits: u64 = sim
        .state
        .lock()
        .unwrap()
        .code
        .apps
        .values()
        .map(|a| a.done.get("commit").copied().unwrap_or(0) as u64)
        .sum();
    writeln!(report.out, "\nCommits accepted by the simulator: {commits} for {n} targets; submissions: {reached} in audit.").unwrap();
    if reached == 0 {
        report.notes.push(format!(
            "rollout at scale: no target reached in_audit ({status})"
        ));
    }
}
