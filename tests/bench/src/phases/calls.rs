//! Calls per operation, counted at the simulator and at the DynamoDB proxy.

use crate::process::FunctionProcess;
use crate::report::Report;
use crate::setup::{binary, Bench};
use serde_json::{json, Value};
use std::fmt::Write as _;
use wechat_sim::accounts::OFFICIAL_ACCOUNT_APPID;

/// What one invocation cost: WeChat calls, DynamoDB requests, and the requests by kind.
struct Measured {
    wechat: u64,
    dynamo: u64,
    kinds: String,
}

/// The counters now: WeChat calls at the simulator, DynamoDB requests at the proxy.
async fn snapshot(b: &Bench) -> (u64, std::collections::BTreeMap<String, u64>) {
    (b.sim_calls().await.values().sum(), b.proxy.counts())
}

async fn measure(b: &Bench, p: &FunctionProcess, payload: &Value) -> Measured {
    let since = snapshot(b).await;
    measure_since(b, p, payload, since).await
}

/// What one invocation cost, counted from `since` (taken before the process started, for a
/// cold container: its start-up's requests count too).
async fn measure_since(
    b: &Bench,
    p: &FunctionProcess,
    payload: &Value,
    (wechat_before, dynamo_before): (u64, std::collections::BTreeMap<String, u64>),
) -> Measured {
    p.invoke(payload).await;
    let wechat_after: u64 = b.sim_calls().await.values().sum();
    let mut dynamo = 0;
    let mut kinds = Vec::new();
    for (op, n) in &b.proxy.counts() {
        let d = n - dynamo_before.get(op).copied().unwrap_or(0);
        if d > 0 {
            dynamo += d;
            kinds.push(format!("{op} {d}"));
        }
    }
    Measured {
        wechat: wechat_after - wechat_before,
        dynamo,
        kinds: kinds.join(", "),
    }
}

/// One row of the calls-per-operation table.
struct Call {
    op: &'static str,
    wechat: u64,
    wechat_min: u64,
    dynamo: u64,
    dynamo_min: u64,
    what: &'static str,
    kinds: String,
    /// Why the count exceeds the minimum, and what would fix it.
    why: &'static str,
}

impl Call {
    fn new(
        op: &'static str,
        m: Measured,
        (wechat_min, dynamo_min): (u64, u64),
        what: &'static str,
        why: &'static str,
    ) -> Self {
        Self {
            op,
            wechat: m.wechat,
            wechat_min,
            dynamo: m.dynamo,
            dynamo_min,
            what,
            kinds: m.kinds,
            why,
        }
    }
}

