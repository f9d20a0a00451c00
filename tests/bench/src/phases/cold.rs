//! Cold start of every function, peak memory and size, against the Python baseline.

use crate::process::{ColdStart, FunctionProcess};
use crate::report::{mib, ms, size_of, Report};
use crate::setup::{binary, Bench, FUNCTIONS, ROOT};
use crate::stats::{self, summarize};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::Duration;
use wechat_sim::accounts::OFFICIAL_ACCOUNT_APPID;

pub fn check(function: &str, result: &Value) {
    let ok = match function {
        "authorize" => result["statusCode"] == 302,
        "callback" => result["statusCode"] == 200,
        "events" => result["body"] == "success",
        "exchange" => result["status"] == "authorized",
        "authorizer-info" => result["info_source"] == "live",
        "authorizer-token" => result["authorizer_access_token"].is_string(),
        "refresher" => result["component_token_expires_at"].is_i64(),
        "messages" => result["body"] == "success",
        "notifier" => result["batchItemFailures"] == serde_json::json!([]),
        "authorizer-api" => result["body"]["errcode"] == 0,
        "component-api" => result["option_value"] == "1",
        _ => false,
    };
    assert!(ok, "{function} answered unexpectedly: {result}");
}

struct Row {
    name: String,
    init: stats::Summary,
    first: stats::Summary,
    rss_kib: u64,
    /// The most KMS requests one cold start made.
    kms: u64,
}

fn cold_row(name: &str, runs: &[ColdStart], kms: u64) -> Row {
    let mut rss: Vec<u64> = runs.iter().map(|r| r.peak_rss_kib).collect();
    rss.sort();
    Row {
        name: name.to_owned(),
        init: summarize(&runs.iter().map(|r| r.init).collect::<Vec<_>>()),
        first: summarize(&runs.iter().map(|r| r.first_invocation).collect::<Vec<_>>()),
        rss_kib: rss[rss.len() - 1],
        kms,
    }
}

