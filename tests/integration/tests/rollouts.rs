//! Rollouts end to end, on DynamoDB Local, SQS and EventBridge on moto, against the simulator:
//! the rollout queue and the audit rule played as Lambda plays them (`integration_tests::lanes`),
//! audit results pushed by the simulator to `messages`, published to the bus, delivered back.

use integration_tests::bus::Bus;
use integration_tests::lanes::Lanes;
use integration_tests::stack::{stack_with, Stack};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use wxopen::clock::Timestamp;
use wxopen_models::AuthorizationCode;

struct Fleet {
    s: Stack,
    bus: Bus,
    lanes: Lanes,
    apps: Vec<String>,
}

/// The stack with `n` seeded Mini Programs authorized (each bound to `customer-<i>`).
async fn fleet(n: usize) -> Fleet {
    let bus = Bus::create().await;
    let lanes = Lanes::create(&bus).await;
    let s = stack_with(&[
        ("EVENT_BUS_NAME", bus.name.as_str()),
        ("ROLLOUT_QUEUE_URL", lanes.work_url.as_str()),
        ("ROLLOUT_RETRY_SECONDS", "1"),
        ("ROLLOUT_QUOTA_WAIT_SECONDS", "1"),
        ("ROLLOUT_AUDIT_POLL_SECONDS", "1"),
        ("ROLLOUT_STUCK_SECONDS", "1"),
    ])
    .await;
    let (_, seeded) = s
        .post_json(
            &format!("{}/_sim/seed", s.sim.base_url),
            &json!({"mini_programs": n}),
        )
        .await;
    let mut apps = Vec::new();
    for (i, app) in seeded["mini_programs"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let code = AuthorizationCode::new(app["code"].as_str().unwrap());
        let ext = format!("customer-{i}");
        let exchange = s
            .services
            .exchanger
            .exchange(&code, Timestamp::now(), Some(&ext));
        exchange.await.unwrap();
        apps.push(app["appid"].as_str().unwrap().to_owned());
    }
    Fleet {
        s,
        bus,
        lanes,
        apps,
    }
}

impl Fleet {
    async fn invoke(&self, payload: Value) -> Result<Value, String> {
        rollouts::handler::handle(&self.s.services.rollouts, payload)
            .await
            .map_err(|e| format!("{}: {}", e.code, e.message))
    }

