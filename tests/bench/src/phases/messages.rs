//! The message URL: how long `messages` takes for the release test's `QUERY_AUTH_CODE` case
//! (the code exchanged and stored, then a customer-service message sent) against WeChat's 5 s.

use crate::process::FunctionProcess;
use crate::report::{ms, Report};
use crate::setup::{binary, Bench};
use crate::stats::summarize;
use serde_json::Value;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// WeChat's budget for an answer.
const BUDGET: Duration = Duration::from_secs(5);

fn check(result: &Value) {
    assert_eq!(result["statusCode"], 200, "{result}");
    assert_eq!(result["body"].as_str().unwrap_or(""), "", "{result}");
}

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    let runs = b.runs;
    eprintln!("[bench] messages: the release test's QUERY_AUTH_CODE case ({runs} runs)");
    let mut cold = Vec::new();
    let (mut cold_wechat, mut cold_dynamo) = (0u64, 0u64);
    for _ in 0..runs {
        let payload = b.query_auth_code_message();
        let wechat_before: u64 = b.sim_calls().await.values().sum();
        let dynamo_before: u64 = b.proxy.counts().values().sum();
        let (c, result) =
            FunctionProcess::cold_start(&binary("messages"), &[], &b.env, "messages", &payload)
                .await;
        check(&result);
        cold.push(c.first_invocation);
        cold_wechat += b.sim_calls().await.values().sum::<u64>() - wechat_before;
        cold_dynamo += b.proxy.counts().values().sum::<u64>() - dynamo_before;
    }
    let p = FunctionProcess::spawn(&binary("messages"), &[], &b.env, "messages").await;
    let first = b.query_auth_code_message();
    check(&p.invoke(&first).await.0);
    let mut warm = Vec::new();
    let (mut wechat, mut dynamo) = (0u64, 0u64);
    for _ in 0..runs {
        let payload = b.query_auth_code_message();
        let sent_before = b.sim.state.lock().unwrap().sent_messages().len();
        let wechat_before: u64 = b.sim_calls().await.values().sum();
        let dynamo_before: u64 = b.proxy.counts().values().sum();
        let started = Instant::now();
        let (result, at) = p.invoke(&payload).await;
        warm.push(at - started);
        check(&result);
        assert_eq!(
            b.sim.state.lock().unwrap().sent_messages().len(),
            sent_before + 1
        );
        wechat += b.sim_calls().await.values().sum::<u64>() - wechat_before;
        dynamo += b.proxy.counts().values().sum::<u64>() - dynamo_before;
    }
    p.stop().await;
    let (cold, warm) = (summarize(&cold), summarize(&warm));
    let per = |n: u64| n as f64 / runs as f64;
    writeln!(report.out, "\n## The message URL: the release test's API case\n\nWeChat sends `QUERY_AUTH_CODE:<code>` and waits at most 5 s: `messages` exchanges the code (`api_query_auth`, then the authorizer stored: a read and one transaction) and sends `<code>_from_api` through `cgi-bin/message/custom/send` with the token the exchange returned (kept in memory, no read), then answers with an empty body. From the request to the answer, {runs} runs each.\n\n| container | median | p99 | budget | WeChat calls | DynamoDB requests |\n|---|---|---|---|---|---|").unwrap();
    writeln!(report.out, "| cold (spawn to answer; the component token is read once) | {} | {} | 5 s | {:.1} | {:.1} |", ms(cold.median), ms(cold.p99), per(cold_wechat), per(cold_dynamo)).unwrap();
    writeln!(
        report.out,
        "| warm | {} | {} | 5 s | {:.1} | {:.1} |",
        ms(warm.median),
        ms(warm.p99),
        per(wechat),
        per(dynamo)
    )
    .unwrap();
    if cold.p99 > BUDGET || warm.p99 > BUDGET {
        report.notes.push(
            "messages: the QUERY_AUTH_CODE case took longer than WeChat's 5 s budget.".into(),
        );
    }
    if per(wechat) > 2.0 || per(dynamo) > 2.0 {
        report.notes.push(format!(
            "messages, QUERY_AUTH_CODE (warm): {:.1} WeChat calls and {:.1} DynamoDB requests against a minimum of 2 and 2. Why: the message id is recorded (a conditional put, so a replay sends nothing twice) and the code claimed (a conditional put, so the push and the message never both send it) before the exchange's read and transaction; both are what the guarantees cost.",
            per(wechat),
            per(dynamo)
        ));
    }
}