/// Runs the phase and writes its section.
pub async fn run(b: &mut Bench, report: &mut Report) {
    // 3. Calls per operation, counted at the simulator and at the DynamoDB proxy.
    eprintln!("[bench] calls per operation");
    let mut calls: Vec<Call> = Vec::new();
    {
        let p = FunctionProcess::spawn(&binary("exchange"), &[], &b.env, "exchange").await;
        p.invoke(&b.payload("exchange").await).await;
        let payload = b.payload("exchange").await;
        let m = measure(b, &p, &payload).await;
        calls.push(Call::new("exchange (warm)", m, (1, 2),
            "api_query_auth; DynamoDB: claim the code (conditional put, so the push and the redirect send it once), read the stored record, one transaction (record, history item, the code's hash)",
            "the claim is what makes a code cost one api_query_auth when the push and the redirect race, and a refused code cost no wait; the read keeps the first authorization time and names the history item (authorized, re-authorized, permissions changed); the transaction writes the rest at once"));
        p.stop().await;
    }
    {
        let payload = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID});
        let since = snapshot(b).await;
        let p =
            FunctionProcess::spawn(&binary("authorizer-token"), &[], &b.env, "authorizer-token")
                .await;
        let m = measure_since(b, &p, &payload, since).await;
        calls.push(Call::new(
            "token, DynamoDB path (cold container)",
            m,
            (0, 2),
            "one strongly consistent read; at start-up, the lookup of the data key sealing tokens (a Query, started at init beside the first request)",
            "",
        ));
        let m = measure(b, &p, &payload).await;
        calls.push(Call::new(
            "token, memory-cache hit",
            m,
            (0, 0),
            "no network call",
            "",
        ));
        p.stop().await;
        b.expire_token(OFFICIAL_ACCOUNT_APPID).await;
        // Tokens issued now live just past the 10-minute refresh margin, so that this
        // container sees its own token go stale within seconds.
        b.sim.state.lock().unwrap().config.token_ttl = 602;
        let since = snapshot(b).await;
        let p =
            FunctionProcess::spawn(&binary("authorizer-token"), &[], &b.env, "authorizer-token")
                .await;
        let m = measure_since(b, &p, &payload, since).await;
        calls.push(Call::new("token refresh (cold container)", m, (1, 4),
            "api_authorizer_token; DynamoDB: the data key's lookup at start-up, read, take the lease (it returns the item), read the component token, one conditional write of token and refresh token",
            "a container that has never seen the token reads it first (usually it is fresh, and that read is all a request costs); the component token is read once per container and then served from memory"));
        // The same container once its token went stale: it knows a refresh is due and takes
        // the lease straight away.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let m = measure(b, &p, &payload).await;
        b.sim.state.lock().unwrap().config.token_ttl = 7200;
        calls.push(Call::new("token refresh (warm container)", m, (1, 2),
            "api_authorizer_token; DynamoDB: take the lease (it returns the item), one conditional write of token and refresh token",
            ""));
        p.stop().await;
    }
    {
        let p = FunctionProcess::spawn(&binary("authorizer-info"), &[], &b.env, "authorizer-info")
            .await;
        let live = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "max_age_seconds": 0});
        p.invoke(&live).await;
        let m = measure(b, &p, &live).await;
        calls.push(Call::new("info, live (warm)", m, (1, 2),
            "api_get_authorizer_info; DynamoDB: read the record (status, permissions), save the snapshot",
            "the snapshot write records the answer and when it was fetched, which is what lets later callers that pass max_age_seconds skip WeChat"));
        let no_snapshot = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "snapshot": false});
        let m = measure(b, &p, &no_snapshot).await;
        calls.push(Call::new(
            "info, live, snapshot: false (warm)",
            m,
            (1, 1),
            "api_get_authorizer_info; DynamoDB: read the record",
            "",
        ));
        let snapshot = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "max_age_seconds": 3600});
        let m = measure(b, &p, &snapshot).await;
        calls.push(Call::new(
            "info, snapshot (warm)",
            m,
            (0, 1),
            "one read",
            "",
        ));
        p.stop().await;
    }
    {
        let p = FunctionProcess::spawn(&binary("events"), &[], &b.env, "events").await;
        let push = b.ticket_push();
        p.invoke(&push).await;
        let push = b.ticket_push();
        let m = measure(b, &p, &push).await;
        calls.push(Call::new(
            "ticket push (warm)",
            m,
            (0, 1),
            "one conditional write (older tickets never win)",
            "",
        ));
        p.stop().await;
    }
    {
        let p =
            FunctionProcess::spawn(&binary("authorizer-api"), &[], &b.env, "authorizer-api").await;
        let call = json!({"authorizer_appid": OFFICIAL_ACCOUNT_APPID, "path": "/cgi-bin/get_current_selfmenu_info", "method": "GET"});
        p.invoke(&call).await;
        let m = measure(b, &p, &call).await;
        calls.push(Call::new(
            "authorizer-api, token in memory (warm)",
            m,
            (1, 0),
            "the call itself; no DynamoDB request",
            "",
        ));
        b.sim
            .state
            .lock()
            .unwrap()
            .refuse_authorizer_token(OFFICIAL_ACCOUNT_APPID);
        let m = measure(b, &p, &call).await;
        calls.push(Call::new("authorizer-api, token refused once (warm)", m, (3, 3),
            "the refused call, api_authorizer_token, the call again; DynamoDB: read whether another instance already replaced the token, claim this minute's renewal (conditional put), drop the refused token (conditional), take the lease (it returns the item), write the new token; the first refresh in a container also reads the component token",
            "the first read lets a refusal use another instance's newer token without renewing, and the claim bounds refusal-driven renewals to one per token per minute across instances; after dropping the refused token the container reads the authorizer item once before taking the lease, and a container that has not used the component token yet reads it once (then it is in memory); taking the lease straight after the drop would save that read"));
        p.stop().await;
    }
    writeln!(report.out, "\n## Calls per operation\n\nCounted, not timed: WeChat calls at the simulator, DynamoDB requests at a counting proxy in front of DynamoDB Local. The minimum is what the protocol allows for the operation with this design's guarantees.\n\n| operation | WeChat calls | minimum | DynamoDB requests | minimum | what they are |\n|---|---|---|---|---|---|").unwrap();
    for c in &calls {
        writeln!(
            report.out,
            "| {} | {} | {} | {} ({}) | {} | {} |",
            c.op, c.wechat, c.wechat_min, c.dynamo, c.kinds, c.dynamo_min, c.what
        )
        .unwrap();
        if c.wechat > c.wechat_min || c.dynamo > c.dynamo_min {
            report.notes.push(format!(
                "{}: {} WeChat call(s) and {} DynamoDB request(s) against a minimum of {} and {}. Why, and what would fix it: {}.",
                c.op, c.wechat, c.dynamo, c.wechat_min, c.dynamo_min,
                if c.why.is_empty() { "not analysed" } else { c.why }
            ));
        }
    }
}