    async fn sim(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.s.sim.base_url);
        let (status, answer) = self.s.post_json(&url, &body).await;
        assert!(status < 300, "{path}: {status} {answer}");
        answer
    }

    async fn code(&self) -> Value {
        self.s
            .get_json(&format!("{}/_sim/code", self.s.sim.base_url))
            .await
    }

    async fn status(&self, id: &str) -> Value {
        self.invoke(json!({"op": "status", "rollout_id": id}))
            .await
            .unwrap()
    }

    /// Pumps the lanes and runs the sweep until `done` holds for the rollout's status; `each`
    /// runs every round (WeChat deciding audits, granting quota).
    async fn drive(
        &self,
        id: &str,
        each: impl AsyncFn(&Fleet),
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut last_sweep = Instant::now();
        loop {
            let handled = self.lanes.pump(|p| self.invoke(p)).await;
            each(self).await;
            if last_sweep.elapsed() > Duration::from_millis(1500) {
                self.invoke(json!({"job": "sweep"})).await.unwrap();
                last_sweep = Instant::now();
            }
            let status = self.status(id).await;
            if done(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the rollout did not get there: {status}"
            );
            if handled == 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

fn create(targets: Value, release: Value, max_in_audit: u32) -> Value {
    json!({"op": "create", "template_id": 7, "user_version": "2.0.0", "user_desc": "spring menu",
           "ext_json": {"extAppid": "{{authorizer_appid}}", "ext": {"shop": "{{ext}}"}},
           "targets": targets, "audit": {"version_desc": "spring menu"}, "release": release,
           "max_in_audit": max_in_audit})
}

fn per_app(code: &Value, name: &str) -> BTreeMap<String, u64> {
    let apps = code["apps"].as_object().unwrap();
    apps.iter()
        .map(|(appid, app)| (appid.clone(), app["done"][name].as_u64().unwrap_or(0)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_mini_programs_are_released_within_a_quota_of_five_and_three_in_audit() {
    let f = fleet(20).await;
    f.sim("/_sim/code/settings", json!({"quota": 5})).await;
    let created = f
        .invoke(create(json!("all"), json!("auto"), 3))
        .await
        .unwrap();
    assert_eq!(created["targets"], 20);
    let id = created["rollout_id"].as_str().unwrap().to_owned();
    // Every message delivered twice: nothing is committed or submitted twice.
    let work: Vec<wxopen::queue::Work> = f
        .apps
        .iter()
        .map(|a| wxopen::queue::Work {
            rollout_id: id.clone(),
            authorizer_appid: wxopen_models::AuthorizerAppid::parse(a).unwrap(),
        })
        .collect();
    let queue = wxopen::queue::SqsQueue::from_sdk(
        &integration_tests::dynamo::sdk_config().await,
        &f.lanes.work_url,
    );
    wxopen::queue::WorkQueue::send(&queue, &work, Duration::ZERO)
        .await
        .unwrap();
    let granted = std::sync::atomic::AtomicU64::new(5);
    let done = f
        .drive(
            &id,
            async |f: &Fleet| {
                // WeChat approves what is in review, and grants five more audits once spent.
                f.sim("/_sim/audits/decide", json!({"result": "success"}))
                    .await;
                if f.code().await["rest"] == 0 {
                    f.sim("/_sim/code/settings", json!({"quota": 5})).await;
                    granted.fetch_add(5, std::sync::atomic::Ordering::SeqCst);
                }
            },
            |s| s["state"] == "finished",
        )
        .await;
    assert_eq!(done["counts"], json!({"released": 20}), "{done}");
    let code = f.code().await;
    assert!(code["max_in_review"].as_u64().unwrap() <= 3, "{code}");
    for name in ["commit", "submit_audit", "release"] {
        let counts = per_app(&code, name);
        assert_eq!(counts.len(), 20);
        assert!(counts.values().all(|n| *n == 1), "{name}: {counts:?}");
    }
    let submissions: u64 = per_app(&code, "submit_audit").values().sum();
    assert!(submissions <= granted.load(std::sync::atomic::Ordering::SeqCst));
    // Each target's events, in order, and the rollout's end.
    let events = f.bus.received(20 * 4 + 1, Duration::from_secs(10)).await;
    let mut by_target: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e["detail-type"] == "Rollout Target Updated")
    {
        let d = &e["detail"];
        let pair = (
            d["previous"].as_str().unwrap().to_owned(),
            d["state"].as_str().unwrap().to_owned(),
        );
        by_target
            .entry(d["authorizer_appid"].as_str().unwrap().to_owned())
            .or_default()
            .push(pair);
    }
    assert_eq!(by_target.len(), 20);
    let expected: Vec<(String, String)> = [
        ("pending", "committed"),
        ("committed", "in_audit"),
        ("in_audit", "approved"),
        ("approved", "released"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    for (appid, seen) in &by_target {
        assert_eq!(seen, &expected, "{appid}");
    }
    let finished: Vec<&Value> = events
        .iter()
        .filter(|e| e["detail-type"] == "Rollout Finished")
        .collect();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["detail"]["counts"], json!({"released": 20}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_push_is_polled_a_rejection_keeps_its_reason_and_61039_waits() {
    let f = fleet(3).await;
    // WeChat's code check takes a moment after each commit: the first submission waits.
    f.sim(
        "/_sim/code/settings",
        json!({"quota": 10, "code_check_ms": 1200}),
    )
    .await;
    let created = f
        .invoke(create(json!(f.apps.clone()), json!("auto"), 3))
        .await
        .unwrap();
    let id = created["rollout_id"].as_str().unwrap().to_owned();
    let (lost, rejected) = (f.apps[0].clone(), f.apps[1].clone());
    let done = f
        .drive(
            &id,
            async |f: &Fleet| {
                f.sim(
                    "/_sim/audits/decide",
                    json!({"appid": lost, "result": "success", "push": false}),
                )
                .await;
                f.sim(
                    "/_sim/audits/decide",
                    json!({"appid": rejected, "result": "fail", "reason": "功能不完整<br>请补充"}),
                )
                .await;
                f.sim(
                    "/_sim/audits/decide",
                    json!({"appid": f.apps[2], "result": "success"}),
                )
                .await;
            },
            |s| s["state"] == "finished",
        )
        .await;
    assert_eq!(
        done["counts"],
        json!({"released": 2, "rejected": 1}),
        "{done}"
    );
    let targets = done["targets"].as_array().unwrap();
    let of = |appid: &str| {
        targets
            .iter()
            .find(|t| t["authorizer_appid"] == appid)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&rejected)["reason"], "功能不完整\n请补充");
    assert_eq!(
        of(&lost)["state"],
        "released",
        "found by polling get_auditstatus"
    );
    let code = f.code().await;
    assert!(
        code["pushes"][1].as_u64().unwrap() >= 1,
        "a push was lost: {code}"
    );
    assert!(per_app(&code, "commit").values().all(|n| *n == 1));
    assert!(per_app(&code, "submit_audit").values().all(|n| *n == 1));
    let refused = f.s.calls("account:wxa/submit_audit").await;
    assert!(
        refused > 3,
        "61039 answered before the code check finished ({refused} calls)"
    );
}