/// Why a function's first invocation takes what it takes: the round trips its work needs.
/// Each DynamoDB request to DynamoDB Local costs about what the warm "DynamoDB path" row shows.
fn first_invocation_why(function: &str) -> &'static str {
    match function {
        "callback" => "its first invocation is a whole authorization, in sequence: the state's first use recorded (a conditional put), the component token read, the code claimed (a conditional put), api_query_auth, two DynamoDB requests to store the authorizer (a read and one transaction with the history item and the code's hash), api_get_authorizer_info for the result page and the snapshot write; DynamoDB Local's transactions take several milliseconds each (see the warm DynamoDB path for a plain read). Fetching the profile for the page concurrently with the store write would remove one sequential round trip.",
        "refresher" => "its first invocation reads the component token and, for the component token job, nothing else; the reconcile is measured in its own section.",
        "exchange" | "authorizer-info" => "its work needs sequential DynamoDB requests (see calls per operation) after a WeChat call.",
        "messages" => "a user's message costs its id's first use (a conditional put), one DynamoDB read (is the account an authorizer, and its original id from the stored snapshot) and one EventBridge PutEvents; a cold container also resolves its credentials and opens both connections.",
        "notifier" => "its first invocation opens the connection to EventBridge and publishes the batch's event.",
        "authorizer-api" | "component-api" => "its first invocation reads the token from DynamoDB (the component token for component-api), then calls WeChat.",
        _ => "not analysed",
    }
}

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    let runs = b.runs;
    // 1. Cold start of every function, and the Python baseline.
    eprintln!("[bench] cold starts ({runs} runs per function)");
    let mut rows = Vec::new();
    // `BENCH_FUNCTIONS=a,b` measures only those (an older build may not serve them all).
    let only = std::env::var("BENCH_FUNCTIONS").ok();
    let chosen = |f: &&&str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|x| x.trim() == **f))
    };
    for function in FUNCTIONS.iter().filter(chosen) {
        let mut cold = Vec::new();
        let mut kms = 0;
        for _ in 0..runs {
            let payload = b.payload(function).await;
            let before = b.kms_calls();
            let (c, result) =
                FunctionProcess::cold_start(&binary(function), &[], &b.env, function, &payload)
                    .await;
            kms = kms.max(b.kms_calls() - before);
            check(function, &result);
            cold.push(c);
        }
        rows.push(cold_row(function, &cold, kms));
    }
    let python = format!("{ROOT}/.venv/bin/python");
    let baseline_script = format!("{ROOT}/tests/bench/baseline/authorizer_token.py");
    let mut cold = Vec::new();
    for _ in 0..runs {
        let (c, result) = FunctionProcess::cold_start(
            &python,
            &[&baseline_script],
            &b.env,
            "baseline",
            &json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID}),
        )
        .await;
        check("authorizer-token", &result);
        cold.push(c);
    }
    let baseline = cold_row(
        "Python baseline (wechatpy + boto3), authorizer-token",
        &cold,
        0,
    );

    writeln!(report.out, "## Cold start, peak memory and size\n\nFrom process spawn, with a minimal Lambda Runtime API on loopback; init is spawn to the first `next` request, first invocation is spawn to its response. Median and p99 of {runs} cold starts each; peak RSS is the largest VmHWM seen; KMS is the most KMS requests one cold start made, counted at a proxy in front of moto (a container unwraps the data key sealing tokens once; the baseline reads the stored values without opening them).\n").unwrap();
    writeln!(report.out, "| function | init median | init p99 | first invocation median | first invocation p99 | peak RSS | KMS |\n|---|---|---|---|---|---|---|").unwrap();
    for r in rows.iter().chain(std::iter::once(&baseline)) {
        writeln!(
            report.out,
            "| {} | {} | {} | {} | {} | {:.1} MiB | {} |",
            r.name,
            ms(r.init.median),
            ms(r.init.p99),
            ms(r.first.median),
            ms(r.first.p99),
            r.rss_kib as f64 / 1024.0,
            r.kms
        )
        .unwrap();
        if r.kms > 1 {
            report.notes.push(format!(
                "{}: {} KMS calls in one cold start, over 1.",
                r.name, r.kms
            ));
        }
    }
    let arm64 = size_of(&format!("{ROOT}/target/lambda/bundle/bootstrap"));
    let show = |size: Option<u64>| size.map(mib).unwrap_or_else(|| "n/a".into());
    writeln!(
        report.out,
        "\nEvery function runs the same executable, the bundle: {} for arm64 (what `sam build` ships), {} for x86-64 (what ran here).",
        show(arm64),
        show(size_of(&binary("authorize")))
    )
    .unwrap();
    if let Some(size) = arm64.filter(|size| *size > 8 * 1024 * 1024) {
        report.notes.push(format!(
            "the arm64 bundle, {}, is over the 8 MiB target.",
            mib(size)
        ));
    }
    let Some(token_row) = rows.iter().find(|r| r.name == "authorizer-token") else {
        return;
    };
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
    writeln!(
        report.out,
        "\nauthorizer-token against the Python baseline answering the same request from the same table: init {:.1}× faster, first invocation {:.1}× faster, peak RSS {:.1}× smaller.\n",
        ratio(token_row.init.median, baseline.init.median),
        ratio(token_row.first.median, baseline.first.median),
        baseline.rss_kib as f64 / token_row.rss_kib as f64
    )
    .unwrap();
    for r in &rows {
        if r.init.median > Duration::from_millis(15) {
            report.notes.push(format!(
                "{}: init median {} is over the 15 ms target.",
                r.name,
                ms(r.init.median)
            ));
        }
        if r.first.median > Duration::from_millis(30) {
            report.notes.push(format!(
                "{}: first invocation median {} is over the 30 ms target. Why, and what would fix it: {}",
                r.name,
                ms(r.first.median),
                first_invocation_why(&r.name)
            ));
        }
        if r.rss_kib > 20 * 1024 {
            report.notes.push(format!(
                "{}: peak RSS {:.1} MiB is over the 20 MiB target.",
                r.name,
                r.rss_kib as f64 / 1024.0
            ));
        }
        if ratio(r.init.median, baseline.init.median) < 10.0
            || ratio(r.first.median, baseline.first.median) < 10.0
        {
            report.notes.push(format!(
                "{}: less than 10× faster than the baseline on init or first invocation.",
                r.name
            ));
        }
    }
}
