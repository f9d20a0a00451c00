//! Rollouts end to end, on DynamoDB Local, SQS and EventBridge on moto, against the simulator:
//! the rollout queue and the audit rule played as Lambda plays them (`integration_tests::lanes`),
//! audit results pushed by the simulator to `messages`, published to the bus, delivered back.

use integration_tests::bus::Bus;
use integration_tests::lanes::Lanes;
use integration_tests::stack::{stack_with, Stack};
use integration_tests::watch::{warm, watch_vars, Watch};
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
    /// `rollouts` and `messages` under `cargo lambda watch`, when the fleet runs there.
    watch: Option<Watch>,
}

/// The stack with `n` seeded Mini Programs authorized (each bound to `customer-<i>`).
async fn fleet(n: usize) -> Fleet {
    fleet_on(n, false).await
}

/// The same, with `rollouts` and `messages` (where WeChat pushes audit results) run by
/// `cargo lambda watch` when `watched`, on the same table, key, queue and bus.
async fn fleet_on(n: usize, watched: bool) -> Fleet {
    let bus = Bus::create().await;
    let lanes = Lanes::create(&bus).await;
    let key = integration_tests::kms::create_key().await;
    let vars = [
        ("EVENT_BUS_NAME", bus.name.as_str()),
        ("ROLLOUT_QUEUE_URL", lanes.work_url.as_str()),
        ("ROLLOUT_RETRY_SECONDS", "1"),
        ("ROLLOUT_QUOTA_WAIT_SECONDS", "1"),
        ("ROLLOUT_AUDIT_POLL_SECONDS", "1"),
        ("ROLLOUT_STUCK_SECONDS", "1"),
        ("TOKEN_KMS_KEY_ID", key.as_str()),
    ];
    let s = stack_with(&vars).await;
    let watch = match watched {
        false => None,
        true => {
            let endpoints: Vec<(&str, String)> =
                ["AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_EVENTBRIDGE"]
                    .into_iter()
                    .map(|n| (n, std::env::var(n).expect("make test sets it")))
                    .collect();
            let mut extra: Vec<(&str, &str)> = vars
                .iter()
                .filter(|(n, _)| *n != "TOKEN_KMS_KEY_ID")
                .copied()
                .collect();
            extra.extend(endpoints.iter().map(|(n, v)| (*n, v.as_str())));
            let all = watch_vars(s.env_store.table(), &s.sim.base_url, &key, &extra);
            let watch = tokio::task::spawn_blocking(move || Watch::start(&all))
                .await
                .unwrap();
            let messages = format!("http://127.0.0.1:{}/lambda-url/messages", watch.port);
            warm(&format!("{messages}/wx570bc396a51b8ff8")).await;
            watch
                .invoke_api("rollouts", &json!({"job": "sweep"}))
                .await
                .expect("rollouts answers");
            // WeChat pushes audit results to the watched message URL.
            s.sim.state.lock().unwrap().config.messages_url = Some(format!("{messages}/$APPID$"));
            Some(watch)
        }
    };
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
        watch,
    }
}

