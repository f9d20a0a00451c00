//! Warm latency: handler time in process, and the round trip through the Runtime API.

use crate::process::FunctionProcess;
use crate::report::{us, Report};
use crate::setup::{binary, Bench};
use crate::stats::summarize;
use integration_tests::functions::platform_with_settings;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use wechat_sim::accounts::OFFICIAL_ACCOUNT_APPID;
use wxopen::tokens::TokenSettings;

const WARM_ITERATIONS: usize = 1000;

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    // 2. Warm latency: handler time in process, and the round trip through the Runtime API.
    eprintln!("[bench] warm latency ({WARM_ITERATIONS} invocations each)");
    let direct = |v: Value| integration_tests::functions::direct(v);
    let mut warm = Vec::new();
    for (label, settings, function) in [
        (
            "authorizer-token, memory-cache hit (handler)",
            TokenSettings::default(),
            "token",
        ),
        (
            "authorizer-token, DynamoDB path (handler)",
            TokenSettings {
                memory_ttl: Duration::ZERO,
                ..TokenSettings::default()
            },
            "token",
        ),
        (
            "authorizer-info, snapshot hit (handler)",
            TokenSettings::default(),
            "info",
        ),
    ] {
        let (services, _, _) =
            platform_with_settings(&b.table, &b.sim.base_url, &[], settings).await;
        let payload = match function {
            "token" => json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID}),
            _ => json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "max_age_seconds": 3600}),
        };
        let mut samples = Vec::with_capacity(WARM_ITERATIONS);
        for i in 0..=WARM_ITERATIONS {
            let req = direct(payload.clone());
            let started = Instant::now();
            let resp = match function {
                "token" => authorizer_token::handler::handle(&services.authorizers, req).await,
                _ => authorizer_info::handler::handle(&services.authorizers, req).await,
            }
            .expect("warm invocation");
            let elapsed = started.elapsed();
            assert_eq!(resp.status(), 200);
            if i > 0 {
                samples.push(elapsed);
            }
        }
        warm.push((label.to_owned(), summarize(&samples)));
    }
    let token_process =
        FunctionProcess::spawn(&binary("authorizer-token"), &[], &b.env, "authorizer-token").await;
    let payload = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID});
    token_process.invoke(&payload).await;
    let mut samples = Vec::new();
    let kms_before = b.kms_calls();
    for _ in 0..WARM_ITERATIONS {
        let started = Instant::now();
        let (_, done) = token_process.invoke(&payload).await;
        samples.push(done - started);
    }
    let warm_kms = b.kms_calls() - kms_before;
    warm.push((
        "authorizer-token, memory-cache hit (Runtime API round trip)".into(),
        summarize(&samples),
    ));
    token_process.stop().await;
    writeln!(report.out, "## Warm latency\n\nHandler time is measured around the function's handler in process; the round trip adds the runtime's polling of the emulated Runtime API over loopback HTTP.\n\n| operation | median | p99 | n |\n|---|---|---|---|").unwrap();
    for (label, s) in &warm {
        writeln!(
            report.out,
            "| {label} | {} | {} | {} |",
            us(s.median),
            us(s.p99),
            s.n
        )
        .unwrap();
    }
    writeln!(
        report.out,
        "\nKMS requests during the {WARM_ITERATIONS} warm Runtime API invocations of authorizer-token: {warm_kms} (the data key stays unwrapped in the container)."
    )
    .unwrap();
    if warm_kms > 0 {
        report.notes.push(format!(
            "{warm_kms} KMS calls in warm requests, where 0 is the target."
        ));
    }
    if warm[0].1.median > Duration::from_micros(100) {
        report.notes.push(format!(
            "authorizer-token memory-cache hit: handler median {} is over the 100 µs target.",
            us(warm[0].1.median)
        ));
    }
}