impl Fleet {
    async fn invoke(&self, payload: Value) -> Result<Value, String> {
        if let Some(watch) = &self.watch {
            return watch.invoke_api("rollouts", &payload).await.map_err(|e| {
                let error: Value = serde_json::from_str(&e).unwrap_or_default();
                let code = error["errorType"].as_str().unwrap_or("").to_owned();
                format!("{code}: {e}")
            });
        }
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
async fn under_watch_twenty_mini_programs_are_released_within_a_quota_of_five_and_three_in_audit() {
    let f = fleet_on(20, true).await;
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

/// Every audit in review approved, its push sent.
async fn approve_all(f: &Fleet) {
    f.sim("/_sim/audits/decide", json!({"result": "success"}))
        .await;
}

fn state_of(status: &Value, appid: &str) -> String {
    let targets = status["targets"].as_array().unwrap();
    let target = targets
        .iter()
        .find(|t| t["authorizer_appid"] == appid)
        .unwrap();
    target["state"].as_str().unwrap().to_owned()
}

async fn created(f: &Fleet, targets: &[&String], release: Value) -> String {
    let answer = f.invoke(create(json!(targets), release, 3)).await.unwrap();
    answer["rollout_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_and_gray_releases_cancel_and_rollback_each_do_what_they_say() {
    let f = fleet(5).await;
    let a = &f.apps;
    // The template library through component-api, against WeChat's side.
    let calls = &f.s.services.component_calls;
    let library = |payload: Value| async move {
        let resp =
            component_api::handler::handle(calls, integration_tests::functions::direct(payload))
                .await
                .unwrap();
        integration_tests::functions::body_json(&resp)
    };
    let drafts = library(json!({"op": "gettemplatedraftlist"})).await;
    assert_eq!(drafts["draft_list"].as_array().unwrap().len(), 2);
    library(json!({"op": "addtotemplate", "draft_id": 1})).await;
    let templates = library(json!({"op": "gettemplatelist"})).await;
    let ids: Vec<i64> = templates["template_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["template_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [7, 8]);
    library(json!({"op": "deletetemplate", "template_id": 8})).await;
    let unknown = f.invoke(json!({"op": "create", "template_id": 8, "user_version": "1", "user_desc": "d", "targets": [a[0]], "release": "auto"})).await;
    assert!(unknown.unwrap_err().starts_with("unknown_template"));
    // Cancel: with no quota the targets wait committed; cancelled, nothing is submitted.
    f.sim("/_sim/code/settings", json!({"quota": 0})).await;
    let cancelled = created(&f, &[&a[3], &a[4]], json!("auto")).await;
    f.drive(
        &cancelled,
        async |_: &Fleet| {},
        |s| s["counts"] == json!({"committed": 2}),
    )
    .await;
    let answer = f
        .invoke(json!({"op": "cancel", "rollout_id": cancelled}))
        .await
        .unwrap();
    assert_eq!(answer["cancelled"], 2);
    let status = f.status(&cancelled).await;
    assert_eq!(
        (status["state"].as_str(), &status["counts"]),
        (Some("cancelled"), &json!({"cancelled": 2}))
    );
    f.sim("/_sim/code/settings", json!({"quota": 10})).await;
    f.invoke(json!({"job": "sweep"})).await.unwrap();
    assert_eq!(per_app(&f.code().await, "submit_audit")[a[3].as_str()], 0);

    // Manual: approved targets wait for release, one by one or all.
    let manual = created(&f, &[&a[0], &a[1]], json!("manual")).await;
    f.drive(&manual, approve_all, |s| {
        s["counts"] == json!({"approved": 2})
    })
    .await;
    let one = json!({"op": "release", "rollout_id": manual, "appids": [a[0]]});
    assert_eq!(f.invoke(one).await.unwrap()["targets"], 1);
    let status = f
        .drive(&manual, approve_all, |s| {
            s["counts"] == json!({"approved": 1, "released": 1})
        })
        .await;
    assert_eq!(state_of(&status, &a[0]), "released");
    f.invoke(json!({"op": "release", "rollout_id": manual}))
        .await
        .unwrap();
    f.drive(&manual, approve_all, |s| s["state"] == "finished")
        .await;

    // Gray [10, 100]: 10 % first, then everyone on the next release.
    let gray = created(&f, &[&a[2]], json!({"gray": [10, 100]})).await;
    f.drive(&gray, approve_all, |s| s["counts"] == json!({"gray": 1}))
        .await;
    assert_eq!(f.code().await["apps"][a[2].as_str()]["gray"], 10);
    f.invoke(json!({"op": "release", "rollout_id": gray}))
        .await
        .unwrap();
    f.drive(&gray, approve_all, |s| {
        s["counts"] == json!({"released": 1})
    })
    .await;
    let code = f.code().await;
    assert_eq!(code["apps"][a[2].as_str()]["gray"], Value::Null);
    assert_eq!(code["apps"][a[2].as_str()]["released"], "2.0.0");

    // Rollback: the released version reverted.
    let back = json!({"op": "rollback", "rollout_id": manual, "appids": [a[0]]});
    assert_eq!(f.invoke(back).await.unwrap()["targets"], 1);
    let status = f
        .drive(
            &manual,
            async |_: &Fleet| {},
            |s| s["counts"] == json!({"released": 1, "rolled_back": 1}),
        )
        .await;
    assert_eq!(state_of(&status, &a[0]), "rolled_back");
    assert_eq!(
        per_app(&f.code().await, "revertcoderelease")[a[0].as_str()],
        1
    );
}

/// The target as the rollouts store has it, with `call` announced (and its audit slot taken),
/// as a worker leaves it when it stops between the write and its settling.
async fn crashed_during_submit(f: &Fleet, id: &str, appid: &str, at: Timestamp) {
    use wxopen::store::RolloutStore;
    let app = wxopen_models::AuthorizerAppid::parse(appid).unwrap();
    let target = f.s.env_store.target(id, &app).await.unwrap().unwrap();
    assert_eq!(
        target.state,
        wxopen_models::rollouts::TargetState::Committed
    );
    let announced = wxopen::store::StoredTarget {
        call: Some((wxopen::store::Call::Submit, at)),
        version: target.version + 1,
        ..target
    };
    assert!(f.s.env_store.write_target(&announced).await.unwrap());
    assert!(f.s.env_store.claim_audit_slot(id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_submits_nothing_twice_and_86002_fails_once_without_retrying() {
    let f = fleet(2).await;
    let (before_call, after_call) = (f.apps[0].clone(), f.apps[1].clone());
    f.sim("/_sim/code/settings", json!({"quota": 0})).await;
    let id = created(&f, &[&before_call, &after_call], json!("auto")).await;
    f.drive(
        &id,
        async |_: &Fleet| {},
        |s| s["counts"] == json!({"committed": 2}),
    )
    .await;
    f.sim("/_sim/code/settings", json!({"quota": 5})).await;
    // One stopped after announcing its submission, before sending it; the other after WeChat
    // took it, before writing the answer down.
    crashed_during_submit(&f, &id, &before_call, Timestamp::now()).await;
    let sent = json!({"authorizer_appid": after_call, "path": "/wxa/submit_audit", "body": {"version_desc": "spring menu"}});
    let app = wxopen_models::AuthorizerAppid::parse(&after_call).unwrap();
    let call: wxopen_models::calls::ApiCall = serde_json::from_value(sent).unwrap();
    f.s.services
        .authorizer_calls
        .call(&app, &call)
        .await
        .unwrap();
    crashed_during_submit(&f, &id, &after_call, Timestamp::now()).await;
    let queue = wxopen::queue::SqsQueue::from_sdk(
        &integration_tests::dynamo::sdk_config().await,
        &f.lanes.work_url,
    );
    let work: Vec<wxopen::queue::Work> = [&before_call, &after_call]
        .iter()
        .map(|a| wxopen::queue::Work {
            rollout_id: id.clone(),
            authorizer_appid: wxopen_models::AuthorizerAppid::parse(a.as_str()).unwrap(),
        })
        .collect();
    wxopen::queue::WorkQueue::send(&queue, &work, Duration::ZERO)
        .await
        .unwrap();
    f.drive(&id, approve_all, |s| s["state"] == "finished")
        .await;
    let submitted = per_app(&f.code().await, "submit_audit");
    assert_eq!(
        (
            submitted[before_call.as_str()],
            submitted[after_call.as_str()]
        ),
        (1, 1)
    );

    // A Mini Program registered a moment ago has no name: 86002 ends it, with what to do.
    let details: wxopen_models::registration::RegistrationDetails =
        serde_json::from_value(json!({"kind": "beta", "name": "Trial", "openid": "o-1"})).unwrap();
    f.s.services
        .component_calls
        .registrations()
        .register("customer-new", &details)
        .await
        .unwrap();
    let task =
        f.s.get_json(&format!("{}/_sim/registrations", f.s.sim.base_url))
            .await[0]["id"]
            .clone();
    let done = f
        .sim("/_sim/registrations/complete", json!({"id": task}))
        .await;
    let unnamed = done["appid"].as_str().unwrap().to_owned();
    let id = created(&f, &[&unnamed], json!("auto")).await;
    let status = f
        .drive(&id, approve_all, |s| s["state"] == "finished")
        .await;
    let target = &status["targets"][0];
    assert_eq!(
        (target["state"].as_str(), target["errcode"].as_i64()),
        (Some("failed"), Some(86002))
    );
    assert!(target["reason"]
        .as_str()
        .unwrap()
        .contains("name, avatar or description"));
    let tries = f.s.calls("account:wxa/submit_audit").await;
    f.invoke(json!({"job": "sweep"})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    f.lanes.pump(|p| f.invoke(p)).await;
    assert_eq!(
        f.s.calls("account:wxa/submit_audit").await,
        tries,
        "no retry loop"
    );
}
